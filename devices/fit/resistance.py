"""Resistance spreads from repeated reads of devices in several arrays (lognormal variance components).

Model for ln R of array a, device d, state s, read r:
    ln R_P  = mu + alpha_a + delta_ad + eps,          ln R_AP = ln R_P + ln(1 + tau_ad) + eps'
with alpha_a ~ N(0, sigma_array^2), delta_ad ~ N(0, sigma_device^2), read noise eps ~ N(0, sigma_read^2) and the
device TMR tau_ad ~ N(TMR, sigma_tmr^2). Estimators are the classical ANOVA (method-of-moments) ones, exact
for balanced designs, with delta-method standard errors from the chi-square laws of the mean squares.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.stats

from devices.fit.report import THREE_SIGMA_COVERAGE, Estimate, FileFit

__all__ = ["fit_resistance"]


def _read_noise(log_r: np.ndarray, groups: np.ndarray) -> tuple[float, int]:
    """Pooled within-(device, state) variance of ln R over repeated reads, and its degrees of freedom."""
    _, inverse, counts = np.unique(groups, return_inverse=True, return_counts=True)
    means = np.bincount(inverse, weights=log_r) / counts
    squares = float(np.sum((log_r - means[inverse]) ** 2))
    dof = int(np.sum(counts - 1))
    return (squares / dof if dof > 0 else math.nan), dof


def _variance_interval(mean_square: float, dof: int, known_part: float = 0.0) -> tuple[float, float]:
    """Exact 99.73 % interval of a spread sigma where mean_square ~ (sigma^2 + known_part) chi2_dof / dof."""
    tail = (1 - THREE_SIGMA_COVERAGE) / 2
    upper_quantile, lower_quantile = scipy.stats.chi2.ppf([1 - tail, tail], dof)
    low = max(dof * mean_square / upper_quantile - known_part, 0.0)
    high = max(dof * mean_square / lower_quantile - known_part, 0.0)
    return math.sqrt(low), math.sqrt(high)


def _t_interval(value: float, error: float, dof: int) -> tuple[float, float]:
    """value +- t quantile * error at 99.73 % (a mean whose error comes from dof degrees of freedom)."""
    quantile = float(scipy.stats.t.ppf((1 + THREE_SIGMA_COVERAGE) / 2, dof))
    return value - quantile * error, value + quantile * error


def fit_resistance(table: dict[str, np.ndarray], *, area_m2: float, file: str = "resistance.csv") -> FileFit:
    """Fit median R_P (as RA), TMR at the read voltage and the spreads (see module docstring).

    Args:
        table: columns array_id, device_id, state, read_voltage_V, resistance_ohm.
        area_m2: pillar area used to turn R_P into the RA product.
        file: name used in the report.
    """
    read_voltages = np.unique(table["read_voltage_V"])
    # The read voltage with the most reads (rows at other voltages are reported as ignored).
    read_voltage = float(read_voltages[np.bincount(np.searchsorted(read_voltages, table["read_voltage_V"])).argmax()])
    keep = table["read_voltage_V"] == read_voltage
    arrays, devices_, states = table["array_id"][keep], table["device_id"][keep], table["state"][keep]
    log_r = np.log(table["resistance_ohm"][keep])
    keys = np.array([f"{a}\x00{d}" for a, d in zip(arrays, devices_, strict=True)])
    read_variance, read_dof = _read_noise(log_r, np.char.add(keys.astype(str), states.astype(str)))

    # Device means per state (reads averaged); n_reads is the harmonic mean count per device and state.
    device_keys = np.unique(keys)
    mean_p, mean_ap, array_of, reads = {}, {}, {}, []
    for key in device_keys:
        mask = keys == key
        for state, store in (("P", mean_p), ("AP", mean_ap)):
            chosen = mask & (states == state)
            if chosen.any():
                store[key] = float(log_r[chosen].mean())
                reads.append(int(chosen.sum()))
        array_of[key] = key.split("\x00")[0]
    n_reads = len(reads) / float(np.sum(1.0 / np.array(reads)))
    read_share = (read_variance if math.isfinite(read_variance) else 0.0) / n_reads

    # Within-array spread of device means (P state).
    array_ids = sorted(set(array_of[key] for key in mean_p))
    groups = [np.array([mean_p[key] for key in mean_p if array_of[key] == a]) for a in array_ids]
    within_dof = int(sum(g.size - 1 for g in groups))
    both = [key for key in mean_p if key in mean_ap]
    if within_dof < 1 or len(both) < 2:
        from devices.io import DataError

        raise DataError(file, f"at the read voltage {read_voltage:g} V (the one with most reads) fewer than two "
                              "devices of one array were read in both states; the spreads need at least two",
                        column="read_voltage_V")
    within = float(sum(np.sum((g - g.mean()) ** 2) for g in groups)) / within_dof
    device_variance = max(within - read_share, 0.0)
    device_sd = math.sqrt(device_variance)
    device_sd_error = math.sqrt(2 * within ** 2 / within_dof + 2 * read_share ** 2 / max(read_dof, 1)) / (
        2 * device_sd) if device_sd > 0 else math.nan

    # Between-array spread of array means.
    array_means = np.array([g.mean() for g in groups])
    n_per_array = len(array_means) / float(np.sum(1.0 / np.array([g.size for g in groups])))
    estimates: dict[str, Estimate] = {}
    grand_mean = float(array_means.mean())
    if array_means.size >= 2:
        between = float(array_means.var(ddof=1))
        between_dof = array_means.size - 1
        array_variance = max(between - within / n_per_array, 0.0)
        array_sd = math.sqrt(array_variance)
        array_sd_error = (math.sqrt(2 * between ** 2 / between_dof + 2 * (within / n_per_array) ** 2 / within_dof)
                          / (2 * array_sd)) if array_sd > 0 else math.nan
        estimates["data_bit.sigma_ln_r_array"] = Estimate(
            array_sd, array_sd_error, "", _variance_interval(between, between_dof, within / n_per_array))
        mean_error, mean_dof = math.sqrt(between / array_means.size), between_dof
    else:
        mean_error, mean_dof = math.sqrt(within / groups[0].size), within_dof
    r_p = math.exp(grand_mean)
    log_low, log_high = _t_interval(grand_mean, mean_error, mean_dof)
    estimates["data_bit.resistance_area_ohm_m2"] = Estimate(
        r_p * area_m2, r_p * area_m2 * mean_error, "ohm m^2",
        (math.exp(log_low) * area_m2, math.exp(log_high) * area_m2))
    estimates["r_p_median_ohm"] = Estimate(r_p, r_p * mean_error, "ohm", (math.exp(log_low), math.exp(log_high)))
    estimates["data_bit.sigma_ln_r_device"] = Estimate(device_sd, device_sd_error, "",
                                                       _variance_interval(within, within_dof, read_share))
    if math.isfinite(read_variance):
        read_sd = math.sqrt(read_variance)
        estimates["data_bit.read_noise_ln"] = Estimate(read_sd, read_sd / math.sqrt(2 * read_dof), "",
                                                       _variance_interval(read_variance, read_dof))

    # Device TMR at the read voltage from the two state means of each device.
    tmr = np.array([math.exp(mean_ap[key] - mean_p[key]) - 1 for key in both])
    tmr_mean = float(tmr.mean())
    tmr_variance = float(tmr.var(ddof=1)) if tmr.size > 1 else math.nan
    # Each device TMR carries read noise of both state means: Var ~ (1 + TMR)^2 * 2 sigma_read^2 / n_reads.
    noise_share = (1 + tmr_mean) ** 2 * 2 * read_share
    tmr_sd = math.sqrt(max(tmr_variance - noise_share, 0.0)) if tmr.size > 1 else math.nan
    tmr_sd_error = (math.sqrt(2 * tmr_variance ** 2 / (tmr.size - 1)) / (2 * tmr_sd)) if tmr_sd and tmr_sd > 0 \
        else math.nan
    tmr_mean_error = math.sqrt(tmr_variance / tmr.size)
    estimates["tmr_at_read"] = Estimate(tmr_mean, tmr_mean_error, "",
                                        _t_interval(tmr_mean, tmr_mean_error, tmr.size - 1))
    estimates["data_bit.sigma_tmr_device"] = Estimate(tmr_sd, tmr_sd_error, "",
                                                      _variance_interval(tmr_variance, tmr.size - 1, noise_share))

    residual = np.concatenate([g - g.mean() for g in groups]) / math.sqrt(within)
    goodness = {
        "normality_of_ln_r_shapiro_p": _shapiro(residual),
        "n_arrays": len(array_ids), "n_devices": len(device_keys), "n_reads_per_device_state": n_reads,
        "read_dof": read_dof, "within_array_dof": within_dof,
    }
    details = {"read_voltage_V": read_voltage,
               "array_median_r_p_ohm": {a: math.exp(m) for a, m in zip(array_ids, array_means, strict=True)},
               "device_tmr": tmr.tolist(), "ignored_rows_other_read_voltage": int((~keep).sum())}
    return FileFit(file=file, method="lognormal variance components (ANOVA) with read-noise correction",
                   estimates=estimates, goodness=goodness, details=details)


def _shapiro(values: np.ndarray) -> float:
    from scipy import stats

    if values.size < 3:
        return math.nan
    return float(stats.shapiro(values[:5000]).pvalue)
