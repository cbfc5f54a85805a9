"""Circuit-level assumptions of the p-bit energy model, as frozen, validated configuration.

Every number the energy model uses is a field here, with its unit in the name and
its source or reason in the docstring. Three kinds of sources appear:

* **device**: the VCMA-MTJ facts the project uses (``devices.default_card()``):
  R_P ~ 88 kOhm (60 nm, RA ~ 250 Ohm um^2), TMR 65 % at 0.2 V read and > 100 % at
  low bias, p-bit operating point 1.5 V / 700 ps (Xiao et al., IEDM, Figs. 7-12).
* **typical**: a textbook or survey value for a 40 nm-class CMOS node (the paper
  does not name its CMOS node); the reason is given next to the field.
* **calibrated**: the paper gives no circuit detail for it, so the value was chosen
  (once, by hand, from the closed-form model) so that the default configuration
  reproduces the paper's Table II. These are documented as such in
  ``docs/energy.md``; a test changes them and watches the outputs move.

The model is parametric: the defaults describe one plausible design, and users
explore others by changing fields (``dataclasses.replace`` or a JSON file, see
:mod:`cim_emu.energy.config_io`).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

from devices import laws  # torch-free: the junction laws shared with the device models

__all__ = [
    "VACUUM_PERMITTIVITY_F_PER_M",
    "MTJElectrical",
    "CMOSTechnology",
    "CrossbarArray",
    "WriteCircuit",
    "SenseAmplifier",
    "BoardLink",
    "ExSituDesign",
    "MVMPeriphery",
    "EnergyConfig",
    "default_ex_situ_designs",
]

VACUUM_PERMITTIVITY_F_PER_M = 8.8541878128e-12

_UNITS = {
    "_V": "V",
    "_s": "s",
    "_F": "F",
    "_J": "J",
    "_A": "A",
    "_W": "W",
    "_ohm": "ohm",
    "_m": "m",
    "_m2": "m^2",
    "_F_per_m": "F/m",
    "_F_per_m2": "F/m^2",
    "_V_m": "V m",
    "_bit_per_s": "bit/s",
}


def _unit_of(name: str) -> str:
    # Longest suffix first so that "_F_per_m" wins over "_m".
    for suffix in sorted(_UNITS, key=len, reverse=True):
        if name.endswith(suffix):
            return " " + _UNITS[suffix]
    return ""


def _check_number(owner: object, name: str) -> float:
    value = getattr(owner, name)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{type(owner).__name__}.{name} must be a finite number{_unit_of(name)}, got {value!r}")
    return float(value)


def _positive(owner: object, *names: str, hint: str = "") -> None:
    for name in names:
        value = _check_number(owner, name)
        if value <= 0.0:
            extra = f"; {hint}" if hint else ""
            raise ValueError(f"{type(owner).__name__}.{name} must be > 0{_unit_of(name)}, got {value!r}{extra}")


def _non_negative(owner: object, *names: str) -> None:
    for name in names:
        value = _check_number(owner, name)
        if value < 0.0:
            raise ValueError(
                f"{type(owner).__name__}.{name} must be >= 0{_unit_of(name)} (a physical "
                f"{'capacitance' if name.endswith('_F') else 'quantity'} cannot be negative), got {value!r}"
            )


def _positive_int(owner: object, *names: str) -> None:
    for name in names:
        value = getattr(owner, name)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{type(owner).__name__}.{name} must be an integer >= 1, got {value!r}")


@dataclass(frozen=True, kw_only=True)
class MTJElectrical:
    """Electrical view of one VCMA-MTJ (data-bit or p-bit; same stack), parametrised like the device card.

    Attributes:
        resistance_area_ohm_m2: RA product of the MgO barrier (device card: 250 Ohm um^2), R_P = RA / area.
        diameter_m: pillar diameter (device card: 60 nm), so R_P = 88.4 kOhm.
        tmr_low_bias: TMR (R_AP / R_P - 1) at zero bias (device card: 1.08; standalone TMR above 100 %, Fig. 6).
        tmr_half_bias_V: V_h of TMR(V) = TMR0 / (1 + (V / V_h)^2) (device card: 0.2459 V, which puts
            the TMR at 65 % at the 0.2 V read, Fig. 7, and at 2.8 % at the 1.5 V write).
        read_voltage_V: read bias of the data-bit and of an ex-situ p-bit read (device card: 0.2 V).
        barrier_thickness_m: MgO tunnel-barrier thickness, sets the junction capacitance (typical: 1.4 nm
            for RA of a few hundred Ohm um^2; the capacitance matters little, < 1 % of the energy).
        barrier_relative_permittivity: MgO relative permittivity (typical: 9.8).

    ``from_card`` builds one from a ``devices.DeviceCard``; the defaults equal ``devices.default_card()``.
    """

    resistance_area_ohm_m2: float = 2.5e-10
    diameter_m: float = 60e-9
    tmr_low_bias: float = 1.08
    tmr_half_bias_V: float = 0.2459
    read_voltage_V: float = 0.2
    barrier_thickness_m: float = 1.4e-9
    barrier_relative_permittivity: float = 9.8

    def __post_init__(self) -> None:
        _positive(self, "resistance_area_ohm_m2", "diameter_m", "tmr_low_bias", "tmr_half_bias_V")
        _positive(self, "read_voltage_V", "barrier_thickness_m", "barrier_relative_permittivity")

    @classmethod
    def from_card(cls, card: object, **overrides: float) -> MTJElectrical:
        """The junction of a ``devices.DeviceCard`` (its ``data_bit`` section; the p-bit is the same stack)."""
        data_bit = card.data_bit
        values = {
            "resistance_area_ohm_m2": data_bit.resistance_area_ohm_m2,
            "diameter_m": data_bit.diameter_m,
            "tmr_low_bias": data_bit.tmr0,
            "tmr_half_bias_V": data_bit.tmr_half_bias_V,
            "read_voltage_V": data_bit.read_voltage_V,
        }
        return cls(**{**values, **overrides})

    @property
    def area_m2(self) -> float:
        """Pillar cross-section, pi (d / 2)^2 (the devices law, :func:`devices.laws.pillar_area_m2`)."""
        return laws.pillar_area_m2(self.diameter_m)

    @property
    def parallel_resistance_ohm(self) -> float:
        """R_P = RA / area (ohm) (the devices law, :func:`devices.laws.parallel_resistance_ohm`)."""
        return laws.parallel_resistance_ohm(self.resistance_area_ohm_m2, self.area_m2)

    @property
    def tmr_at_read(self) -> float:
        """TMR at the read voltage (fraction)."""
        return self.tmr_at(self.read_voltage_V)

    def tmr_at(self, bias_V: float) -> float:
        """TMR at a bias voltage (fraction): TMR0 / (1 + (V / V_h)^2) (the devices law, ``devices.laws``)."""
        return laws.tmr_at_bias_V(self.tmr_low_bias, self.tmr_half_bias_V, bias_V)

    def mean_conductance_S(self, bias_V: float) -> float:
        """Conductance averaged over the P and AP states (a p-bit at P = 0.5 spends half its time in each)."""
        g_parallel = 1.0 / self.parallel_resistance_ohm
        return 0.5 * (g_parallel + g_parallel / (1.0 + self.tmr_at(bias_V)))

    def conductance_difference_S(self, bias_V: float) -> float:
        """G_P - G_AP at a bias voltage (siemens): the signal a sense amplifier resolves."""
        g_parallel = 1.0 / self.parallel_resistance_ohm
        return g_parallel - g_parallel / (1.0 + self.tmr_at(bias_V))

    @property
    def capacitance_F(self) -> float:
        """Parallel-plate capacitance of the tunnel barrier, eps0 eps_r (pi d^2 / 4) / t."""
        permittivity = VACUUM_PERMITTIVITY_F_PER_M * self.barrier_relative_permittivity
        return permittivity * self.area_m2 / self.barrier_thickness_m


@dataclass(frozen=True, kw_only=True)
class CMOSTechnology:
    """The CMOS around the MTJs (a 40 nm-class node; the paper does not name its node).

    Attributes:
        supply_voltage_V: core supply V_dd (typical 40 nm: 0.9-1.1 V).
        wire_capacitance_F_per_m: capacitance of an intermediate-metal wire (typical: 0.2 fF/um).
        gate_capacitance_F_per_m2: gate-oxide capacitance C_ox (typical 40 nm: ~17 fF/um^2).
        pelgrom_coefficient_V_m: threshold mismatch A_VT, sigma(dV_T) = A_VT / sqrt(W L) for a pair
            (typical 40 nm: 2.5 mV um; Pelgrom et al., IEEE JSSC 1989).
        flip_flop_energy_J: one flip-flop capturing a random bit, clock included (typical 40 nm: ~3 fJ).
        flip_flop_area_m2: one flip-flop (typical 40 nm standard cell: ~4 um^2).
        random_data_activity: probability that a wire carrying random bits makes a 0 -> 1 transition
            per bit (drawing C V^2 from the supply); 1/4 for independent fair bits.
    """

    supply_voltage_V: float = 0.9
    wire_capacitance_F_per_m: float = 0.2e-9
    gate_capacitance_F_per_m2: float = 17e-3
    pelgrom_coefficient_V_m: float = 2.5e-9
    flip_flop_energy_J: float = 3.0e-15
    flip_flop_area_m2: float = 4.0e-12
    random_data_activity: float = 0.25

    def __post_init__(self) -> None:
        _positive(self, "supply_voltage_V")
        _non_negative(
            self,
            "wire_capacitance_F_per_m",
            "gate_capacitance_F_per_m2",
            "pelgrom_coefficient_V_m",
            "flip_flop_energy_J",
            "flip_flop_area_m2",
        )
        activity = _check_number(self, "random_data_activity")
        if not 0.0 <= activity <= 1.0:
            raise ValueError(f"CMOSTechnology.random_data_activity must lie in [0, 1], got {activity!r}")


@dataclass(frozen=True, kw_only=True)
class CrossbarArray:
    """One VCMA-MTJ array (the CIM array hosting in-situ p-bits; ex-situ TRNG arrays use the same cell).

    Attributes:
        n_rows: cells along a bit line (typical CIM sub-array: 128, NeuroSim's default).
        n_columns: differential cells along a word line (128).
        cell_height_m: cell pitch along the bit line (typical 2T2MTJ cell with thick-oxide access
            transistors at 40 nm: 0.4 um).
        cell_width_m: cell pitch along the word line (0.5 um: two bit lines per differential cell).
        access_junction_capacitance_F: drain junction of one (off) access transistor on a bit line
            (typical thick-oxide device: 0.12 fF).
        access_gate_capacitance_F: gate of one access transistor on the word line (typical: 0.1 fF).
        access_transistors_per_cell: 2 in the paper's differential cell (Fig. 20): data-bit and p-bit.
        trng_cell_area_m2: footprint of a 1T1MTJ cell in a dedicated (ex-situ) TRNG array (typical:
            0.1 um^2; the MTJ sits above the transistor in the back end).
    """

    n_rows: int = 128
    n_columns: int = 128
    cell_height_m: float = 0.4e-6
    cell_width_m: float = 0.5e-6
    access_junction_capacitance_F: float = 0.12e-15
    access_gate_capacitance_F: float = 0.1e-15
    access_transistors_per_cell: int = 2
    trng_cell_area_m2: float = 0.1e-12

    def __post_init__(self) -> None:
        _positive_int(self, "n_rows", "n_columns", "access_transistors_per_cell")
        _positive(self, "cell_height_m", "cell_width_m")
        _non_negative(self, "access_junction_capacitance_F", "access_gate_capacitance_F", "trng_cell_area_m2")

    def bitline_capacitance_per_cell_F(self, technology: CMOSTechnology) -> float:
        """Wire over one cell pitch plus one access-transistor junction (farads)."""
        return technology.wire_capacitance_F_per_m * self.cell_height_m + self.access_junction_capacitance_F

    def bitline_capacitance_F(self, technology: CMOSTechnology, n_rows: int | None = None) -> float:
        """A bit line spanning ``n_rows`` cells (default: this array's rows), farads."""
        rows = self.n_rows if n_rows is None else n_rows
        return rows * self.bitline_capacitance_per_cell_F(technology)

    def wordline_capacitance_F(self, technology: CMOSTechnology, n_columns: int | None = None) -> float:
        """A word line spanning ``n_columns`` cells: wire plus the access gates, farads."""
        columns = self.n_columns if n_columns is None else n_columns
        per_cell = (
            technology.wire_capacitance_F_per_m * self.cell_width_m
            + self.access_transistors_per_cell * self.access_gate_capacitance_F
        )
        return columns * per_cell

    def row_line_capacitance_F(self, technology: CMOSTechnology) -> float:
        """The input (source) line an MVM drives across all columns: wire plus junctions, farads."""
        per_cell = (
            technology.wire_capacitance_F_per_m * self.cell_width_m
            + self.access_transistors_per_cell * self.access_junction_capacitance_F
        )
        return self.n_columns * per_cell


@dataclass(frozen=True, kw_only=True)
class WriteCircuit:
    """The VCMA write path and its timing, shared by the CIM array and ex-situ TRNG arrays.

    A write cycle: decode and raise one word line (``control_time_s``), raise the pulsed bit lines
    (one RC edge), hold the pulse (``pulse_width_s``), let them fall (one RC edge).

    Attributes:
        write_voltage_V: p-bit pulse amplitude (device: 1.5 V gives P = 0.5 at 700 ps, Fig. 12).
        pulse_width_s: p-bit pulse width (device: 700 ps, first precession peak, Fig. 11).
        wordline_voltage_V: gate drive passing the write pulse through the access transistor
            (typical: write voltage plus a thick-oxide threshold, 1.5 + 0.5 V).
        driver_output_resistance_ohm: on-resistance of a bit-line write driver (typical: 2 kOhm).
        driver_input_capacitance_F: switched capacitance inside one driver and its level shifter,
            charged to the write voltage every pulse (typical: 3 fF).
        edge_time_constants: RC time constants per pulse edge (2.2 = 10-90 % rise).
        control_time_s: word-line decode and rise before the pulse (calibrated: 147.0 ps makes the
            in-situ cycle 1.074 ns, i.e. 32 bits per 1.074 ns = 29.8 bit/ns, Table II).
        control_energy_J: decoder, timing and clock energy per write cycle (calibrated: 60.41 fJ,
            i.e. 1.9 fJ per bit over 32 columns, puts the in-situ write at 0.089 pJ/bit).
        n_parallel_columns: columns pulsed together in one write cycle, one p-bit each (assumption:
            32 of the 128 columns, the column-mux ratio 4 of the array's drivers).
        supply_current_limit_A: DC current the write-voltage rail can source during the pulse
            plateau (assumption: 1 mA; 59 columns of 17 uA each); more columns wait a cycle.
    """

    write_voltage_V: float = 1.5
    pulse_width_s: float = 700e-12
    wordline_voltage_V: float = 2.0
    driver_output_resistance_ohm: float = 2.0e3
    driver_input_capacitance_F: float = 3.0e-15
    edge_time_constants: float = 2.2
    control_time_s: float = 147.0e-12
    control_energy_J: float = 60.41e-15
    n_parallel_columns: int = 32
    supply_current_limit_A: float = 1.0e-3

    def __post_init__(self) -> None:
        _positive(self, "write_voltage_V", "wordline_voltage_V")
        _positive(
            self,
            "pulse_width_s",
            hint="a zero-length pulse writes nothing and would make the cycle time zero",
        )
        _non_negative(
            self,
            "driver_output_resistance_ohm",
            "driver_input_capacitance_F",
            "edge_time_constants",
            "control_time_s",
            "control_energy_J",
        )
        _positive(self, "supply_current_limit_A")
        _positive_int(self, "n_parallel_columns")


@dataclass(frozen=True, kw_only=True)
class SenseAmplifier:
    """A current-comparing sense amplifier that samples one ex-situ p-bit per cycle.

    The p-bit's bit line is precharged to the read voltage; the cell and a mid-point reference
    sink currents differing by dI / 2 = V_read (G_P - G_AP) / 2, which builds the sense margin on the
    sense node in t_sense = C_node dV / (dI / 2). The margin dV is ``offset_sigmas`` times the
    input-pair offset A_VT / sqrt(W L) (Pelgrom): a larger input pair senses sooner but loads the
    node with more gate capacitance.

    Attributes:
        input_pair_area_m2: W L of one input transistor (calibrated per design: it sets the sense
            time, hence each design's throughput).
        fixed_capacitance_F: precharge and isolation devices on the sense node (typical: 1 fF).
        offset_sigmas: read margin in offset standard deviations (4: misread rate ~3e-5 per amplifier).
        bias_current_A: amplifier bias and reference branch current while sensing (typical
            current-mode sense amplifier: 10 uA).
        decision_capacitance_F: internal nodes switched by the regenerative latch (typical: 4 fF).
        precharge_time_s: precharge of the bit line to the read voltage (typical: 100 ps).
        latch_time_s: regeneration plus the output flip-flop's setup (typical: 50 ps).
        area_m2: layout footprint including the output flip-flop's neighbours (typical compact latch
            sense amplifier: ~10 um^2 at 40 nm; calibrated per design to the Table II areas).
    """

    input_pair_area_m2: float
    fixed_capacitance_F: float = 1.0e-15
    offset_sigmas: float = 4.0
    bias_current_A: float = 10e-6
    decision_capacitance_F: float = 4.0e-15
    precharge_time_s: float = 100e-12
    latch_time_s: float = 50e-12
    area_m2: float = 10e-12

    def __post_init__(self) -> None:
        _positive(self, "input_pair_area_m2", "offset_sigmas")
        _non_negative(
            self,
            "fixed_capacitance_F",
            "bias_current_A",
            "decision_capacitance_F",
            "precharge_time_s",
            "latch_time_s",
            "area_m2",
        )


@dataclass(frozen=True, kw_only=True)
class BoardLink:
    """An off-chip link over a printed circuit board (the paper's "PCB" ex-situ row).

    Attributes:
        bit_rate_bit_per_s: serial data rate of the link (calibrated: 0.5 Mbit/s = 5e-4 bit/ns of
            Table II; typical of a microcontroller-polled SPI/GPIO link on a test board).
        io_voltage_V: I/O signalling voltage (typical board I/O: 3.3 V).
        line_capacitance_F: pad, package, trace and receiver input of one line (typical: 15 pF).
        clock_lines: lines that toggle once per bit in addition to the data line (1: an SPI clock).
        static_power_W: power of the I/O banks, level shifters and receiving interface while the link
            runs (calibrated: 8.298 mW gives the row's 16800 pJ/bit at 0.5 Mbit/s).
    """

    bit_rate_bit_per_s: float = 0.5e6
    io_voltage_V: float = 3.3
    line_capacitance_F: float = 15e-12
    clock_lines: int = 1
    static_power_W: float = 8.298e-3

    def __post_init__(self) -> None:
        _positive(self, "bit_rate_bit_per_s", "io_voltage_V")
        _non_negative(self, "line_capacitance_F", "static_power_W")
        if isinstance(self.clock_lines, bool) or not isinstance(self.clock_lines, int) or self.clock_lines < 0:
            raise ValueError(f"BoardLink.clock_lines must be an integer >= 0, got {self.clock_lines!r}")


@dataclass(frozen=True, kw_only=True)
class ExSituDesign:
    """One ex-situ p-bit generator: a dedicated TRNG array, sense amplifiers, buffer and transfer.

    The TRNG array uses the CIM array's cell and write circuit ("same technology"): a column of
    ``trng_rows`` cells per pulsed column, one row written per cycle. Sampled bits are latched,
    optionally buffered, and moved over an on-chip wire (and, with ``board_link``, off chip).

    Attributes:
        name: identifier used in reports and by ``EnergyConfig.pricing_ex_situ_design``.
        description: one line for humans.
        n_sense_amplifiers: bits that can be sampled per cycle (the sense budget).
        n_parallel_columns: TRNG columns pulsed per cycle (None: one per sense amplifier). Columns
            beyond the sense budget cost write energy but give no sampled bit.
        trng_rows: cells per TRNG bit line (default 128: the CIM array's column, same technology).
        sense_amplifier: the sampling circuit.
        buffer_depth_bits: FIFO capacity decoupling generation from consumption (0: none).
        buffer_energy_per_bit_J: writing plus reading one bit of that FIFO (typical register-file
            FIFO at 40 nm: ~20 fJ per bit, both accesses).
        wire_length_m: on-chip route from the sense amplifiers to the consuming array (or to the pad).
        control_area_m2: timing and control logic of the generator (typical: 50 um^2).
        board_link: off-chip link, or None for an on-chip design.
    """

    name: str
    description: str = ""
    n_sense_amplifiers: int
    n_parallel_columns: int | None = None
    trng_rows: int = 128
    sense_amplifier: SenseAmplifier
    buffer_depth_bits: int = 0
    buffer_energy_per_bit_J: float = 0.0
    wire_length_m: float
    control_area_m2: float = 50e-12
    board_link: BoardLink | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise ValueError(f"ExSituDesign.name must be a non-empty string, got {self.name!r}")
        _positive_int(self, "n_sense_amplifiers", "trng_rows")
        if self.n_parallel_columns is not None:
            _positive_int(self, "n_parallel_columns")
        if (
            isinstance(self.buffer_depth_bits, bool)
            or not isinstance(self.buffer_depth_bits, int)
            or self.buffer_depth_bits < 0
        ):
            raise ValueError(f"ExSituDesign.buffer_depth_bits must be an integer >= 0, got {self.buffer_depth_bits!r}")
        _non_negative(self, "buffer_energy_per_bit_J", "wire_length_m", "control_area_m2")
        if not isinstance(self.sense_amplifier, SenseAmplifier):
            raise ValueError(f"ExSituDesign {self.name!r}: sense_amplifier must be a SenseAmplifier")
        if self.board_link is not None and not isinstance(self.board_link, BoardLink):
            raise ValueError(f"ExSituDesign {self.name!r}: board_link must be a BoardLink or None")

    @property
    def pulsed_columns(self) -> int:
        """TRNG columns pulsed per cycle."""
        return self.n_sense_amplifiers if self.n_parallel_columns is None else self.n_parallel_columns


def default_ex_situ_designs() -> tuple[ExSituDesign, ...]:
    """The three ex-situ designs of Table II ("this work" rows), as modelled here.

    * ``ex_situ_central``: a compact TRNG block shared by the macro: 16 small sense amplifiers,
      a 32-bit FIFO, 1.31 mm of global wire to the arrays (Table II: 609.8 um^2, 4.97 bit/ns, 0.196 pJ/bit).
    * ``ex_situ_distributed``: TRNG columns beside the array: 24 larger, lower-offset sense amplifiers
      (faster), no FIFO, 0.18 mm of local wire (Table II: 2254 um^2, 10 bit/ns, 0.121 pJ/bit).
    * ``ex_situ_pcb``: a separate TRNG chip (the central design's sampling) read over a board link
      (Table II: PCB, 5e-4 bit/ns, 16800 pJ/bit).
    """
    compact_amplifier = SenseAmplifier(input_pair_area_m2=0.1029e-12, area_m2=10.19e-12)
    central = ExSituDesign(
        name="ex_situ_central",
        description="compact shared TRNG block, FIFO, long global wire (Table II: 609.8 um^2)",
        n_sense_amplifiers=16,
        sense_amplifier=compact_amplifier,
        buffer_depth_bits=32,
        buffer_energy_per_bit_J=20e-15,
        wire_length_m=1.312e-3,
    )
    distributed = ExSituDesign(
        name="ex_situ_distributed",
        description="TRNG columns beside the array, low-offset sense amplifiers, short wire (Table II: 2254 um^2)",
        n_sense_amplifiers=24,
        sense_amplifier=SenseAmplifier(input_pair_area_m2=0.4180e-12, area_m2=75.03e-12),
        wire_length_m=0.1759e-3,
    )
    pcb = ExSituDesign(
        name="ex_situ_pcb",
        description="separate TRNG chip (central design's sampling) over a board link (Table II: PCB)",
        n_sense_amplifiers=16,
        sense_amplifier=compact_amplifier,
        wire_length_m=1.0e-3,
        board_link=BoardLink(),
    )
    return (central, distributed, pcb)


@dataclass(frozen=True, kw_only=True)
class MVMPeriphery:
    """Costs of the ordinary CIM operations, used to price operation counters (not Table II).

    Attributes:
        adc_bits: column ADC resolution (assumption: 6 bits).
        adc_energy_per_step_J: Walden figure of merit, energy per conversion step, E = FoM 2^bits
            (typical SAR ADC in CIM macros: 10-50 fJ/step; Murmann's ADC survey).
        adc_bit_cycle_time_s: one SAR bit cycle; a conversion takes (bits + 1) cycles (typical: 1 ns).
        columns_per_adc: columns multiplexed onto one ADC (typical CIM macro: 8).
        dac_energy_J: input driver per driven row, besides charging the row line (typical: 10 fJ).
        read_time_s: bit-line settling and integration of one analog MVM (typical: 2 ns).
        mvm_control_energy_J: decoders, timing and clocks per MVM (typical: 0.3 pJ).
        digital_add_energy_J: one digital addition (pdnn paper Table 1: 0.239 pJ, 32-bit, 65 nm).
        digital_add_time_s: one addition (typical: 1 ns).
        n_digital_adders: adders working in parallel per tile (typical: 16, one per ADC).
        programming_voltage_V: deterministic write (data-bit programming, p-bit reset) amplitude
            (assumption: 2.0 V, well above the 1.5 V V50 so that P ~ 1).
        programming_pulse_width_s: deterministic write pulse (assumption: 700 ps, half a precession).
    """

    adc_bits: int = 6
    adc_energy_per_step_J: float = 20e-15
    adc_bit_cycle_time_s: float = 1e-9
    columns_per_adc: int = 8
    dac_energy_J: float = 10e-15
    read_time_s: float = 2e-9
    mvm_control_energy_J: float = 0.3e-12
    digital_add_energy_J: float = 0.239e-12
    digital_add_time_s: float = 1e-9
    n_digital_adders: int = 16
    programming_voltage_V: float = 2.0
    programming_pulse_width_s: float = 700e-12

    def __post_init__(self) -> None:
        _positive_int(self, "adc_bits", "columns_per_adc", "n_digital_adders")
        _non_negative(self, "adc_energy_per_step_J", "dac_energy_J", "mvm_control_energy_J", "digital_add_energy_J")
        _positive(
            self,
            "adc_bit_cycle_time_s",
            "read_time_s",
            "digital_add_time_s",
            "programming_pulse_width_s",
            hint="a zero time would make the cycle time zero",
        )
        _positive(self, "programming_voltage_V")


@dataclass(frozen=True, kw_only=True)
class EnergyConfig:
    """Everything the energy model needs; the default reproduces Table II of the paper.

    Attributes:
        mtj: the junction.
        technology: the CMOS node.
        array: the CIM array (host of the in-situ p-bits).
        write: the VCMA write path and its timing.
        ex_situ_designs: the ex-situ generators to compare against (names must be unique).
        periphery: ADC, DAC, adders and programming pulses, for pricing operation counters.
        pricing_ex_situ_design: which ex-situ design prices ``trng_bits_generated`` and ``bits_moved``
            and serves as the reference of the headline ratios (None: the first design, by default the
            central one of the paper's 6x / 2.19x comparison).
    """

    mtj: MTJElectrical = field(default_factory=MTJElectrical)
    technology: CMOSTechnology = field(default_factory=CMOSTechnology)
    array: CrossbarArray = field(default_factory=CrossbarArray)
    write: WriteCircuit = field(default_factory=WriteCircuit)
    ex_situ_designs: tuple[ExSituDesign, ...] = field(default_factory=default_ex_situ_designs)
    periphery: MVMPeriphery = field(default_factory=MVMPeriphery)
    pricing_ex_situ_design: str | None = None

    def __post_init__(self) -> None:
        for name, expected in (
            ("mtj", MTJElectrical),
            ("technology", CMOSTechnology),
            ("array", CrossbarArray),
            ("write", WriteCircuit),
            ("periphery", MVMPeriphery),
        ):
            if not isinstance(getattr(self, name), expected):
                raise ValueError(f"EnergyConfig.{name} must be a {expected.__name__}")
        designs = tuple(self.ex_situ_designs)
        object.__setattr__(self, "ex_situ_designs", designs)
        if not designs:
            raise ValueError("EnergyConfig.ex_situ_designs must list at least one ex-situ design")
        names = [design.name for design in designs]
        if len(set(names)) != len(names):
            raise ValueError(f"EnergyConfig.ex_situ_designs: design names must be unique, got {names}")
        if self.pricing_ex_situ_design is not None and self.pricing_ex_situ_design not in names:
            raise ValueError(
                f"EnergyConfig.pricing_ex_situ_design {self.pricing_ex_situ_design!r} is not one of the "
                f"ex-situ designs {names}"
            )

    @property
    def pricing_design_name(self) -> str:
        """The ex-situ design used for pricing and for the headline ratios."""
        return self.pricing_ex_situ_design or self.ex_situ_designs[0].name

    @classmethod
    def from_card(cls, card: object, base: EnergyConfig | None = None) -> EnergyConfig:
        """``base`` (default: the shipped configuration) with the device numbers of a ``devices.DeviceCard``.

        Takes the junction (RA, diameter, TMR(V), read voltage) and the p-bit operating point (write
        voltage, pulse width); every circuit field keeps its value.
        """
        base = cls() if base is None else base
        write = dataclasses.replace(
            base.write, write_voltage_V=float(card.p_bit.write_voltage_V), pulse_width_s=float(card.p_bit.pulse_width_s)
        )
        return dataclasses.replace(base, mtj=MTJElectrical.from_card(card), write=write)

    def design(self, name: str) -> ExSituDesign:
        """The ex-situ design called ``name`` (``ValueError`` naming the known ones otherwise)."""
        for design in self.ex_situ_designs:
            if design.name == name:
                return design
        raise ValueError(f"no ex-situ design {name!r}; known: {[d.name for d in self.ex_situ_designs]}")

    def replace(self, **changes: object) -> EnergyConfig:
        """A copy with some top-level fields replaced (validated again)."""
        return dataclasses.replace(self, **changes)
