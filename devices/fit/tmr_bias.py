"""Least-squares fit of the TMR bias law TMR(V) = TMR0 / (1 + (V / V_h)^2) to bias sweeps.

Each device keeps its own TMR0 (devices differ); V_h is shared. Points are weighted by the inverse variance
of a TMR computed from two reads, proportional to (1 + TMR)^2. The population TMR0 is the mean of the device
values, with the standard error of that mean (it contains the device spread, as it must).
"""

from __future__ import annotations

import math

import numpy as np
import scipy.optimize
import scipy.stats

from devices.fit.report import Estimate, FileFit

__all__ = ["fit_tmr_bias"]


def fit_tmr_bias(table: dict[str, np.ndarray], *, file: str = "tmr_bias.csv") -> FileFit:
    """Fit per-device TMR0 and a shared half-bias V_h.

    Args:
        table: columns device_id, bias_V, resistance_p_ohm, resistance_ap_ohm.
        file: name used in the report.
    """
    device_ids, index = np.unique(table["device_id"], return_inverse=True)
    bias = table["bias_V"]
    tmr = table["resistance_ap_ohm"] / table["resistance_p_ohm"] - 1
    n_devices = device_ids.size
    if np.unique(np.abs(bias)).size < 2:
        raise ValueError(f"{file}: column 'bias_V': need at least two distinct |bias| values to fit V_h")

    def model(theta: np.ndarray) -> np.ndarray:
        return theta[index] / (1 + (bias / theta[n_devices]) ** 2)

    start = np.array([float(tmr[index == d].max()) for d in range(n_devices)]
                     + [float(np.percentile(np.abs(bias[bias != 0]), 75)) if np.any(bias != 0) else 0.5])
    weights = np.ones_like(tmr)
    for _ in range(3):  # iteratively reweighted: the variance depends on the fitted TMR
        result = scipy.optimize.least_squares(lambda theta, w=weights: (model(theta) - tmr) * w, start)
        start = result.x
        weights = 1 / (1 + model(start))
    residual = (model(start) - tmr) * weights
    dof = tmr.size - start.size
    scale = float(residual @ residual / dof)
    jacobian = result.jac
    covariance = np.linalg.pinv(jacobian.T @ jacobian) * scale
    errors = np.sqrt(np.diag(covariance))
    device_tmr0 = start[:n_devices]
    half_bias = abs(float(start[n_devices]))
    estimates = {
        "data_bit.tmr_half_bias_V": Estimate(half_bias, float(errors[n_devices]), "V"),
        "tmr0_standalone": Estimate(float(device_tmr0.mean()),
                                    float(device_tmr0.std(ddof=1) / math.sqrt(n_devices)) if n_devices > 1
                                    else float(errors[0]), ""),
    }
    # Normalised residuals should be standard normal if the law and the noise model hold.
    normalised = residual / math.sqrt(scale)
    goodness = {"residual_sd_tmr": math.sqrt(scale), "dof": int(dof),
                "normality_p": float(scipy.stats.shapiro(normalised).pvalue) if normalised.size >= 3 else math.nan}
    details = {"device_tmr0": {str(d): float(v) for d, v in zip(device_ids, device_tmr0, strict=True)},
               "device_tmr0_standard_error": errors[:n_devices].tolist()}
    return FileFit(file=file, method="weighted least squares, per-device TMR0, shared V_h",
                   estimates=estimates, goodness=goodness, details=details)
