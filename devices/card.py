"""The device card: every parameter of the emulated VCMA-MTJ technology, as frozen data.

The shipped default card (``devices/cards/default.json``) is the maximum-likelihood
fit of the shipped ``calibration_data/`` (``cim-emu fit``); a test refits and
compares. Fields that the calibration files cannot determine (geometry,
temperature, attempt time, endurance) keep documented literature values.

A card is JSON: ``{"schema": ..., "name": ..., "data_bit": {...}, "p_bit": {...},
"endurance": {...}, "provenance": {...}}``. Unknown or missing fields are rejected
with the dotted name of the field, so a hand-edited card fails loudly.
"""

from __future__ import annotations

import dataclasses
import importlib.resources
import json
import math
import os
from typing import Any

from devices.io import atomic_write

__all__ = ["DataBitParams", "PBitParams", "EnduranceParams", "DeviceCard", "default_card", "load_card",
           "save_card", "CARD_SCHEMA"]

CARD_SCHEMA = "cim-emu-device-card/1"


def _require(condition: bool, field: str, message: str) -> None:
    if not condition:
        raise ValueError(f"{field}: {message}")


def _positive(owner: str, **values: float) -> None:
    for name, value in values.items():
        _require(isinstance(value, (int, float)) and math.isfinite(value) and value > 0,
                 f"{owner}.{name}", f"must be a finite number > 0, got {value!r}")


def _non_negative(owner: str, **values: float) -> None:
    for name, value in values.items():
        _require(isinstance(value, (int, float)) and math.isfinite(value) and value >= 0,
                 f"{owner}.{name}", f"must be a finite number >= 0, got {value!r}")


@dataclasses.dataclass(frozen=True, kw_only=True)
class DataBitParams:
    """A data-bit MTJ (deterministically written; read in a differential pair).

    Attributes:
        resistance_area_ohm_m2: RA product of the MgO barrier (ohm m^2); R_P = RA / area.
        diameter_m: free-layer (pillar) diameter (m); circular pillar. Design value, not fitted.
        tmr0: zero-bias tunnel magnetoresistance (fraction, 1.0 = 100 %).
        tmr_half_bias_V: bias V_h at which TMR halves: TMR(V) = tmr0 / (1 + (V / V_h)^2).
        read_voltage_V: read bias of the array (V).
        sigma_ln_r_device: device-to-device lognormal spread of R_P within an array (std of ln R).
        sigma_ln_r_array: array-to-array lognormal spread of the array median R_P (std of ln R).
        sigma_tmr_device: device-to-device spread of the TMR at the read voltage (absolute, fraction).
        read_noise_ln: cycle-to-cycle read noise, std of ln R per read.
        thermal_stability: energy barrier over k_B T at ``temperature_K`` (data-bit retention).
        attempt_time_s: Neel-Brown attempt time tau_0 (s).
        temperature_K: operating temperature (K).
    """

    resistance_area_ohm_m2: float
    diameter_m: float = 60e-9
    tmr0: float
    tmr_half_bias_V: float
    read_voltage_V: float = 0.2
    sigma_ln_r_device: float
    sigma_ln_r_array: float
    sigma_tmr_device: float
    read_noise_ln: float
    thermal_stability: float = 50.0
    attempt_time_s: float = 1e-9
    temperature_K: float = 300.0

    def __post_init__(self):
        _require(isinstance(self.diameter_m, (int, float)) and 1e-9 <= self.diameter_m <= 1e-3, "data_bit.diameter_m",
                 f"must be a pillar diameter between 1 nm and 1 mm (in metres), got {self.diameter_m!r}")
        _positive("data_bit", resistance_area_ohm_m2=self.resistance_area_ohm_m2, diameter_m=self.diameter_m,
                  tmr0=self.tmr0, tmr_half_bias_V=self.tmr_half_bias_V, read_voltage_V=self.read_voltage_V,
                  thermal_stability=self.thermal_stability, attempt_time_s=self.attempt_time_s,
                  temperature_K=self.temperature_K)
        _non_negative("data_bit", sigma_ln_r_device=self.sigma_ln_r_device,
                      sigma_ln_r_array=self.sigma_ln_r_array, sigma_tmr_device=self.sigma_tmr_device,
                      read_noise_ln=self.read_noise_ln)
        resistance = self.resistance_area_ohm_m2 / self.area_m2
        _require(1e-3 <= resistance <= 1e12, "data_bit.resistance_area_ohm_m2",
                 f"gives R_P = {resistance:.3g} ohm with the {self.diameter_m:g} m pillar; a junction needs "
                 "1 mOhm..1 TOhm (RA is in ohm m^2, e.g. 2.5e-10)")

    @property
    def area_m2(self) -> float:
        """Pillar area (m^2)."""
        return math.pi * (self.diameter_m / 2) ** 2


@dataclasses.dataclass(frozen=True, kw_only=True)
class PBitParams:
    """A VCMA-MTJ p-bit: the compact precessional-switching model and its operating point.

    P(V, t) = Phi((V - v50_V - offset) / sigma_pulse_V) * Phi(-cos(omega(V) t) exp(-t / dephasing_time_s) / sigma_mz)
    with omega(V) = (pi / half_period_s) (1 + precession_slope_per_V (V - reference_voltage_V)).

    Attributes:
        v50_V: voltage at which precession engages for half of the pulses (population median device).
        sigma_pulse_V: per-pulse spread of the engagement threshold (V). Macrospin thermal noise alone gives a
            10-90 % window of ~0.19 V (sigma ~0.07 V, docs/macrospin.md); the measured ~1 V window needs
            per-pulse anisotropy / voltage jitter, which this parameter carries (see docs/devices.md).
        sigma_v50_device_V: device-to-device spread of the threshold (V), the array variation of Fig. 13.
        half_period_s: half the precession period at ``reference_voltage_V`` (s); ~ pi / (gamma B_x).
        dephasing_time_s: decay time of the ensemble oscillation of P with pulse width (s).
        sigma_mz: thermal spread of the out-of-plane magnetisation at pulse end (dimensionless).
        precession_slope_per_V: relative change of the precession frequency per volt (1/V).
        reference_voltage_V: voltage at which ``half_period_s`` is given (V); a fixed point of the model.
        write_voltage_V: operating pulse amplitude (V).
        pulse_width_s: operating pulse width (s).
    """

    v50_V: float
    sigma_pulse_V: float
    sigma_v50_device_V: float
    half_period_s: float
    dephasing_time_s: float
    sigma_mz: float
    precession_slope_per_V: float = 0.0
    reference_voltage_V: float = 1.5
    write_voltage_V: float = 1.5
    pulse_width_s: float = 7e-10

    def __post_init__(self):
        _positive("p_bit", v50_V=self.v50_V, sigma_pulse_V=self.sigma_pulse_V, half_period_s=self.half_period_s,
                  dephasing_time_s=self.dephasing_time_s, sigma_mz=self.sigma_mz,
                  write_voltage_V=self.write_voltage_V, pulse_width_s=self.pulse_width_s,
                  reference_voltage_V=self.reference_voltage_V)
        _non_negative("p_bit", sigma_v50_device_V=self.sigma_v50_device_V)
        _require(isinstance(self.precession_slope_per_V, (int, float)) and math.isfinite(self.precession_slope_per_V),
                 "p_bit.precession_slope_per_V", "must be a finite number")


@dataclasses.dataclass(frozen=True, kw_only=True)
class EnduranceParams:
    """Write-cycle degradation: conductance drift plus Weibull barrier breakdown.

    Relative conductance change after N cycles: drift_at_reference * (N / reference_cycles)^drift_exponent.
    Fraction of broken devices: 1 - exp(-(N / breakdown_scale_cycles)^breakdown_shape).
    Defaults give no significant change over 1e12 cycles (paper Fig. 19).

    Attributes:
        drift_at_reference: relative conductance change at ``reference_cycles`` (fraction).
        reference_cycles: cycle count at which the drift is specified.
        drift_exponent: power-law exponent of the drift.
        breakdown_scale_cycles: Weibull scale (63 % broken) of dielectric breakdown.
        breakdown_shape: Weibull shape.
        drift_criterion: conductance change counted as end of life (fraction).
        failure_criterion: broken fraction counted as end of life.
    """

    drift_at_reference: float = 0.003
    reference_cycles: float = 1e12
    drift_exponent: float = 0.5
    breakdown_scale_cycles: float = 1e16
    breakdown_shape: float = 1.2
    drift_criterion: float = 0.05
    failure_criterion: float = 1e-3

    def __post_init__(self):
        _positive("endurance", reference_cycles=self.reference_cycles, drift_exponent=self.drift_exponent,
                  breakdown_scale_cycles=self.breakdown_scale_cycles, breakdown_shape=self.breakdown_shape,
                  drift_criterion=self.drift_criterion, failure_criterion=self.failure_criterion)
        _non_negative("endurance", drift_at_reference=self.drift_at_reference)
        _require(self.failure_criterion < 1, "endurance.failure_criterion", "must be < 1")


@dataclasses.dataclass(frozen=True, kw_only=True)
class DeviceCard:
    """All parameters of one emulated technology.

    Attributes:
        name: a label.
        data_bit: data-bit MTJ parameters.
        p_bit: p-bit switching model and operating point.
        endurance: write-cycle degradation.
        provenance: JSON-ready record of where the numbers came from (fit estimates, standard errors,
            goodness of fit, source files); not used by the physics.
    """

    name: str = "custom"
    data_bit: DataBitParams
    p_bit: PBitParams
    endurance: EnduranceParams = dataclasses.field(default_factory=EnduranceParams)
    provenance: dict = dataclasses.field(default_factory=dict, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary (see the module docstring)."""
        return {
            "schema": CARD_SCHEMA,
            "name": self.name,
            "data_bit": dataclasses.asdict(self.data_bit),
            "p_bit": dataclasses.asdict(self.p_bit),
            "endurance": dataclasses.asdict(self.endurance),
            "provenance": self.provenance,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, source: str = "device card") -> DeviceCard:
        """Build a card from a dictionary, rejecting unknown and missing fields by dotted name."""
        if not isinstance(data, dict):
            raise ValueError(f"{source}: expected a JSON object")
        if data.get("schema", CARD_SCHEMA) != CARD_SCHEMA:
            raise ValueError(f"{source}: schema {data.get('schema')!r} is not {CARD_SCHEMA!r}")
        unknown = set(data) - {"schema", "name", "data_bit", "p_bit", "endurance", "provenance"}
        if unknown:
            raise ValueError(f"{source}: unknown field(s) {sorted(unknown)}")
        sections = {}
        for key, params_class in (("data_bit", DataBitParams), ("p_bit", PBitParams), ("endurance", EnduranceParams)):
            section = data.get(key, {} if key == "endurance" else None)
            if section is None:
                raise ValueError(f"{source}: missing section '{key}'; start from devices.default_card().to_dict()")
            sections[key] = _build(params_class, section, f"{source}: {key}")
        provenance = data.get("provenance", {})
        if not isinstance(provenance, dict):
            raise ValueError(f"{source}: provenance: expected a JSON object, got {type(provenance).__name__}")
        name = data.get("name", "custom")
        if not isinstance(name, str):
            raise ValueError(f"{source}: name: expected a text, got {name!r:.40}")
        return cls(name=name, provenance=dict(provenance), **sections)


def _build(params_class, section: dict, where: str):
    if not isinstance(section, dict):
        raise ValueError(f"{where}: expected a JSON object")
    fields = {f.name: f for f in dataclasses.fields(params_class)}
    unknown = set(section) - set(fields)
    if unknown:
        raise ValueError(f"{where}: unknown field(s) {sorted(unknown)}; known: {sorted(fields)}")
    missing = [name for name, f in fields.items() if name not in section
               and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]
    if missing:
        raise ValueError(f"{where}: missing field(s) {missing}; add them or start from devices.default_card()")
    numbers = {}
    for name, value in section.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"{where}.{name}: expected a number, got {_short(value)}")
        try:
            numbers[name] = float(value)
        except OverflowError:
            raise ValueError(f"{where}.{name}: {_short(value)} is too large for a float") from None
        if not math.isfinite(numbers[name]):
            raise ValueError(f"{where}.{name}: expected a finite number, got {value!r}")
    try:
        return params_class(**numbers)
    except ValueError as error:
        raise ValueError(f"{where.split(':')[0]}: {error}") from None


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:37]}... ({len(text)} characters)"


def _finite_json(value):
    """Replace NaN and infinities (not JSON) by None, recursively."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _finite_json(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite_json(item) for item in value]
    return value


def load_card(path: str | os.PathLike) -> DeviceCard:
    """Load a device card JSON file (as written by ``cim-emu fit`` or :func:`save_card`).

    Raises:
        ValueError: the file is not UTF-8 JSON (with the line), too deeply nested, or not a valid card (with the
            dotted field name).
    """
    from devices.io import decode_text

    with open(path, "rb") as handle:
        raw = handle.read(_MAX_CARD_BYTES + 1)
    if len(raw) > _MAX_CARD_BYTES:
        raise ValueError(f"{path}: larger than {_MAX_CARD_BYTES} bytes; a device card is a small JSON object")
    text = decode_text(path, raw)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"{path}, line {error.lineno}: not valid JSON ({error.msg})") from None
    except RecursionError:
        raise ValueError(f"{path}: JSON nested too deeply; a device card is a flat object of sections") from None
    except ValueError as error:  # e.g. an integer literal beyond Python's digit limit
        raise ValueError(f"{path}: not a valid card: {str(error).splitlines()[0]}") from None
    return DeviceCard.from_dict(data, source=str(path))


_MAX_CARD_BYTES = 16 * 1024 * 1024


def save_card(card: DeviceCard, path: str | os.PathLike) -> None:
    """Write a card as JSON atomically (no partial file on failure); NaN/inf in the provenance become null."""
    with atomic_write(path) as handle:
        json.dump(_finite_json(card.to_dict()), handle, indent=2, sort_keys=False, allow_nan=False)
        handle.write("\n")


def default_card() -> DeviceCard:
    """The shipped default card: the fit of the shipped ``calibration_data/``."""
    text = importlib.resources.files("devices").joinpath("cards/default.json").read_text(encoding="utf-8")
    return DeviceCard.from_dict(json.loads(text), source="devices/cards/default.json")
