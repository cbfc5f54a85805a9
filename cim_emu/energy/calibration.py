"""How the "calibrated" fields of the default configuration were obtained from Table II.

The paper states the outcome (Table II) but no circuit detail. The model keeps every physical
term and fixes the few free fields so that its outputs land on the table: one field per
reported number, solved in closed form or by a bracketed root search. The shipped defaults are
these solutions rounded to four significant digits; ``tests/cim_emu/test_energy_calibration.py``
refits and checks that they agree. Nothing here is used at run time by the model itself.

Free field -> the number it is solved for:

* ``write.control_time_s`` -> in-situ throughput 29.8 bit/ns;
* ``write.control_energy_J`` -> in-situ energy 0.089 pJ/bit;
* each on-chip design's ``sense_amplifier.input_pair_area_m2`` -> its throughput (4.97, 10 bit/ns);
* each on-chip design's ``wire_length_m`` -> its energy (0.196, 0.121 pJ/bit);
* each on-chip design's ``sense_amplifier.area_m2`` -> its added area (609.8, 2254 um^2);
* the board design's ``board_link.static_power_W`` -> its energy (16800 pJ/bit); its
  ``bit_rate_bit_per_s`` is the row's 5e-4 bit/ns itself.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from cim_emu.energy.circuit import EnergyConfig, ExSituDesign
from cim_emu.energy.literature import DESIGN_ROWS, paper_row
from cim_emu.energy.pbit_generation import ex_situ_generation, in_situ_generation, sense_time_s

__all__ = ["CalibrationResult", "calibrate_to_table2"]


@dataclass(frozen=True)
class CalibrationResult:
    """The solved free fields and the configuration that carries them.

    Attributes:
        config: ``config`` with the free fields replaced by their solutions.
        values: ``"field path" -> solved value`` (SI units), e.g. ``"write.control_time_s"``.
    """

    config: EnergyConfig
    values: dict[str, float]


def _replace_design(config: EnergyConfig, design: ExSituDesign) -> EnergyConfig:
    designs = tuple(design if d.name == design.name else d for d in config.ex_situ_designs)
    return config.replace(ex_situ_designs=designs)


def calibrate_to_table2(config: EnergyConfig | None = None) -> CalibrationResult:
    """Solve the free fields of ``config`` (default: the shipped one) for Table II's numbers.

    Every other field keeps its value, so this also answers "what would the free fields have to be
    if I believed a different node, array or device": change the fixed fields, then calibrate.
    """
    config = EnergyConfig() if config is None else config
    values: dict[str, float] = {}

    # In situ: the cycle time sets the throughput, the control energy closes the energy budget.
    in_situ_row = paper_row("in situ")
    probe = in_situ_generation(config)
    target_cycle = probe.bits_per_cycle / (in_situ_row.throughput_bit_per_ns * 1e9)
    control_time = target_cycle - (probe.cycle_time_s - config.write.control_time_s)
    shared = (probe.energy_breakdown_J["wordline"]) * probe.bits_per_cycle
    per_bit_pulse = probe.energy_per_bit_J - probe.energy_breakdown_J["wordline"] - probe.energy_breakdown_J["control"]
    control_energy = (in_situ_row.energy_pJ_per_bit * 1e-12 - per_bit_pulse) * probe.bits_per_cycle - shared
    config = config.replace(
        write=dataclasses.replace(config.write, control_time_s=control_time, control_energy_J=control_energy)
    )
    values["write.control_time_s"] = control_time
    values["write.control_energy_J"] = control_energy

    for design in config.ex_situ_designs:
        if design.name not in DESIGN_ROWS:
            continue
        row = paper_row(DESIGN_ROWS[design.name])
        prefix = f"ex_situ_designs[{design.name}]"
        if design.board_link is None:
            design = _calibrate_on_chip(config, design, row, values, prefix)
        else:
            result = ex_situ_generation(config, design)
            rest = result.energy_per_bit_J - result.energy_breakdown_J["board_link_static"]
            power = (row.energy_pJ_per_bit * 1e-12 - rest) * result.throughput_bit_per_s
            design = dataclasses.replace(
                design, board_link=dataclasses.replace(design.board_link, static_power_W=power)
            )
            values[f"{prefix}.board_link.static_power_W"] = power
        config = _replace_design(config, design)
    return CalibrationResult(config=config, values=values)


def _calibrate_on_chip(
    config: EnergyConfig, design: ExSituDesign, row, values: dict[str, float], prefix: str
) -> ExSituDesign:
    from scipy.optimize import brentq  # heavy import, only needed here

    # Throughput: the sense time is monotone in the input-pair area below its optimum
    # (C_fixed / C_ox), so bracket between a tiny pair and that optimum.
    target_cycle = design.n_sense_amplifiers / (row.throughput_bit_per_ns * 1e9)
    probe = ex_situ_generation(config, design)
    other_time = probe.cycle_time_s - sense_time_s(config, design)
    target_sense = target_cycle - other_time
    if target_sense <= 0:
        raise ValueError(f"{design.name}: the cycle without sensing already exceeds {target_cycle:.3e} s")

    def sense_gap(area_m2: float) -> float:
        amplifier = dataclasses.replace(design.sense_amplifier, input_pair_area_m2=area_m2)
        return sense_time_s(config, dataclasses.replace(design, sense_amplifier=amplifier)) - target_sense

    node_fixed = config.array.bitline_capacitance_F(config.technology, design.trng_rows) + (
        design.sense_amplifier.fixed_capacitance_F + config.mtj.capacitance_F
    )
    optimum = node_fixed / config.technology.gate_capacitance_F_per_m2
    pair_area = brentq(sense_gap, optimum * 1e-6, optimum, xtol=1e-22, rtol=1e-12)
    design = dataclasses.replace(
        design, sense_amplifier=dataclasses.replace(design.sense_amplifier, input_pair_area_m2=pair_area)
    )
    values[f"{prefix}.sense_amplifier.input_pair_area_m2"] = pair_area

    # Energy: the wire is the free term (energy linear in its length).
    result = ex_situ_generation(config, design)
    technology = config.technology
    per_metre = technology.random_data_activity * technology.wire_capacitance_F_per_m * technology.supply_voltage_V**2
    rest = result.energy_per_bit_J - result.energy_breakdown_J["wire"]
    length = (row.energy_pJ_per_bit * 1e-12 - rest) / per_metre
    if length < 0:
        raise ValueError(f"{design.name}: energy without any wire already exceeds {row.energy_pJ_per_bit} pJ/bit")
    design = dataclasses.replace(design, wire_length_m=length)
    values[f"{prefix}.wire_length_m"] = length

    # Area: the sense amplifier footprint is the free block.
    result = ex_situ_generation(config, design)
    rest_area = result.area_m2 - result.area_breakdown_m2["sense_amplifiers"]
    amplifier_area = (row.area_um2 * 1e-12 - rest_area) / design.n_sense_amplifiers
    if amplifier_area < 0:
        raise ValueError(f"{design.name}: area without sense amplifiers already exceeds {row.area_um2} um^2")
    design = dataclasses.replace(
        design, sense_amplifier=dataclasses.replace(design.sense_amplifier, area_m2=amplifier_area)
    )
    values[f"{prefix}.sense_amplifier.area_m2"] = amplifier_area
    return design
