"""The default configuration reproduces Table II, and changing one assumption moves it as physics says."""

from __future__ import annotations

import dataclasses
import math

import pytest

from cim_emu.energy import (
    DESIGN_ROWS,
    PAPER_RATIOS,
    TABLE2_TOLERANCE,
    EnergyConfig,
    calibrate_to_table2,
    compare_generation,
    ex_situ_generation,
    in_situ_generation,
    paper_row,
    sense_time_s,
    table2_reproduction,
    write_pulse_energy,
)


def _design_replaced(config: EnergyConfig, name: str, **changes) -> EnergyConfig:
    designs = tuple(
        dataclasses.replace(design, **changes) if design.name == name else design for design in config.ex_situ_designs
    )
    return config.replace(ex_situ_designs=designs)


def _with(config: EnergyConfig, section: str, **changes) -> EnergyConfig:
    return config.replace(**{section: dataclasses.replace(getattr(config, section), **changes)})


# ---------------------------------------------------------------- reproduction of Table II


@pytest.mark.parametrize("scheme", ["in_situ", "ex_situ_central", "ex_situ_distributed", "ex_situ_pcb"])
def test_default_reproduces_each_this_work_row_within_2_percent(scheme):
    config = EnergyConfig()
    result = in_situ_generation(config) if scheme == "in_situ" else ex_situ_generation(config, scheme)
    row = paper_row(DESIGN_ROWS[scheme])
    units = result.paper_units()
    assert units["throughput_bit_per_ns"] == pytest.approx(row.throughput_bit_per_ns, rel=TABLE2_TOLERANCE)
    assert units["energy_pJ_per_bit"] == pytest.approx(row.energy_pJ_per_bit, rel=TABLE2_TOLERANCE)
    if row.area_um2 is None:
        assert units["area_um2"] is None  # off chip: the table prints "PCB"
    elif row.area_um2 == 0.0:
        assert units["area_um2"] == 0.0
    else:
        assert units["area_um2"] == pytest.approx(row.area_um2, rel=TABLE2_TOLERANCE)


def test_headline_ratios_6x_and_2_19x():
    comparison = compare_generation(EnergyConfig())
    assert comparison.reference_design == "ex_situ_central"
    assert comparison.throughput_ratio == pytest.approx(PAPER_RATIOS["throughput_vs_same_technology"], rel=0.02)
    assert comparison.efficiency_ratio == pytest.approx(PAPER_RATIOS["efficiency_vs_same_technology"], rel=0.02)
    # The "3x faster, 1.36x more efficient than the best CMOS-style ex-situ design" pair.
    assert comparison.throughput_ratios["ex_situ_distributed"] == pytest.approx(3.0, rel=0.02)
    assert comparison.efficiency_ratios["ex_situ_distributed"] == pytest.approx(1.36, rel=0.02)
    reproduction = table2_reproduction(comparison)
    assert reproduction.within_tolerance
    assert reproduction.max_abs_relative_error < TABLE2_TOLERANCE


def test_breakdowns_add_up_and_in_situ_adds_no_block():
    comparison = compare_generation(EnergyConfig())
    for result in (comparison.in_situ,) + comparison.ex_situ:
        assert sum(result.energy_breakdown_J.values()) == pytest.approx(result.energy_per_bit_J, rel=1e-12)
        if result.area_m2 is not None:
            assert sum(result.area_breakdown_m2.values()) == pytest.approx(result.area_m2, rel=1e-12)
    assert comparison.in_situ.area_breakdown_m2 == {}
    # In situ pays no sampling or transfer; every ex-situ design does.
    assert comparison.in_situ.transfer_energy_J() == 0.0
    assert all(result.transfer_energy_J() > 0 for result in comparison.ex_situ)


def test_calibration_refits_the_shipped_defaults():
    # The shipped "calibrated" fields are the solutions of calibrate_to_table2, rounded to 4 digits.
    config = EnergyConfig()
    refit = calibrate_to_table2(config).config
    assert refit.write.control_time_s == pytest.approx(config.write.control_time_s, rel=1e-3)
    assert refit.write.control_energy_J == pytest.approx(config.write.control_energy_J, rel=1e-3)
    for shipped, solved in zip(config.ex_situ_designs, refit.ex_situ_designs, strict=True):
        assert solved.wire_length_m == pytest.approx(shipped.wire_length_m, rel=1e-3)
        assert solved.sense_amplifier.input_pair_area_m2 == pytest.approx(
            shipped.sense_amplifier.input_pair_area_m2, rel=1e-3
        )
        assert solved.sense_amplifier.area_m2 == pytest.approx(shipped.sense_amplifier.area_m2, rel=1e-3)
        if shipped.board_link is not None:
            assert solved.board_link.static_power_W == pytest.approx(shipped.board_link.static_power_W, rel=1e-3)
    # And the refit configuration hits the table to solver precision.
    assert table2_reproduction(compare_generation(refit)).max_abs_relative_error < 0.006  # 2.20 vs printed 2.19


def test_calibration_follows_a_different_node():
    # Believe a different bit-line capacitance: the free fields move, the table is still met.
    config = _with(EnergyConfig(), "array", access_junction_capacitance_F=0.08e-15)
    refit = calibrate_to_table2(config)
    assert refit.config.write.control_energy_J > EnergyConfig().write.control_energy_J
    for result in (in_situ_generation(refit.config),):
        assert result.energy_per_bit_J == pytest.approx(0.089e-12, rel=1e-9)


# ---------------------------------------------------------------- golden values of the physics


def test_write_pulse_energy_matches_hand_computation():
    config = EnergyConfig()
    voltage, width = 1.5, 700e-12
    r_p = 2.5e-10 / (math.pi * (30e-9) ** 2)
    tmr = 1.08 / (1 + (voltage / 0.2459) ** 2)
    g_mean = 0.5 * (1 / r_p + 1 / (r_p * (1 + tmr)))
    bitline = 128 * (0.2e-9 * 0.4e-6 + 0.12e-15)
    junction = 8.8541878128e-12 * 9.8 * math.pi * (30e-9) ** 2 / 1.4e-9
    pulse = write_pulse_energy(config)
    assert pulse.joule_heating_J == pytest.approx(voltage**2 * width * g_mean, rel=1e-12)
    assert pulse.bitline_charging_J == pytest.approx(bitline * voltage**2, rel=1e-12)
    assert pulse.junction_charging_J == pytest.approx(junction * voltage**2, rel=1e-12)
    assert pulse.driver_J == pytest.approx(3e-15 * voltage**2, rel=1e-12)
    assert pulse.current_A == pytest.approx(voltage * g_mean, rel=1e-12)
    assert config.mtj.parallel_resistance_ohm == pytest.approx(88.42e3, rel=1e-3)
    assert config.mtj.tmr_at_read == pytest.approx(0.65, abs=1e-3)


def test_sense_time_matches_hand_computation():
    config = EnergyConfig()
    design = config.design("ex_situ_central")
    amplifier = design.sense_amplifier
    node = 128 * (0.2e-9 * 0.4e-6 + 0.12e-15) + config.mtj.capacitance_F + 1e-15 + 17e-3 * amplifier.input_pair_area_m2
    margin = 4.0 * 2.5e-9 / math.sqrt(amplifier.input_pair_area_m2)
    r_p = config.mtj.parallel_resistance_ohm
    delta_current = 0.2 * (1 / r_p - 1 / (r_p * (1 + config.mtj.tmr_at(0.2))))
    assert sense_time_s(config, design) == pytest.approx(node * margin / (delta_current / 2), rel=1e-12)


# ---------------------------------------------------------------- physics directions


@pytest.mark.parametrize("scheme", ["in_situ", "ex_situ_central", "ex_situ_distributed"])
def test_longer_write_pulses_cost_more_energy_per_bit_and_lower_throughput(scheme):
    previous = None
    for width in (300e-12, 700e-12, 1.5e-9, 3e-9):
        config = _with(EnergyConfig(), "write", pulse_width_s=width)
        result = in_situ_generation(config) if scheme == "in_situ" else ex_situ_generation(config, scheme)
        if previous is not None:
            assert result.energy_per_bit_J > previous.energy_per_bit_J
            assert result.throughput_bit_per_s < previous.throughput_bit_per_s
            # Only Joule heating grows with the width: by V^2 G dt exactly.
            extra = result.energy_breakdown_J["joule_heating"] - previous.energy_breakdown_J["joule_heating"]
            assert extra > 0
        previous = result


def test_higher_pulse_amplitude_costs_more_energy_per_bit():
    energies = [
        in_situ_generation(
            _with(EnergyConfig(), "write", write_voltage_V=v, wordline_voltage_V=v + 0.5)
        ).energy_per_bit_J
        for v in (1.0, 1.5, 2.0)
    ]
    assert energies[0] < energies[1] < energies[2]


def test_more_parallel_columns_raise_in_situ_throughput_until_the_write_supply_saturates():
    base = EnergyConfig()
    per_column_current = write_pulse_energy(base).current_A
    limit = math.floor(base.write.supply_current_limit_A / per_column_current)
    assert 32 < limit < base.array.n_columns  # the default sits below the budget
    throughputs = {}
    for columns in (8, 16, 32, limit, limit + 1, 2 * limit, 128):
        result = in_situ_generation(_with(base, "write", n_parallel_columns=columns))
        throughputs[columns] = result.throughput_bit_per_s
        assert result.bits_per_cycle == min(columns, limit)
    assert throughputs[8] < throughputs[16] < throughputs[32] < throughputs[limit]
    assert throughputs[limit] == throughputs[limit + 1] == throughputs[2 * limit] == throughputs[128]
    assert in_situ_generation(_with(base, "write", n_parallel_columns=128)).limited_by == "write supply current"


@pytest.mark.parametrize("name", ["ex_situ_central", "ex_situ_distributed"])
def test_more_parallel_columns_raise_ex_situ_throughput_until_the_sense_budget_saturates(name):
    base = EnergyConfig()
    budget = base.design(name).n_sense_amplifiers
    results = {
        columns: ex_situ_generation(_design_replaced(base, name, n_parallel_columns=columns), name)
        for columns in (1, budget // 2, budget, budget + 8, 2 * budget)
    }
    assert results[1].throughput_bit_per_s < results[budget // 2].throughput_bit_per_s
    assert results[budget // 2].throughput_bit_per_s < results[budget].throughput_bit_per_s
    assert results[budget].throughput_bit_per_s == results[budget + 8].throughput_bit_per_s
    assert results[budget].throughput_bit_per_s == results[2 * budget].throughput_bit_per_s
    assert results[2 * budget].limited_by == "sense amplifiers"
    # Columns pulsed beyond the budget are written for nothing: energy per usable bit rises.
    assert results[budget + 8].energy_per_bit_J > results[budget].energy_per_bit_J
    assert results[2 * budget].energy_per_bit_J > results[budget + 8].energy_per_bit_J


def test_more_sense_amplifiers_raise_ex_situ_throughput():
    base = EnergyConfig()
    slow = ex_situ_generation(_design_replaced(base, "ex_situ_central", n_sense_amplifiers=8), "ex_situ_central")
    fast = ex_situ_generation(_design_replaced(base, "ex_situ_central", n_sense_amplifiers=32), "ex_situ_central")
    assert fast.throughput_bit_per_s == pytest.approx(4 * slow.throughput_bit_per_s, rel=1e-12)


def test_longer_bit_lines_cost_more_in_situ_energy_and_time():
    small = in_situ_generation(_with(EnergyConfig(), "array", n_rows=64))
    large = in_situ_generation(_with(EnergyConfig(), "array", n_rows=256))
    assert large.energy_breakdown_J["bitline_charging"] == pytest.approx(
        4 * small.energy_breakdown_J["bitline_charging"]
    )
    assert large.cycle_time_s > small.cycle_time_s


def test_larger_tmr_senses_faster_and_larger_sense_input_pair_too():
    base = EnergyConfig()
    design = base.design("ex_situ_central")
    higher_tmr = _with(base, "mtj", tmr_low_bias=2.0)
    assert sense_time_s(higher_tmr, design) < sense_time_s(base, design)
    bigger = dataclasses.replace(
        design, sense_amplifier=dataclasses.replace(design.sense_amplifier, input_pair_area_m2=0.4e-12)
    )
    assert sense_time_s(base, bigger) < sense_time_s(base, design)


def test_wire_length_and_buffer_cost_transfer_energy_only():
    base = EnergyConfig()
    short = ex_situ_generation(_design_replaced(base, "ex_situ_central", wire_length_m=0.1e-3), "ex_situ_central")
    long = ex_situ_generation(_design_replaced(base, "ex_situ_central", wire_length_m=2e-3), "ex_situ_central")
    expected = 0.25 * 0.2e-9 * 1.9e-3 * 0.9**2
    assert long.energy_per_bit_J - short.energy_per_bit_J == pytest.approx(expected, rel=1e-9)
    assert long.throughput_bit_per_s == short.throughput_bit_per_s
    # The in-situ p-bit never pays for ex-situ wires.
    assert in_situ_generation(base) == in_situ_generation(_design_replaced(base, "ex_situ_central", wire_length_m=2e-3))


def test_board_link_static_power_is_divided_by_the_achieved_rate():
    base = EnergyConfig()
    design = base.design("ex_situ_pcb")
    faster = dataclasses.replace(design.board_link, bit_rate_bit_per_s=2 * design.board_link.bit_rate_bit_per_s)
    slow = ex_situ_generation(base, "ex_situ_pcb")
    fast = ex_situ_generation(_design_replaced(base, "ex_situ_pcb", board_link=faster), "ex_situ_pcb")
    assert fast.throughput_bit_per_s == pytest.approx(2 * slow.throughput_bit_per_s)
    assert fast.energy_breakdown_J["board_link_static"] == pytest.approx(
        slow.energy_breakdown_J["board_link_static"] / 2
    )
    assert slow.limited_by == "board link"


def test_ratios_follow_the_reference_design():
    config = EnergyConfig().replace(pricing_ex_situ_design="ex_situ_distributed")
    comparison = compare_generation(config)
    assert comparison.reference_design == "ex_situ_distributed"
    assert comparison.throughput_ratio == comparison.throughput_ratios["ex_situ_distributed"]
