"""Write-cycle endurance: power-law conductance drift and Weibull dielectric breakdown."""

from __future__ import annotations

import math

from devices.card import EnduranceParams

__all__ = ["conductance_drift", "broken_fraction", "endurance_cycles"]


def conductance_drift(params: EnduranceParams, cycles: float) -> float:
    """Relative conductance change after ``cycles`` write cycles (fraction)."""
    if cycles < 0:
        raise ValueError(f"cycles must be >= 0, got {cycles}")
    return params.drift_at_reference * (cycles / params.reference_cycles) ** params.drift_exponent


def broken_fraction(params: EnduranceParams, cycles: float) -> float:
    """Fraction of devices whose barrier has broken down after ``cycles`` (Weibull)."""
    if cycles < 0:
        raise ValueError(f"cycles must be >= 0, got {cycles}")
    return -math.expm1(-((cycles / params.breakdown_scale_cycles) ** params.breakdown_shape))


def endurance_cycles(params: EnduranceParams) -> float:
    """Cycles until the drift criterion or the failure criterion is first reached."""
    drift_limit = (math.inf if params.drift_at_reference == 0 else params.reference_cycles
                   * (params.drift_criterion / params.drift_at_reference) ** (1 / params.drift_exponent))
    failure_limit = params.breakdown_scale_cycles * (-math.log1p(-params.failure_criterion)) ** (
        1 / params.breakdown_shape)
    return min(drift_limit, failure_limit)
