"""The closed-form junction laws, written once, on plain numbers or tensors alike (no torch import).

    area = pi (d / 2)^2                        (pillar cross-section)
    R_P = RA / area                            (median parallel-state resistance)
    TMR(V) = TMR0 / (1 + (V / V_h)^2)          (bias dependence of the tunnelling magnetoresistance)

The device models (:mod:`devices.mtj`, the card) and the energy model (``cim_emu.energy``, which runs without
torch) both call these functions, so the laws cannot drift apart. Every function is pure arithmetic: floats in,
float out; tensors (or numpy arrays) in, the same type out.
"""

from __future__ import annotations

import math

__all__ = ["parallel_resistance_ohm", "pillar_area_m2", "tmr_at_bias_V"]


def pillar_area_m2(diameter_m):
    """Cross-section pi (d / 2)^2 (m^2) of a circular pillar of diameter ``diameter_m`` (m)."""
    return math.pi * (diameter_m / 2) ** 2


def parallel_resistance_ohm(resistance_area_ohm_m2, area_m2):
    """Median parallel-state resistance R_P = RA / area (ohm), RA in ohm m^2, area in m^2."""
    return resistance_area_ohm_m2 / area_m2


def tmr_at_bias_V(tmr0, tmr_half_bias_V, bias_V):
    """TMR (fraction) at a bias (V): TMR0 / (1 + (V / V_h)^2), with the zero-bias TMR0 and the half-bias V_h (V)."""
    return tmr0 / (1.0 + (bias_V / tmr_half_bias_V) ** 2)
