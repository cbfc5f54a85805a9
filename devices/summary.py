"""Derived figures of a device card (what ``cim-emu device`` prints)."""

from __future__ import annotations

import dataclasses
import math

from devices.card import DeviceCard
from devices.endurance import endurance_cycles
from devices.mtj import conductance_levels, resistance_parallel_ohm, retention_time_s, tmr_at_bias
from devices.pair import pair_state_statistics
from devices.pbit import first_peak_width_s, switching_probability, voltage_at_probability, window_10_90_V

__all__ = ["DeviceSummary", "summarize"]


@dataclasses.dataclass(frozen=True)
class DeviceSummary:
    """Headline figures of a card (JSON keys are the field names; SI units, fractions for TMR).

    The switching figures (``v50_V``, ``window_10_90_V``, ``switching_probability_at_operating_point``) are taken
    at the card's operating pulse width, ``first_peak_s`` at its write voltage; ``operating_point`` says which.
    """

    tmr_at_read: float
    tmr_low_bias: float
    r_p_median_ohm: float
    r_ap_median_ohm: float
    v50_V: float
    window_10_90_V: float
    first_peak_s: float
    pair_margin_sigma: float
    endurance_cycles: float
    read_voltage_V: float
    g_p_median_S: float
    g_ap_median_S: float
    write_voltage_V: float
    pulse_width_s: float
    switching_probability_at_operating_point: float
    thermal_stability: float
    retention_time_s: float
    operating_point: str

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def summarize(card: DeviceCard) -> DeviceSummary:
    """Compute the derived figures of ``card`` (median device, card's read voltage and pulse).

    A figure the model does not reach at the card's operating point (a 90 % point capped by the precession) is
    NaN.
    """
    data, pbit = card.data_bit, card.p_bit
    r_p = resistance_parallel_ohm(data)
    g_p, g_ap = conductance_levels(data)
    return DeviceSummary(
        tmr_at_read=tmr_at_bias(data, data.read_voltage_V),
        tmr_low_bias=data.tmr0,
        r_p_median_ohm=r_p,
        r_ap_median_ohm=r_p * (1 + tmr_at_bias(data, data.read_voltage_V)),
        v50_V=_or_nan(voltage_at_probability, pbit, 0.5),
        window_10_90_V=_or_nan(window_10_90_V, pbit),
        first_peak_s=_or_nan(first_peak_width_s, pbit),
        pair_margin_sigma=pair_state_statistics(data).margin_sigma,
        endurance_cycles=endurance_cycles(card.endurance),
        read_voltage_V=data.read_voltage_V,
        g_p_median_S=g_p,
        g_ap_median_S=g_ap,
        write_voltage_V=pbit.write_voltage_V,
        pulse_width_s=pbit.pulse_width_s,
        switching_probability_at_operating_point=float(
            switching_probability(pbit, pbit.write_voltage_V, pbit.pulse_width_s)),
        thermal_stability=data.thermal_stability,
        retention_time_s=retention_time_s(data),
        operating_point=f"{pbit.write_voltage_V:.6g} V, {pbit.pulse_width_s:.6g} s (the card's p_bit.write_voltage_V "
                        "and p_bit.pulse_width_s)",
    )


def _or_nan(function, *args) -> float:
    """A derived figure, or NaN where the card's model does not reach it (e.g. P = 0.9 capped by the precession
    at the operating width); the CLI prints NaN as null in JSON."""
    try:
        return function(*args)
    except ValueError:
        return math.nan
