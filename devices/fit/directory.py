"""Fit a directory of calibration files into a device card.

Any subset of the five files may be present; card fields the present files cannot determine keep the base
card's values (the prior) and are listed in the card's provenance under ``unconstrained`` (with the prior named
under ``prior``) and ``kept_from_base``.

The operating point (``p_bit.pulse_width_s``, ``p_bit.write_voltage_V``) is set from the switching data: the
pulse width is the width of the voltage sweep when the data hold one, else the first precessional peak of the
fitted model at its own 50 % voltage, unless the caller gives one; the write voltage is the fitted median
device's 50 % voltage at that width, so the median device sits at P = 0.5 (docs/devices.md).
"""

from __future__ import annotations

import dataclasses
import math
import os
import pathlib
from typing import Any

from devices.card import DeviceCard, default_card
from devices.fit.bitstream import fit_bitstream
from devices.fit.pair import fit_pair_conductance
from devices.fit.report import Estimate, FileFit
from devices.fit.resistance import fit_resistance
from devices.fit.schemas import (
    read_bitstream,
    read_pair_conductance,
    read_resistance,
    read_switching,
    read_tmr_bias,
)
from devices.fit.switching import aggregate_switching, fit_switching
from devices.fit.tmr_bias import fit_tmr_bias
from devices.mtj import tmr_at_bias
from devices.pair import pair_state_statistics
from devices.pbit import first_peak_width_s, switching_probability, voltage_at_probability

__all__ = ["CalibrationFit", "fit_directory", "operating_point", "CALIBRATION_FILES"]

CALIBRATION_FILES = ("switching.csv", "resistance.csv", "tmr_bias.csv", "pair_conductance.csv", "bitstream.txt")
_READERS = {"switching.csv": read_switching, "resistance.csv": read_resistance, "tmr_bias.csv": read_tmr_bias,
            "pair_conductance.csv": read_pair_conductance, "bitstream.txt": read_bitstream}


@dataclasses.dataclass(frozen=True)
class CalibrationFit:
    """The fitted card, the per-file fits and the parsed tables (for plotting).

    Attributes:
        card: the fitted device card (provenance filled in).
        fits: per-file fit records.
        tables: the parsed input tables keyed by file name (bitstream: a uint8 array).
        estimates: every fitted card parameter by dotted name (after combining files).
        unconstrained: card parameters the present files do not constrain (dotted names); they hold the
            prior's (the base card's) values.
        operating_point: how the operating point was chosen (``rule``, ``pulse_width_s``, ``write_voltage_V``).
    """

    card: DeviceCard
    fits: dict[str, FileFit]
    tables: dict[str, Any]
    estimates: dict[str, Estimate]
    unconstrained: tuple[str, ...] = ()
    operating_point: dict[str, Any] = dataclasses.field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"card": self.card.to_dict(), "fits": {name: fit.to_dict() for name, fit in self.fits.items()},
                "estimates": {name: e.to_dict() for name, e in self.estimates.items()},
                "unconstrained": list(self.unconstrained), "prior": self.card.provenance.get("prior"),
                "operating_point": dict(self.operating_point)}


def fit_directory(directory: str | os.PathLike | Any, *, base: DeviceCard | None = None,
                  name: str | None = None, source: str | None = None,
                  pulse_width_s: float | None = None) -> CalibrationFit:
    """Read and fit every calibration file present in ``directory``.

    Args:
        directory: a path or an ``importlib.resources`` Traversable holding the files.
        base: card supplying the fields the data cannot determine (default: the shipped default card).
        name: name of the fitted card (default: derived from the directory).
        source: how the provenance names the data (default: the directory as given).
        pulse_width_s: operating pulse width (s) to use instead of the one chosen from the data (see the module
            docstring); the write voltage is then the median device's 50 % voltage at this width.

    Raises:
        devices.DataError: a present file is malformed (names file, line and column).
        ValueError: none of the calibration files is present; ``pulse_width_s`` is not a positive finite number
            or the median device cannot reach P = 0.5 at the chosen width.
    """
    if pulse_width_s is not None and not (math.isfinite(pulse_width_s) and 0 < pulse_width_s <= 1e-6):
        raise ValueError(f"pulse_width_s: expected a finite width in (0, 1 us], got {pulse_width_s!r}")
    base = default_card() if base is None else base
    present = {}
    for file_name in CALIBRATION_FILES:
        candidate = directory / file_name if not isinstance(directory, (str, os.PathLike)) \
            else pathlib.Path(directory) / file_name
        if candidate.is_file():
            present[file_name] = candidate
    if not present:
        raise ValueError(f"{directory}: none of the calibration files {list(CALIBRATION_FILES)} is present")
    tables = {file_name: _READERS[file_name](path) for file_name, path in present.items()}
    if "switching.csv" in tables:
        tables["switching.csv"] = aggregate_switching(tables["switching.csv"])

    fits: dict[str, FileFit] = {}
    if "switching.csv" in tables:
        fits["switching.csv"] = fit_switching(tables["switching.csv"], base.p_bit)
    if "resistance.csv" in tables:
        fits["resistance.csv"] = fit_resistance(tables["resistance.csv"], area_m2=base.data_bit.area_m2)
    if "tmr_bias.csv" in tables:
        fits["tmr_bias.csv"] = fit_tmr_bias(tables["tmr_bias.csv"])
    if "pair_conductance.csv" in tables:
        fits["pair_conductance.csv"] = fit_pair_conductance(tables["pair_conductance.csv"])
    if "bitstream.txt" in tables:
        fits["bitstream.txt"] = fit_bitstream(tables["bitstream.txt"])

    estimates = _combine(fits, base)
    data_updates = {k.split(".", 1)[1]: e.value for k, e in estimates.items() if k.startswith("data_bit.")}
    if "resistance.csv" in fits:
        data_updates["read_voltage_V"] = fits["resistance.csv"].details["read_voltage_V"]
    pbit_updates = {k.split(".", 1)[1]: e.value for k, e in estimates.items() if k.startswith("p_bit.")}
    data_bit = dataclasses.replace(base.data_bit, **data_updates)
    p_bit = dataclasses.replace(base.p_bit, **pbit_updates)
    operating = {"rule": "kept from the prior (no switching.csv)", "pulse_width_s": p_bit.pulse_width_s,
                 "write_voltage_V": p_bit.write_voltage_V}
    if "switching.csv" in fits:
        operating = operating_point(p_bit, sweep_width_s=fits["switching.csv"].details["voltage_sweep_width_s"],
                                    pulse_width_s=pulse_width_s)
        p_bit = dataclasses.replace(p_bit, pulse_width_s=operating["pulse_width_s"],
                                    write_voltage_V=operating["write_voltage_V"])
    checks = _consistency(fits, data_bit, p_bit)
    set_from_data = set(estimates)
    if "switching.csv" in fits:
        set_from_data |= {"p_bit.pulse_width_s", "p_bit.write_voltage_V"}
    if "resistance.csv" in fits:
        set_from_data.add("data_bit.read_voltage_V")
    kept = [f"{section}.{field.name}" for section, params in (("data_bit", data_bit), ("p_bit", p_bit))
            for field in dataclasses.fields(params) if f"{section}.{field.name}" not in set_from_data]
    prior = {"card": base.name, "source": base.provenance.get("fitted_from", base.provenance.get("role", "")),
             "values": {key: getattr(getattr(base, key.split(".")[0]), key.split(".")[1]) for key in kept}}
    provenance = {
        "fitted_from": source or str(directory),
        "files": sorted(fits),
        "estimates": {k: e.to_dict() for k, e in estimates.items()},
        "goodness": {file_name: fit.to_dict()["goodness"] for file_name, fit in fits.items()},
        "consistency": checks,
        "operating_point": operating,
        "unconstrained": kept,
        "prior": prior,
        "kept_from_base": kept + ["endurance.*"],
        "base_card": base.name,
    }
    card = DeviceCard(name=name or f"fit of {pathlib.PurePath(str(directory)).name}", data_bit=data_bit,
                      p_bit=p_bit, endurance=base.endurance, provenance=provenance)
    return CalibrationFit(card=card, fits=fits, tables=tables, estimates=estimates, unconstrained=tuple(kept),
                          operating_point=operating)


def operating_point(p_bit, *, sweep_width_s: float | None = None, pulse_width_s: float | None = None) -> dict:
    """The operating pulse of a fitted p-bit: width by rule, voltage at the median device's 50 % point.

    Args:
        p_bit: the fitted p-bit parameters (their operating point is ignored).
        sweep_width_s: the width of the data's voltage sweep, if any.
        pulse_width_s: an explicit width (overrides the rules).

    Returns:
        ``{"rule": text, "pulse_width_s": s, "write_voltage_V": V, "probability": P at that pulse}``.

    Raises:
        ValueError: P = 0.5 is not reached at the chosen width (the message says to choose another width).
    """
    if pulse_width_s is not None:
        rule, width = "given (--pulse-width)", float(pulse_width_s)
    elif sweep_width_s is not None:
        rule, width = "the width of the voltage sweep", float(sweep_width_s)
    else:
        # The first peak depends on the voltage (the precession frequency's bias slope) and the 50 % voltage on
        # the width: iterate to their common point, starting at the threshold.
        rule, voltage = "the first precessional peak at the median device's 50 % voltage", p_bit.v50_V
        for _ in range(6):
            width = first_peak_width_s(p_bit, voltage)
            voltage = _half_voltage(p_bit, width)
    voltage = _half_voltage(p_bit, width)
    probability = float(switching_probability(p_bit, voltage, width))
    return {"rule": rule, "pulse_width_s": width, "write_voltage_V": voltage, "probability": probability}


def _half_voltage(p_bit, width: float) -> float:
    try:
        return voltage_at_probability(p_bit, 0.5, width)
    except ValueError:
        raise ValueError(f"the fitted median device does not reach P = 0.5 at a pulse width of {width:.4g} s (its "
                         "precession caps the probability there); choose an operating width near the first "
                         "precessional peak with --pulse-width") from None


def _combine(fits: dict[str, FileFit], base: DeviceCard) -> dict[str, Estimate]:
    """Card parameters from the per-file fits; TMR0 joins the array TMR at the read voltage with V_h."""
    estimates: dict[str, Estimate] = {}
    for fit in fits.values():
        estimates.update({k: e for k, e in fit.estimates.items() if k.startswith(("data_bit.", "p_bit."))})
    half_bias = estimates.get("data_bit.tmr_half_bias_V")
    half_bias_value = half_bias.value if half_bias else base.data_bit.tmr_half_bias_V
    half_bias_error = half_bias.standard_error if half_bias else 0.0
    if "resistance.csv" in fits:
        # The card describes arrays: anchor TMR0 on the arrays' TMR at the read voltage, lifted by the bias law.
        tmr_read = fits["resistance.csv"].estimates["tmr_at_read"]
        voltage = fits["resistance.csv"].details["read_voltage_V"]
        factor = 1 + (voltage / half_bias_value) ** 2
        derivative = tmr_read.value * 2 * voltage ** 2 / half_bias_value ** 3
        error = math.hypot(factor * tmr_read.standard_error, derivative * half_bias_error)
        estimates["data_bit.tmr0"] = Estimate(tmr_read.value * factor, error, "")
    elif "tmr_bias.csv" in fits:
        estimates["data_bit.tmr0"] = fits["tmr_bias.csv"].estimates["tmr0_standalone"]
    return estimates


def _consistency(fits: dict[str, FileFit], data_bit, p_bit) -> dict[str, Any]:
    """Cross-checks between files, as z-scores (|z| > 3 deserves a look)."""
    checks: dict[str, Any] = {}
    if "tmr_bias.csv" in fits and "resistance.csv" in fits:
        standalone = fits["tmr_bias.csv"].estimates["tmr0_standalone"]
        arrays = fits["resistance.csv"].estimates["tmr_at_read"]
        predicted = tmr_at_bias(dataclasses.replace(data_bit, tmr0=standalone.value),
                                fits["resistance.csv"].details["read_voltage_V"])
        checks["tmr_standalone_vs_arrays_z"] = (predicted - arrays.value) / math.hypot(
            standalone.standard_error * predicted / standalone.value, arrays.standard_error)
    if "pair_conductance.csv" in fits:
        measured = fits["pair_conductance.csv"].estimates["pair_margin_sigma"]
        model = pair_state_statistics(data_bit).margin_sigma
        checks["pair_margin_model_sigma"] = model
        checks["pair_margin_measured_vs_model_z"] = measured.z_score(model)
    if "bitstream.txt" in fits:
        measured = fits["bitstream.txt"].estimates["probability_one"]
        median_device = float(switching_probability(p_bit, p_bit.write_voltage_V, p_bit.pulse_width_s))
        checks["bitstream_probability_one"] = measured.value
        checks["bitstream_mode"] = fits["bitstream.txt"].goodness["mode"]
        checks["median_device_probability_at_operating_point"] = median_device
    return checks


