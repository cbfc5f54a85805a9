"""Throughput, energy per bit and added area of in-situ and ex-situ p-bit generation (Table II).

In situ (Xiao et al., Fig. 3c): the p-bit of each differential cell is pulsed where it sits; the
compute read that follows is the MVM the network does anyway, so a bit costs one VCMA write and
nothing is added to the chip. Ex situ (Fig. 2): the bit is written in a separate TRNG array, then
sampled by a sense amplifier, latched, possibly buffered, and moved to the compute array.

Energy of one write pulse on one column (all SI):

* Joule heating of the junction: V^2 t_pulse G_mean(V), G_mean averaged over the P and AP states at
  the write bias (TMR collapses at 1.5 V, so both are close to R_P);
* charging the junction, the bit line and the driver's own nodes: (C_mtj + C_bl + C_drv) V^2
  (charge C V drawn at V, returned to ground after the pulse);
* per cycle, shared by the pulsed columns: the word line, C_wl V_wl^2, and the control energy.

Ex-situ sampling per bit: precharge C_node V_read V_dd, the cell and the amplifier bias over the
sense time (V_dd I t_sense), the latch decision C_dec V_dd^2 and one flip-flop; transfer per bit:
buffer, a_01 C_wire L V_dd^2 on the wire, one flip-flop at the destination; off chip, the board
lines' (a_01 + clock) C_line V_io^2 and the link's static power divided by the achieved bit rate.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from cim_emu.energy.circuit import EnergyConfig, ExSituDesign

__all__ = [
    "TRANSFER_COMPONENTS",
    "WritePulseEnergy",
    "GenerationResult",
    "GenerationComparison",
    "write_pulse_energy",
    "sense_time_s",
    "in_situ_generation",
    "ex_situ_generation",
    "compare_generation",
]

# Breakdown keys that belong to moving a bit (the rest is making and sampling it).
TRANSFER_COMPONENTS = frozenset({"buffer", "wire", "destination_register", "board_link_dynamic", "board_link_static"})


@dataclass(frozen=True)
class WritePulseEnergy:
    """Energy of one write pulse on one column, by physical origin (joules).

    Attributes:
        joule_heating_J: V^2 t G_mean through the junction.
        junction_charging_J: C_mtj V^2.
        bitline_charging_J: C_bitline V^2.
        driver_J: the driver's own switched capacitance, C_drv V^2.
        current_A: DC current through the junction during the plateau.
    """

    joule_heating_J: float
    junction_charging_J: float
    bitline_charging_J: float
    driver_J: float
    current_A: float

    @property
    def total_J(self) -> float:
        """Sum of the four energy terms."""
        return self.joule_heating_J + self.junction_charging_J + self.bitline_charging_J + self.driver_J


def write_pulse_energy(
    config: EnergyConfig,
    *,
    n_rows: int | None = None,
    voltage_V: float | None = None,
    pulse_width_s: float | None = None,
) -> WritePulseEnergy:
    """Energy of one VCMA pulse on one column of ``n_rows`` cells.

    Args:
        config: the circuit configuration.
        n_rows: cells on the pulsed bit line (default: the CIM array's rows).
        voltage_V: pulse amplitude (default: ``config.write.write_voltage_V``).
        pulse_width_s: pulse width (default: ``config.write.pulse_width_s``).

    Returns:
        The energy terms of one pulse.
    """
    voltage = config.write.write_voltage_V if voltage_V is None else float(voltage_V)
    width = config.write.pulse_width_s if pulse_width_s is None else float(pulse_width_s)
    if not (voltage > 0.0 and width > 0.0):
        raise ValueError(f"write pulse needs voltage_V > 0 and pulse_width_s > 0, got {voltage!r}, {width!r}")
    conductance = config.mtj.mean_conductance_S(voltage)
    bitline = config.array.bitline_capacitance_F(config.technology, n_rows)
    return WritePulseEnergy(
        joule_heating_J=voltage**2 * width * conductance,
        junction_charging_J=config.mtj.capacitance_F * voltage**2,
        bitline_charging_J=bitline * voltage**2,
        driver_J=config.write.driver_input_capacitance_F * voltage**2,
        current_A=voltage * conductance,
    )


def _edge_time_s(config: EnergyConfig, n_rows: int) -> float:
    # A bit line (plus the junction) charged through the driver's on-resistance.
    load = config.array.bitline_capacitance_F(config.technology, n_rows) + config.mtj.capacitance_F
    return config.write.edge_time_constants * config.write.driver_output_resistance_ohm * load


def _write_cycle_time_s(config: EnergyConfig, n_rows: int, pulse_width_s: float) -> float:
    return config.write.control_time_s + 2.0 * _edge_time_s(config, n_rows) + pulse_width_s


def _columns_within_current_limit(config: EnergyConfig, requested: int, current_A: float) -> int:
    # The write rail sources at most supply_current_limit_A during the plateau.
    affordable = math.floor(config.write.supply_current_limit_A / current_A) if current_A > 0 else requested
    return max(1, min(requested, affordable))


def _sense_node_capacitance_F(config: EnergyConfig, design: ExSituDesign) -> float:
    amplifier = design.sense_amplifier
    return (
        config.array.bitline_capacitance_F(config.technology, design.trng_rows)
        + config.mtj.capacitance_F
        + amplifier.fixed_capacitance_F
        + config.technology.gate_capacitance_F_per_m2 * amplifier.input_pair_area_m2
    )


def sense_time_s(config: EnergyConfig, design: ExSituDesign) -> float:
    """Time for the cell current to build the sense margin on the sense node (seconds).

    t_sense = C_node dV / (dI / 2), with dV = offset_sigmas A_VT / sqrt(W L) and
    dI = V_read (G_P - G_AP); the reference sits half-way between the two states.
    """
    amplifier = design.sense_amplifier
    margin_V = (
        amplifier.offset_sigmas * config.technology.pelgrom_coefficient_V_m / math.sqrt(amplifier.input_pair_area_m2)
    )
    half_signal_A = 0.5 * config.mtj.read_voltage_V * config.mtj.conductance_difference_S(config.mtj.read_voltage_V)
    return _sense_node_capacitance_F(config, design) * margin_V / half_signal_A


@dataclass(frozen=True)
class GenerationResult:
    """One p-bit generation scheme, in SI units.

    Attributes:
        name: ``"in_situ"`` or the ex-situ design's name.
        location: ``"in-situ"``, ``"ex-situ on chip"`` or ``"ex-situ off chip"``.
        throughput_bit_per_s: usable random bits per second.
        energy_per_bit_J: energy per usable bit.
        area_m2: silicon area added to the CIM chip for this scheme (None: off chip, on a board).
        cycle_time_s: one generation (write, or write and sample) cycle.
        bits_per_cycle: usable bits per cycle.
        limited_by: what caps the throughput.
        energy_breakdown_J: energy per usable bit by component; sums to ``energy_per_bit_J``.
        area_breakdown_m2: added area by block.
    """

    name: str
    location: str
    throughput_bit_per_s: float
    energy_per_bit_J: float
    area_m2: float | None
    cycle_time_s: float
    bits_per_cycle: int
    limited_by: str
    energy_breakdown_J: dict[str, float]
    area_breakdown_m2: dict[str, float]

    def paper_units(self) -> dict[str, float | None]:
        """Throughput, energy and area in Table II's units (bit/ns, pJ/bit, um^2)."""
        return {
            "throughput_bit_per_ns": self.throughput_bit_per_s * 1e-9,
            "energy_pJ_per_bit": self.energy_per_bit_J * 1e12,
            "area_um2": None if self.area_m2 is None else self.area_m2 * 1e12,
        }

    def transfer_energy_J(self) -> float:
        """Energy per bit spent moving the bit (buffer, wires, board link)."""
        return sum(v for k, v in self.energy_breakdown_J.items() if k in TRANSFER_COMPONENTS)

    def to_dict(self) -> dict:
        """JSON-ready dictionary (SI units)."""
        return asdict(self)


def in_situ_generation(config: EnergyConfig) -> GenerationResult:
    """In-situ p-bits: pulse ``n_parallel_columns`` p-bits of one row of the CIM array per cycle.

    Nothing is added to the chip: the cell is the conventional differential cell and the write
    drivers are the ones that program the data-bits (the paper's "100 % reuse").
    """
    rows = config.array.n_rows
    pulse = write_pulse_energy(config, n_rows=rows)
    requested = min(config.write.n_parallel_columns, config.array.n_columns)
    bits = _columns_within_current_limit(config, requested, pulse.current_A)
    if bits < requested:
        limited_by = "write supply current"
    elif config.write.n_parallel_columns > config.array.n_columns:
        limited_by = "array columns"
    else:
        limited_by = "parallel columns"
    cycle = _write_cycle_time_s(config, rows, config.write.pulse_width_s)
    wordline = config.array.wordline_capacitance_F(config.technology) * config.write.wordline_voltage_V**2
    breakdown = {
        "joule_heating": pulse.joule_heating_J,
        "junction_charging": pulse.junction_charging_J,
        "bitline_charging": pulse.bitline_charging_J,
        "write_driver": pulse.driver_J,
        "wordline": wordline / bits,
        "control": config.write.control_energy_J / bits,
    }
    return GenerationResult(
        name="in_situ",
        location="in-situ",
        throughput_bit_per_s=bits / cycle,
        energy_per_bit_J=sum(breakdown.values()),
        area_m2=0.0,
        cycle_time_s=cycle,
        bits_per_cycle=bits,
        limited_by=limited_by,
        energy_breakdown_J=breakdown,
        area_breakdown_m2={},
    )


def ex_situ_generation(config: EnergyConfig, design: ExSituDesign | str) -> GenerationResult:
    """Ex-situ p-bits: write in a TRNG array, sample, latch, buffer and move each bit.

    Args:
        config: the circuit configuration.
        design: an :class:`ExSituDesign` or the name of one in ``config.ex_situ_designs``.
    """
    if isinstance(design, str):
        design = config.design(design)
    technology, amplifier = config.technology, design.sense_amplifier
    supply = technology.supply_voltage_V
    pulse = write_pulse_energy(config, n_rows=design.trng_rows)
    pulsed = _columns_within_current_limit(config, design.pulsed_columns, pulse.current_A)
    sampled = min(pulsed, design.n_sense_amplifiers)
    t_sense = sense_time_s(config, design)
    cycle = (
        _write_cycle_time_s(config, design.trng_rows, config.write.pulse_width_s)
        + amplifier.precharge_time_s
        + t_sense
        + amplifier.latch_time_s
    )
    sampling_rate = sampled / cycle
    if pulsed < design.pulsed_columns and pulsed < design.n_sense_amplifiers:
        limited_by = "write supply current"
    elif sampled == design.n_sense_amplifiers:
        limited_by = "sense amplifiers"
    else:
        limited_by = "parallel columns"
    throughput = sampling_rate
    link = design.board_link
    if link is not None and link.bit_rate_bit_per_s < sampling_rate:
        throughput, limited_by = link.bit_rate_bit_per_s, "board link"

    # Writes of columns nobody samples still cost energy: spread over the sampled bits.
    write_share = pulsed / sampled
    wordline = config.array.wordline_capacitance_F(technology, pulsed) * config.write.wordline_voltage_V**2
    read_voltage = config.mtj.read_voltage_V
    cell_current = read_voltage * config.mtj.mean_conductance_S(read_voltage)
    breakdown = {
        "joule_heating": pulse.joule_heating_J * write_share,
        "junction_charging": pulse.junction_charging_J * write_share,
        "bitline_charging": pulse.bitline_charging_J * write_share,
        "write_driver": pulse.driver_J * write_share,
        "wordline": wordline / sampled,
        "control": config.write.control_energy_J / sampled,
        "sense_precharge": _sense_node_capacitance_F(config, design) * read_voltage * supply,
        "sense_cell_current": supply * cell_current * t_sense,
        "sense_bias": supply * amplifier.bias_current_A * t_sense,
        "sense_decision": amplifier.decision_capacitance_F * supply**2,
        "output_latch": technology.flip_flop_energy_J,
        "buffer": design.buffer_energy_per_bit_J if design.buffer_depth_bits > 0 else 0.0,
        "wire": technology.random_data_activity
        * technology.wire_capacitance_F_per_m
        * design.wire_length_m
        * supply**2,
        "destination_register": technology.flip_flop_energy_J,
    }
    area = {
        "trng_cells": design.trng_rows * design.pulsed_columns * config.array.trng_cell_area_m2,
        "sense_amplifiers": design.n_sense_amplifiers * amplifier.area_m2,
        "output_latches": design.n_sense_amplifiers * technology.flip_flop_area_m2,
        "buffer": design.buffer_depth_bits * technology.flip_flop_area_m2,
        "control": design.control_area_m2,
    }
    if link is not None:
        toggling_lines = technology.random_data_activity + link.clock_lines
        breakdown["board_link_dynamic"] = toggling_lines * link.line_capacitance_F * link.io_voltage_V**2
        # Static power burns whether or not the link is the bottleneck: divide by the achieved rate.
        breakdown["board_link_static"] = link.static_power_W / throughput
        location, area_total = "ex-situ off chip", None
    else:
        location, area_total = "ex-situ on chip", sum(area.values())
    return GenerationResult(
        name=design.name,
        location=location,
        throughput_bit_per_s=throughput,
        energy_per_bit_J=sum(breakdown.values()),
        area_m2=area_total,
        cycle_time_s=cycle,
        bits_per_cycle=sampled,
        limited_by=limited_by,
        energy_breakdown_J=breakdown,
        area_breakdown_m2=area if link is None else {},
    )


@dataclass(frozen=True)
class GenerationComparison:
    """In situ against every ex-situ design.

    Attributes:
        in_situ: the in-situ result.
        ex_situ: one result per ex-situ design, in configuration order.
        reference_design: the ex-situ design the headline ratios use (the pricing design).
        throughput_ratio: in-situ throughput / reference design's throughput (paper: 6.0x).
        efficiency_ratio: reference design's energy per bit / in-situ energy per bit (paper: 2.19x).
        throughput_ratios: the throughput ratio against each design, by name.
        efficiency_ratios: the efficiency ratio against each design, by name.
    """

    in_situ: GenerationResult
    ex_situ: tuple[GenerationResult, ...]
    reference_design: str
    throughput_ratio: float
    efficiency_ratio: float
    throughput_ratios: dict[str, float]
    efficiency_ratios: dict[str, float]

    def to_dict(self) -> dict:
        """JSON-ready dictionary (SI units)."""
        return asdict(self)


def compare_generation(config: EnergyConfig) -> GenerationComparison:
    """Evaluate in situ and every ex-situ design of ``config`` (the Table II comparison)."""
    in_situ = in_situ_generation(config)
    ex_situ = tuple(ex_situ_generation(config, design) for design in config.ex_situ_designs)
    throughput_ratios = {r.name: in_situ.throughput_bit_per_s / r.throughput_bit_per_s for r in ex_situ}
    efficiency_ratios = {r.name: r.energy_per_bit_J / in_situ.energy_per_bit_J for r in ex_situ}
    reference = config.pricing_design_name
    return GenerationComparison(
        in_situ=in_situ,
        ex_situ=ex_situ,
        reference_design=reference,
        throughput_ratio=throughput_ratios[reference],
        efficiency_ratio=efficiency_ratios[reference],
        throughput_ratios=throughput_ratios,
        efficiency_ratios=efficiency_ratios,
    )
