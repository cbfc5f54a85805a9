"""Fit a directory of calibration files into a device card.

Any subset of the five files may be present; card fields the present files cannot determine keep the base
card's values and are listed in the card's provenance under ``kept_from_base``.
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
from devices.fit.switching import fit_switching
from devices.fit.tmr_bias import fit_tmr_bias
from devices.mtj import tmr_at_bias
from devices.pair import pair_state_statistics
from devices.pbit import switching_probability

__all__ = ["CalibrationFit", "fit_directory", "CALIBRATION_FILES"]

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
    """

    card: DeviceCard
    fits: dict[str, FileFit]
    tables: dict[str, Any]
    estimates: dict[str, Estimate]

    def to_dict(self) -> dict[str, Any]:
        return {"card": self.card.to_dict(), "fits": {name: fit.to_dict() for name, fit in self.fits.items()},
                "estimates": {name: e.to_dict() for name, e in self.estimates.items()}}


def fit_directory(directory: str | os.PathLike | Any, *, base: DeviceCard | None = None,
                  name: str | None = None, source: str | None = None) -> CalibrationFit:
    """Read and fit every calibration file present in ``directory``.

    Args:
        directory: a path or an ``importlib.resources`` Traversable holding the files.
        base: card supplying the fields the data cannot determine (default: the shipped default card).
        name: name of the fitted card (default: derived from the directory).
        source: how the provenance names the data (default: the directory as given).

    Raises:
        devices.DataError: a present file is malformed (names file, line and column).
        ValueError: none of the calibration files is present.
    """
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
    checks = _consistency(fits, data_bit, p_bit)
    fitted_fields = set(estimates)
    kept = [f"{section}.{field.name}" for section, params in (("data_bit", data_bit), ("p_bit", p_bit))
            for field in dataclasses.fields(params) if f"{section}.{field.name}" not in fitted_fields]
    provenance = {
        "fitted_from": source or str(directory),
        "files": sorted(fits),
        "estimates": {k: e.to_dict() for k, e in estimates.items()},
        "goodness": {file_name: fit.to_dict()["goodness"] for file_name, fit in fits.items()},
        "consistency": checks,
        "kept_from_base": kept + ["endurance.*"],
        "base_card": base.name,
    }
    card = DeviceCard(name=name or f"fit of {pathlib.PurePath(str(directory)).name}", data_bit=data_bit,
                      p_bit=p_bit, endurance=base.endurance, provenance=provenance)
    return CalibrationFit(card=card, fits=fits, tables=tables, estimates=estimates)


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


