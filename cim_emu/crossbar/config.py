"""Configuration of an emulated crossbar tile and of the p-bit write pulse (frozen, validated data).

A tile maps a layer's weights onto differential pairs of VCMA-MTJs and runs every
matrix-vector multiplication (MVM) through the analog signal chain:

    digital input -> input DAC (bits, full-scale voltage, clipping) -> row voltages (V)
    -> Kirchhoff column currents (A) -> differential sense -> column ADC (bits, range, clipping)
    -> digital partial sums (added across arrays and bit-slices) -> digital scale and bias.

Every field carries its unit in its name or docstring; validation names the field and the fix.
"""

from __future__ import annotations

import dataclasses
import enum
import math

__all__ = ["CrossbarConfig", "ReadNoiseModel", "WritePulse"]


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


def _fail(field: str, message: str) -> None:
    raise ValueError(f"CrossbarConfig.{field}: {message}")


def _check_bits(field: str, value, minimum: int, maximum: int, *, allow_none: bool) -> None:
    if value is None:
        if not allow_none:
            _fail(field, "must be an integer")
        return
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
        none_hint = " or None for an ideal (infinite-resolution) converter" if allow_none else ""
        _fail(field, f"must be an integer in [{minimum}, {maximum}]{none_hint}, got {value!r}")


def _check_positive(field: str, value, *, allow_none: bool) -> None:
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        hint = " (or None)" if allow_none else ""
        _fail(field, f"must be a finite number > 0{hint}, got {value!r}")


@dataclasses.dataclass(frozen=True, kw_only=True)
class CrossbarConfig:
    """Hardware of one emulated layer: converters, array size, non-idealities.

    Attributes:
        weight_bits: magnitude bits of a weight. 1 = ternary (-1, 0, +1): one differential pair per weight,
            the paper's cell. b > 1: bit-slicing over b pairs in power-of-two column groups (slice k has
            weight 2^k), recombined digitally: integer levels -(2^b - 1) .. 2^b - 1. None: ideal analog
            pairs (continuous G+ - G-; not realisable with binary MTJs, a reference for tests).
        dac_bits: input DAC resolution including the sign (levels -(2^(b-1) - 1) .. 2^(b-1) - 1);
            None = ideal.
        dac_voltage_V: DAC full-scale read voltage (V); None = the device card's read voltage.
        input_range: digital input value mapped to full scale. None = dynamic: each input row is divided
            by its own largest magnitude (a digital pre-scale undone after the ADC), so nothing clips.
            A number: fixed range, inputs beyond +-input_range clip.
        adc_bits: column ADC resolution including the sign; None = ideal (no rounding).
        adc_range_cells: ADC full scale (+-) in unit-cell currents, i.e. in multiples of
            dac_voltage_V * (G_P - G_AP) (median conductances); currents beyond it clip. None = no clipping.
        array_rows: word lines per physical array; larger layers are split over row blocks whose partial
            sums are converted separately and added digitally.
        array_cols: differential-pair columns per physical array (2 bit lines each).
        ir_drop: apply the first-order IR-drop model (row and column wire resistance).
        wire_resistance_per_cell_ohm: wire resistance of one cell pitch of a row or column line (ohm).
            0.1 ohm: copper (rho ~ 4e-8 ohm m at these widths) over a 0.2 um pitch with a 0.2 um x 0.4 um
            cross-section; thin lower-metal lines reach ~1 ohm. The first-order model is refused where its
            largest relative correction exceeds 0.25 (use smaller arrays or lower resistance there).
        read_noise: draw cycle-to-cycle read noise at every MVM.
        read_noise_model: how the read noise is computed (see :class:`ReadNoiseModel`).
        device_variation: draw device-to-device and array-to-array variation (conductances and p-bit
            thresholds) when programming; False programs every device at the median of its state.
    """

    weight_bits: int | None = 1
    dac_bits: int | None = 8
    dac_voltage_V: float | None = None
    input_range: float | None = None
    adc_bits: int | None = 8
    adc_range_cells: float | None = 16.0
    array_rows: int = 256
    array_cols: int = 256
    ir_drop: bool = False
    wire_resistance_per_cell_ohm: float = 0.1
    read_noise: bool = True
    read_noise_model: ReadNoiseModel = ReadNoiseModel.COLUMN
    device_variation: bool = True

    def __post_init__(self):
        _check_bits("weight_bits", self.weight_bits, 1, 16, allow_none=True)
        _check_bits("dac_bits", self.dac_bits, 2, 24, allow_none=True)
        _check_bits("adc_bits", self.adc_bits, 2, 24, allow_none=True)
        _check_positive("dac_voltage_V", self.dac_voltage_V, allow_none=True)
        _check_positive("input_range", self.input_range, allow_none=True)
        if self.adc_range_cells is not None and (
                isinstance(self.adc_range_cells, bool) or not isinstance(self.adc_range_cells, (int, float))
                or not math.isfinite(self.adc_range_cells) or self.adc_range_cells <= 0):
            _fail("adc_range_cells", f"must be a finite number > 0 (an ADC range of {self.adc_range_cells!r} "
                                     "converts nothing); use e.g. 16.0, or None for an unclipped ADC")
        if self.adc_bits is not None and self.adc_range_cells is None:
            _fail("adc_range_cells", f"a {self.adc_bits}-bit ADC needs a full scale: set adc_range_cells "
                                     "(e.g. 16.0), or adc_bits=None for an ideal ADC")
        for field in ("array_rows", "array_cols"):
            value = getattr(self, field)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                _fail(field, f"must be an integer >= 1, got {value!r}")
        if (isinstance(self.wire_resistance_per_cell_ohm, bool)
                or not isinstance(self.wire_resistance_per_cell_ohm, (int, float))
                or not math.isfinite(self.wire_resistance_per_cell_ohm) or self.wire_resistance_per_cell_ohm < 0):
            _fail("wire_resistance_per_cell_ohm",
                  f"must be a finite number >= 0, got {self.wire_resistance_per_cell_ohm!r}")
        for field in ("ir_drop", "read_noise", "device_variation"):
            if not isinstance(getattr(self, field), bool):
                _fail(field, f"must be True or False, got {getattr(self, field)!r}")
        if not isinstance(self.read_noise_model, ReadNoiseModel):
            _fail("read_noise_model", f"must be a ReadNoiseModel (COLUMN or PER_CELL), got {self.read_noise_model!r}")

    @classmethod
    def ideal(cls, **overrides) -> CrossbarConfig:
        """A tile without variation, noise, IR drop or converter limits: it computes ``x @ W.T`` exactly."""
        fields = dict(weight_bits=None, dac_bits=None, adc_bits=None, adc_range_cells=None, read_noise=False,
                      device_variation=False, ir_drop=False)
        fields.update(overrides)
        return cls(**fields)

    @property
    def n_slices(self) -> int:
        """Differential pairs per weight (bit-slices); 1 for ternary and ideal analog weights."""
        return 1 if self.weight_bits is None else self.weight_bits

    def to_dict(self) -> dict:
        """JSON-ready dictionary (enums by value)."""
        data = dataclasses.asdict(self)
        data["read_noise_model"] = self.read_noise_model.value
        return data

    @classmethod
    def from_dict(cls, data: dict) -> CrossbarConfig:
        """Inverse of :meth:`to_dict`; unknown keys are rejected by name."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"CrossbarConfig: unknown field(s) {sorted(unknown)}; known: {sorted(known)}")
        values = dict(data)
        if "read_noise_model" in values and not isinstance(values["read_noise_model"], ReadNoiseModel):
            try:
                values["read_noise_model"] = ReadNoiseModel(values["read_noise_model"])
            except ValueError:
                _fail("read_noise_model", f"expected one of {[m.value for m in ReadNoiseModel]}, "
                                          f"got {values['read_noise_model']!r}")
        return cls(**values)


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
