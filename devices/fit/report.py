"""Result records of the calibration fits (frozen, JSON-ready)."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np

__all__ = ["Estimate", "FileFit", "THREE_SIGMA_COVERAGE"]

THREE_SIGMA_COVERAGE = 0.9973002039367398  # two-sided coverage of +-3 standard errors of a Gaussian


@dataclasses.dataclass(frozen=True)
class Estimate:
    """A fitted number with its standard error.

    Spreads estimated from few groups (4 arrays, a few dozen devices) have skewed sampling laws, for which
    +-3 delta-method standard errors cover far less than 99.73 %. Such estimates also carry the exact
    (chi-square or profile-likelihood) interval of the same coverage; for Gaussian estimates the interval is
    value +- 3 standard errors.

    Attributes:
        value: the estimate (SI units).
        standard_error: its standard error (same unit); NaN when not estimable.
        unit: unit label.
        interval: (low, high) interval of 99.73 % coverage, the "3 sigma" interval.
    """

    value: float
    standard_error: float
    unit: str = ""
    interval: tuple[float, float] | None = None

    def z_score(self, truth: float) -> float:
        """(estimate - truth) / standard error."""
        return (self.value - truth) / self.standard_error if self.standard_error > 0 else math.inf

    @property
    def three_sigma_interval(self) -> tuple[float, float]:
        """The 99.73 % interval: the exact one where known, else value +- 3 standard errors."""
        if self.interval is not None:
            return self.interval
        return (self.value - 3 * self.standard_error, self.value + 3 * self.standard_error)

    def covers(self, truth: float) -> bool:
        """Whether ``truth`` lies in the 3-sigma interval."""
        low, high = self.three_sigma_interval
        return low <= truth <= high

    def to_dict(self) -> dict[str, Any]:
        low, high = self.three_sigma_interval
        return {"value": self.value, "standard_error": self.standard_error, "unit": self.unit,
                "interval_3sigma": [low, high]}


@dataclasses.dataclass(frozen=True)
class FileFit:
    """The fit of one calibration file.

    Attributes:
        file: file name.
        method: the estimator, in words.
        estimates: fitted card parameters keyed by dotted card field (e.g. ``"p_bit.v50_V"``), plus derived
            figures under other names.
        goodness: goodness-of-fit figures (statistic, degrees of freedom, p-value, ...).
        details: anything else worth keeping (per-device estimates, consistency checks).
    """

    file: str
    method: str
    estimates: dict[str, Estimate]
    goodness: dict[str, Any]
    details: dict[str, Any] = dataclasses.field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "method": self.method,
                "estimates": {name: e.to_dict() for name, e in self.estimates.items()},
                "goodness": _plain(self.goodness), "details": _plain(self.details)}


def _plain(value):
    """Convert numpy scalars/arrays inside nested containers to plain Python for JSON."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value
