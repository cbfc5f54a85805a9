"""Statistics of measured differential-pair conductance states and their separation in sigma."""

from __future__ import annotations

import math

import numpy as np
import scipy.stats

from devices.fit.report import Estimate, FileFit
from devices.pair import margin_in_sigma

__all__ = ["fit_pair_conductance"]

_STATES = ("-1", "0", "+1")


def fit_pair_conductance(table: dict[str, np.ndarray], *, file: str = "pair_conductance.csv") -> FileFit:
    """Mean and spread of each state, and the smallest adjacent gap over the mean spread with its error.

    The margin's standard error comes from the delta method with kurtosis-corrected variances of the sample
    standard deviations.
    """
    means, sds, mean_errors, sd_errors, counts = [], [], [], [], []
    for state in _STATES:
        values = table["conductance_S"][table["state"] == state]
        n = values.size
        sd = float(values.std(ddof=1))
        kurtosis = float(scipy.stats.kurtosis(values)) if n > 3 else 0.0
        means.append(float(values.mean()))
        sds.append(sd)
        mean_errors.append(sd / math.sqrt(n))
        sd_errors.append(sd * math.sqrt(max(2 + kurtosis, 0.5) / (4 * n)))
        counts.append(n)
    margin = margin_in_sigma(tuple(means), tuple(sds))
    # Delta method on the adjacent pair that sets the margin.
    order = np.argsort(means)
    best, best_error = math.inf, math.nan
    for a, b in zip(order[:-1], order[1:], strict=True):
        gap, spread = means[b] - means[a], 0.5 * (sds[a] + sds[b])
        value = gap / spread
        if value < best:
            variance = (mean_errors[a] ** 2 + mean_errors[b] ** 2) / spread ** 2 + (
                gap / spread ** 2) ** 2 * 0.25 * (sd_errors[a] ** 2 + sd_errors[b] ** 2)
            best, best_error = value, math.sqrt(variance)
    estimates = {f"state_{s}_mean_S": Estimate(m, e, "S") for s, m, e in zip(_STATES, means, mean_errors,
                                                                            strict=True)}
    estimates.update({f"state_{s}_std_S": Estimate(v, e, "S") for s, v, e in zip(_STATES, sds, sd_errors,
                                                                                strict=True)})
    estimates["pair_margin_sigma"] = Estimate(margin, best_error, "sigma")
    normality = {s: float(scipy.stats.shapiro(table["conductance_S"][table["state"] == s][:5000]).pvalue)
                 for s in _STATES if counts[_STATES.index(s)] >= 3}
    return FileFit(file=file, method="sample moments per state; margin = min gap / mean of the two spreads",
                   estimates=estimates, goodness={"normality_p": normality, "n_per_state": dict(zip(_STATES, counts,
                                                                                                    strict=True))})
