"""Configuration of an emulated crossbar tile and of the p-bit write pulse (frozen, validated data).

A tile maps a layer's weights onto differential pairs of VCMA-MTJs and runs every
matrix-vector multiplication (MVM) through the analog signal chain:

    digital input -> input DAC (bits, full-scale voltage, clipping) -> row voltages (V)
    -> Kirchhoff column currents (A) -> differential sense -> column ADC (bits, range, clipping)
    -> digital partial sums (added across arrays and bit-slices) -> digital scale and bias.

The configuration is composed of parts, one object per piece of hardware or non-ideality (in the style of
aihwkit's RPU configs and diffrax's solver objects)::

    CrossbarConfig(dac=DAC(bits=8), adc=ADC(bits=8, range_cells=16),
                   read_noise=ColumnReadNoise(),          # or PerCellReadNoise(), or None
                   ir_drop=FirstOrderIRDrop(0.1))         # or None

The flat keywords of earlier versions (``adc_bits=6``, ``read_noise=True, read_noise_model=...``,
``ir_drop=True, wire_resistance_per_cell_ohm=...``) still construct the same configuration, the flat
attribute names still read it (``config.adc_bits``), and :meth:`CrossbarConfig.to_dict` keeps the flat
schema of saved layers, so old state_dicts load unchanged. Every field carries its unit in its name or
docstring; validation names the field and the fix.
"""

from __future__ import annotations

import dataclasses
import enum
import math
from typing import ClassVar

__all__ = ["ADC", "DAC", "ColumnReadNoise", "CrossbarConfig", "FirstOrderIRDrop", "PerCellReadNoise", "ReadNoiseModel",
           "WritePulse"]


class ReadNoiseModel(enum.Enum):
    """How cycle-to-cycle read noise reaches a column current.

    ``COLUMN``: the column current of every MVM gets Gaussian noise with the exact mean and variance of
    the per-cell lognormal read noise of ``devices.apply_read_noise`` (sum of independent cells; one
    extra low-precision GEMM for the variance). Fast; the default.
    ``PER_CELL``: every cell is drawn through ``devices.apply_read_noise`` at every read (a fresh
    conductance matrix per input row). Exact but costs one random number per cell per MVM: the reference
    that ``COLUMN`` is tested against.
    """

    COLUMN = "column"
    PER_CELL = "per_cell"


def _fail(field: str, message: str, owner: str = "CrossbarConfig") -> None:
    raise ValueError(f"{owner}.{field}: {message}")


def _check_bits(field: str, value, minimum: int, maximum: int, *, allow_none: bool, owner: str = "CrossbarConfig"):
    if value is None:
        if not allow_none:
            _fail(field, "must be an integer", owner)
        return
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
        none_hint = " or None for an ideal (infinite-resolution) converter" if allow_none else ""
        _fail(field, f"must be an integer in [{minimum}, {maximum}]{none_hint}, got {value!r}", owner)


def _check_positive(field: str, value, *, allow_none: bool, owner: str = "CrossbarConfig") -> None:
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        hint = " (or None)" if allow_none else ""
        _fail(field, f"must be a finite number > 0{hint}, got {value!r}", owner)


def _check_resistance(field: str, value, owner: str) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        _fail(field, f"must be a finite number >= 0 (ohm per cell pitch), got {value!r}", owner)


# ------------------------------------------------------------------------------------------------- the parts
@dataclasses.dataclass(frozen=True, kw_only=True)
class DAC:
    """The input DAC of every row.

    Attributes:
        bits: resolution including the sign (levels -(2^(b-1) - 1) .. 2^(b-1) - 1); None = ideal.
        voltage_V: full-scale read voltage (V); None = the device card's read voltage.
        input_range: digital input value mapped to full scale. None = dynamic: each input row is divided by
            its own largest magnitude (a digital pre-scale undone after the ADC), so nothing clips. A number:
            fixed range, inputs beyond +-input_range clip.
    """

    bits: int | None = 8
    voltage_V: float | None = None
    input_range: float | None = None

    def __post_init__(self):
        _check_bits("bits", self.bits, 2, 24, allow_none=True, owner="DAC")
        _check_positive("voltage_V", self.voltage_V, allow_none=True, owner="DAC")
        _check_positive("input_range", self.input_range, allow_none=True, owner="DAC")


@dataclasses.dataclass(frozen=True, kw_only=True)
class ADC:
    """The column ADC (one conversion per column and row block).

    Attributes:
        bits: resolution including the sign; None = ideal (no rounding).
        range_cells: full scale (+-) in unit-cell currents, i.e. in multiples of dac voltage x (G_P - G_AP)
            (median conductances); currents beyond it clip. None = no clipping (then ``bits`` must be None).
    """

    bits: int | None = 8
    range_cells: float | None = 16.0

    def __post_init__(self):
        _check_bits("bits", self.bits, 2, 24, allow_none=True, owner="ADC")
        if self.range_cells is not None and (
                isinstance(self.range_cells, bool) or not isinstance(self.range_cells, (int, float))
                or not math.isfinite(self.range_cells) or self.range_cells <= 0):
            _fail("range_cells", f"must be a finite number > 0 (an ADC range of {self.range_cells!r} converts "
                                 "nothing); use e.g. 16.0, or None for an unclipped ADC", "ADC")
        if self.bits is not None and self.range_cells is None:
            _fail("range_cells", f"a {self.bits}-bit ADC needs a full scale: set range_cells (e.g. 16.0), or "
                                 "bits=None for an ideal ADC", "ADC")


@dataclasses.dataclass(frozen=True)
class ColumnReadNoise:
    """Cycle-to-cycle read noise at every MVM, drawn per column current (:attr:`ReadNoiseModel.COLUMN`).

    The column current gets Gaussian noise with the exact mean and variance of the per-cell lognormal read
    noise of ``devices.apply_read_noise`` (a sum of independent cells). Fast; the default.
    """

    model: ClassVar[ReadNoiseModel] = ReadNoiseModel.COLUMN


@dataclasses.dataclass(frozen=True)
class PerCellReadNoise:
    """Cycle-to-cycle read noise drawn for every cell at every read (:attr:`ReadNoiseModel.PER_CELL`).

    Exact but costs one random number per cell per MVM: the reference that :class:`ColumnReadNoise` is tested
    against.
    """

    model: ClassVar[ReadNoiseModel] = ReadNoiseModel.PER_CELL


@dataclasses.dataclass(frozen=True)
class FirstOrderIRDrop:
    """The first-order IR-drop model of the row and column wires (:mod:`cim_emu.crossbar.ir_drop`).

    Attributes:
        wire_resistance_per_cell_ohm: wire resistance of one cell pitch of a row or column line (ohm).
            0.1 ohm: copper (rho ~ 4e-8 ohm m at these widths) over a 0.2 um pitch with a 0.2 um x 0.4 um
            cross-section; thin lower-metal lines reach ~1 ohm. The model is refused where its largest
            relative correction exceeds 0.25 (use smaller arrays or lower resistance there).
    """

    wire_resistance_per_cell_ohm: float = 0.1

    def __post_init__(self):
        _check_resistance("wire_resistance_per_cell_ohm", self.wire_resistance_per_cell_ohm, "FirstOrderIRDrop")


_READ_NOISE_CLASSES = {ReadNoiseModel.COLUMN: ColumnReadNoise, ReadNoiseModel.PER_CELL: PerCellReadNoise}
# The flat keywords (and attributes) of earlier versions -> (part, field of the part).
_CONVERTER_KEYWORDS = {
    "dac_bits": ("dac", "bits"),
    "dac_voltage_V": ("dac", "voltage_V"),
    "input_range": ("dac", "input_range"),
    "adc_bits": ("adc", "bits"),
    "adc_range_cells": ("adc", "range_cells"),
}
_LEGACY_KEYWORDS = (*_CONVERTER_KEYWORDS, "read_noise_model", "wire_resistance_per_cell_ohm")
_DEFAULT_WIRE_RESISTANCE_OHM = 0.1


def _read_noise_model(value) -> ReadNoiseModel:
    if not isinstance(value, ReadNoiseModel):
        _fail("read_noise_model", f"must be a ReadNoiseModel (COLUMN or PER_CELL), got {value!r}; or pass "
                                  "read_noise=ColumnReadNoise() / PerCellReadNoise()")
    return value


# ------------------------------------------------------------------------------------------------ the config
_UNSET = object()


@dataclasses.dataclass(frozen=True, kw_only=True, init=False)
class CrossbarConfig:
    """Hardware of one emulated layer: converters, array size, non-idealities.

    Attributes:
        weight_bits: magnitude bits of a weight. 1 = ternary (-1, 0, +1): one differential pair per weight,
            the paper's cell. b > 1: bit-slicing over b pairs in power-of-two column groups (slice k has
            weight 2^k), recombined digitally: integer levels -(2^b - 1) .. 2^b - 1. None: ideal analog
            pairs (continuous G+ - G-; not realisable with binary MTJs, a reference for tests).
        dac: the input DAC (:class:`DAC`).
        adc: the column ADC (:class:`ADC`).
        array_rows: word lines per physical array; larger layers are split over row blocks whose partial
            sums are converted separately and added digitally.
        array_cols: differential-pair columns per physical array (2 bit lines each).
        ir_drop: the wire-resistance model (:class:`FirstOrderIRDrop`), or None for ideal wires.
        read_noise: the cycle-to-cycle read noise (:class:`ColumnReadNoise` or :class:`PerCellReadNoise`), or
            None for noiseless reads.
        device_variation: draw device-to-device and array-to-array variation (conductances and p-bit
            thresholds) when programming; False programs every device at the median of its state.

    The flat names of earlier versions are accepted as keywords (applied on top of the parts, so
    ``dataclasses.replace(config, adc_bits=6)`` changes the ADC's bits) and read as properties:
    ``dac_bits``, ``dac_voltage_V``, ``input_range``, ``adc_bits``, ``adc_range_cells``, ``read_noise_model``,
    ``wire_resistance_per_cell_ohm``; ``read_noise=True/False`` and ``ir_drop=True/False`` select the part
    (``read_noise_model`` and ``wire_resistance_per_cell_ohm`` set it up) or None. ``config.read_noise`` and
    ``config.ir_drop`` are truthy exactly when the old flags were True.
    """

    weight_bits: int | None = 1
    dac: DAC = dataclasses.field(default_factory=DAC)
    adc: ADC = dataclasses.field(default_factory=ADC)
    array_rows: int = 256
    array_cols: int = 256
    ir_drop: FirstOrderIRDrop | None = None
    read_noise: ColumnReadNoise | PerCellReadNoise | None = dataclasses.field(default_factory=ColumnReadNoise)
    device_variation: bool = True

    def __init__(self, *, weight_bits: int | None = 1, dac: DAC | None = None, adc: ADC | None = None,
                 array_rows: int = 256, array_cols: int = 256, ir_drop=None, read_noise=_UNSET,
                 device_variation: bool = True, **legacy):
        unknown = sorted(set(legacy) - set(_LEGACY_KEYWORDS))
        if unknown:
            raise TypeError(f"CrossbarConfig got unexpected keyword(s) {unknown}; fields: "
                            f"{[f.name for f in dataclasses.fields(CrossbarConfig)]} (or the flat names "
                            f"{list(_LEGACY_KEYWORDS)})")
        dac = DAC() if dac is None else dac
        adc = ADC() if adc is None else adc
        dac = self._apply_flat(dac, DAC, "dac", legacy)
        adc = self._apply_flat(adc, ADC, "adc", legacy)
        read_noise = self._translate_read_noise(read_noise, legacy)
        ir_drop = self._translate_ir_drop(ir_drop, legacy)
        for name, value in (("weight_bits", weight_bits), ("dac", dac), ("adc", adc), ("array_rows", array_rows),
                            ("array_cols", array_cols), ("ir_drop", ir_drop), ("read_noise", read_noise),
                            ("device_variation", device_variation)):
            object.__setattr__(self, name, value)
        self.__post_init__()

    @staticmethod
    def _apply_flat(part, part_class: type, name: str, legacy: dict):
        """``part`` with the flat keywords that address it (``adc_bits``, ...) applied together."""
        changes = {field: legacy[keyword] for keyword, (owner, field) in _CONVERTER_KEYWORDS.items()
                   if owner == name and keyword in legacy}
        if not changes or not isinstance(part, part_class):
            return part  # (a wrong part is named by __post_init__)
        try:
            return dataclasses.replace(part, **changes)
        except ValueError as error:  # name the flat keyword the caller used
            where, message = str(error).split(": ", 1)  # "ADC.range_cells", "..."
            field = where.split(".", 1)[1]
            keyword = next(k for k, (owner, f) in _CONVERTER_KEYWORDS.items() if (owner, f) == (name, field))
            raise ValueError(f"CrossbarConfig.{keyword}: {message}") from None

    @staticmethod
    def _translate_read_noise(read_noise, legacy: dict):
        model = _read_noise_model(legacy["read_noise_model"]) if "read_noise_model" in legacy else None
        if read_noise is _UNSET:
            read_noise = True  # the default: column read noise (or the model named by read_noise_model)
        if read_noise is True:
            return _READ_NOISE_CLASSES[model or ReadNoiseModel.COLUMN]()
        if read_noise is False or read_noise is None:
            return None
        if model is not None and isinstance(read_noise, (ColumnReadNoise, PerCellReadNoise)):
            return _READ_NOISE_CLASSES[model]()  # dataclasses.replace(config, read_noise_model=...)
        return read_noise

    @staticmethod
    def _translate_ir_drop(ir_drop, legacy: dict):
        resistance = legacy.get("wire_resistance_per_cell_ohm", _UNSET)
        if resistance is not _UNSET:
            _check_resistance("wire_resistance_per_cell_ohm", resistance, "CrossbarConfig")
        if ir_drop is True:
            return FirstOrderIRDrop(_DEFAULT_WIRE_RESISTANCE_OHM if resistance is _UNSET else resistance)
        if ir_drop is False or ir_drop is None:
            return None
        if resistance is not _UNSET and isinstance(ir_drop, FirstOrderIRDrop):
            return FirstOrderIRDrop(resistance)
        return ir_drop

    def __post_init__(self):
        _check_bits("weight_bits", self.weight_bits, 1, 16, allow_none=True)
        if not isinstance(self.dac, DAC):
            _fail("dac", f"expected a DAC (e.g. DAC(bits=8)), got {self.dac!r}")
        if not isinstance(self.adc, ADC):
            _fail("adc", f"expected an ADC (e.g. ADC(bits=8, range_cells=16.0)), got {self.adc!r}")
        for field in ("array_rows", "array_cols"):
            value = getattr(self, field)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                _fail(field, f"must be an integer >= 1, got {value!r}")
        if self.ir_drop is not None and not isinstance(self.ir_drop, FirstOrderIRDrop):
            _fail("ir_drop", f"expected FirstOrderIRDrop(wire_resistance_per_cell_ohm) or None, got {self.ir_drop!r}")
        if self.read_noise is not None and not isinstance(self.read_noise, (ColumnReadNoise, PerCellReadNoise)):
            _fail("read_noise", f"expected ColumnReadNoise(), PerCellReadNoise() or None, got {self.read_noise!r}")
        if not isinstance(self.device_variation, bool):
            _fail("device_variation", f"must be True or False, got {self.device_variation!r}")

    @classmethod
    def ideal(cls, **overrides) -> CrossbarConfig:
        """A tile without variation, noise, IR drop or converter limits: it computes ``x @ W.T`` exactly.

        ``overrides`` take the parts or the flat keywords (applied on top of the ideal parts).
        """
        fields = dict(weight_bits=None, dac=DAC(bits=None), adc=ADC(bits=None, range_cells=None), read_noise=None,
                      device_variation=False, ir_drop=None)
        fields.update(overrides)
        return cls(**fields)

    # ------------------------------------------------------------------------ the flat names (read-only)
    @property
    def dac_bits(self) -> int | None:
        """``dac.bits``."""
        return self.dac.bits

    @property
    def dac_voltage_V(self) -> float | None:
        """``dac.voltage_V``."""
        return self.dac.voltage_V

    @property
    def input_range(self) -> float | None:
        """``dac.input_range``."""
        return self.dac.input_range

    @property
    def adc_bits(self) -> int | None:
        """``adc.bits``."""
        return self.adc.bits

    @property
    def adc_range_cells(self) -> float | None:
        """``adc.range_cells``."""
        return self.adc.range_cells

    @property
    def read_noise_model(self) -> ReadNoiseModel:
        """The read-noise model (``read_noise.model``; COLUMN, the old default, without read noise)."""
        return ReadNoiseModel.COLUMN if self.read_noise is None else self.read_noise.model

    @property
    def wire_resistance_per_cell_ohm(self) -> float:
        """``ir_drop.wire_resistance_per_cell_ohm`` (0.1 ohm, the old default, without IR drop)."""
        return _DEFAULT_WIRE_RESISTANCE_OHM if self.ir_drop is None else self.ir_drop.wire_resistance_per_cell_ohm

    @property
    def n_slices(self) -> int:
        """Differential pairs per weight (bit-slices); 1 for ternary and ideal analog weights."""
        return 1 if self.weight_bits is None else self.weight_bits

    # ------------------------------------------------------------------------------------ serialisation
    def to_dict(self) -> dict:
        """JSON-ready dictionary in the flat schema of saved layers and run records (enums by value)."""
        return {
            "weight_bits": self.weight_bits,
            "dac_bits": self.dac.bits,
            "dac_voltage_V": self.dac.voltage_V,
            "input_range": self.dac.input_range,
            "adc_bits": self.adc.bits,
            "adc_range_cells": self.adc.range_cells,
            "array_rows": self.array_rows,
            "array_cols": self.array_cols,
            "ir_drop": self.ir_drop is not None,
            "wire_resistance_per_cell_ohm": self.wire_resistance_per_cell_ohm,
            "read_noise": self.read_noise is not None,
            "read_noise_model": self.read_noise_model.value,
            "device_variation": self.device_variation,
        }

    @classmethod
    def from_dict(cls, data: dict) -> CrossbarConfig:
        """Inverse of :meth:`to_dict` (the flat schema, as saved by every version); unknown keys are rejected by
        name."""
        if not isinstance(data, dict):
            raise ValueError(f"CrossbarConfig: expected a dictionary of fields, got {type(data).__name__}")
        known = set(_FLAT_KEYS)
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"CrossbarConfig: unknown field(s) {sorted(unknown)}; known: {sorted(known)}")
        values = dict(data)
        for flag in ("ir_drop", "read_noise"):
            if flag in values and not isinstance(values[flag], bool):
                _fail(flag, f"must be true or false in a saved configuration, got {values[flag]!r}")
        if "read_noise_model" in values and not isinstance(values["read_noise_model"], ReadNoiseModel):
            try:
                values["read_noise_model"] = ReadNoiseModel(values["read_noise_model"])
            except ValueError:
                _fail("read_noise_model", f"expected one of {[m.value for m in ReadNoiseModel]}, "
                                          f"got {values['read_noise_model']!r}")
        return cls(**values)


_FLAT_KEYS = ("weight_bits", "dac_bits", "dac_voltage_V", "input_range", "adc_bits", "adc_range_cells", "array_rows",
              "array_cols", "ir_drop", "wire_resistance_per_cell_ohm", "read_noise", "read_noise_model",
              "device_variation")


@dataclasses.dataclass(frozen=True, kw_only=True)
class WritePulse:
    """The VCMA write pulse applied to every p-bit before each MC-dropconnect sample.

    Attributes:
        voltage_V: pulse amplitude (V).
        pulse_width_s: pulse width (s).
    """

    voltage_V: float = 1.5
    pulse_width_s: float = 7e-10

    def __post_init__(self):
        for field in ("voltage_V", "pulse_width_s"):
            value = getattr(self, field)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
                raise ValueError(f"WritePulse.{field}: must be a finite number > 0, got {value!r}")

    @classmethod
    def for_keep_probability(cls, card, probability: float, pulse_width_s: float | None = None) -> WritePulse:
        """The pulse whose median p-bit switches (keeps its weight) with ``probability``.

        Args:
            card: a ``devices.DeviceCard``.
            probability: target keep probability in (0, 1).
            pulse_width_s: pulse width (s); the card's operating width unless given.
        """
        from devices import voltage_at_probability

        if isinstance(probability, bool) or not isinstance(probability, (int, float)) or not 0 < probability < 1:
            raise ValueError(f"probability: must be in (0, 1) (a keep probability), got {probability!r}")
        width = card.p_bit.pulse_width_s if pulse_width_s is None else pulse_width_s
        return cls(voltage_V=voltage_at_probability(card.p_bit, probability, width), pulse_width_s=width)

    @classmethod
    def from_card(cls, card) -> WritePulse:
        """The card's own operating point (P = 0.5 for the default card)."""
        return cls(voltage_V=card.p_bit.write_voltage_V, pulse_width_s=card.p_bit.pulse_width_s)
