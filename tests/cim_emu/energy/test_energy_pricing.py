"""Pricing operation counters, and the end-to-end report per generated image."""

from __future__ import annotations

import json
import math

import pytest

from cim_emu import COUNTER_FIELDS, OpCounts, record, track_ops
from cim_emu.energy import (
    EnergyConfig,
    MVMPeriphery,
    end_to_end_report,
    ex_situ_generation,
    in_situ_generation,
    load_op_counts_file,
    price_op_counts,
    reference_mvm_counts,
    unit_costs,
)


def _events_of_a_dropconnect_layer(rows: int, columns: int, batch: int, *, in_situ: bool) -> None:
    # What a tile reports per MVM: one call per input row, every row driven, both junctions of every
    # pair sensed, every column converted, and one fresh random bit per cell.
    for _ in range(batch):
        record(mvm_calls=1, dac_conversions=rows, cell_reads=2 * rows * columns, adc_conversions=columns)
        if in_situ:
            record(pbit_pulses=rows * columns)
        else:
            record(trng_bits_generated=rows * columns, bits_moved=rows * columns)


def test_every_counter_has_a_price_and_a_time():
    unit = unit_costs()
    assert set(unit.energy_J) == set(COUNTER_FIELDS) == set(unit.time_s)
    assert all(value > 0 for value in unit.energy_J.values())
    assert all(value >= 0 for value in unit.time_s.values())
    assert unit.ex_situ_design == "ex_situ_central"


def test_random_bits_are_priced_by_the_table2_model():
    config = EnergyConfig()
    in_situ = in_situ_generation(config)
    ex_situ = ex_situ_generation(config, "ex_situ_central")
    bits = 1_000_000
    priced_in = price_op_counts(OpCounts(pbit_pulses=bits), config)
    priced_ex = price_op_counts(OpCounts(trng_bits_generated=bits, bits_moved=bits), config)
    assert priced_in.energy_J == pytest.approx(bits * in_situ.energy_per_bit_J)
    assert priced_ex.energy_J == pytest.approx(bits * ex_situ.energy_per_bit_J)
    assert priced_in.latency_s == pytest.approx(bits / in_situ.throughput_bit_per_s)
    assert priced_ex.latency_s == pytest.approx(bits / ex_situ.throughput_bit_per_s)
    assert priced_in.random_bits == priced_ex.random_bits == bits


def test_board_link_bits_wait_for_the_link():
    config = EnergyConfig()
    board = ex_situ_generation(config, "ex_situ_pcb")
    priced = price_op_counts(OpCounts(trng_bits_generated=1000, bits_moved=1000), config, ex_situ_design="ex_situ_pcb")
    assert priced.latency_s == pytest.approx(1000 / board.throughput_bit_per_s)
    assert priced.energy_J == pytest.approx(1000 * board.energy_per_bit_J)


def test_pricing_is_linear_and_additive():
    first = OpCounts(mvm_calls=3, cell_reads=100, adc_conversions=16, digital_adds=7, pbit_pulses=50)
    second = OpCounts(dac_conversions=8, cell_writes=64, pbit_resets=5, trng_bits_generated=9, bits_moved=9)
    a, b = price_op_counts(first), price_op_counts(second)
    both = price_op_counts(first.merged(second))
    assert both.energy_J == pytest.approx(a.energy_J + b.energy_J)
    assert both.latency_s == pytest.approx(a.latency_s + b.latency_s)
    doubled = price_op_counts(first.merged(first))
    assert doubled.energy_J == pytest.approx(2 * a.energy_J)


def test_more_adc_bits_cost_more_per_conversion():
    low = unit_costs(EnergyConfig().replace(periphery=MVMPeriphery(adc_bits=4)))
    high = unit_costs(EnergyConfig().replace(periphery=MVMPeriphery(adc_bits=8)))
    assert high.energy_J["adc_conversions"] == pytest.approx(16 * low.energy_J["adc_conversions"])
    assert high.time_s["adc_conversions"] == pytest.approx(low.time_s["adc_conversions"] * 9 / 5)


def test_recorded_counts_priced_end_to_end_per_image():
    with track_ops() as in_situ_counts:
        _events_of_a_dropconnect_layer(64, 32, batch=10, in_situ=True)
    with track_ops() as ex_situ_counts:
        _events_of_a_dropconnect_layer(64, 32, batch=10, in_situ=False)
    report = end_to_end_report(in_situ_counts, ex_situ_counts, n_images=5)
    cells = 64 * 32 * 10
    assert report.in_situ.random_bits_per_image == cells / 5
    assert report.ex_situ.random_bits_per_image == cells / 5
    assert report.random_bits_ratio == 1.0
    total_in = price_op_counts(in_situ_counts)
    assert report.in_situ.energy_per_image_J == pytest.approx(total_in.energy_J / 5)
    assert report.in_situ.latency_per_image_s == pytest.approx(total_in.latency_s / 5)
    # Same compute, but ex-situ bits cost more and are slower: in situ wins on both counts.
    assert report.energy_ratio > 1
    assert report.latency_ratio > 1
    assert 0 < report.in_situ.random_bit_energy_fraction < report.ex_situ.random_bit_energy_fraction < 1
    json.dumps(report.to_dict())  # JSON-ready


def test_end_to_end_ratio_tracks_the_chosen_design():
    in_situ = reference_mvm_counts(EnergyConfig(), in_situ=True)
    ex_situ = reference_mvm_counts(EnergyConfig(), in_situ=False)
    central = end_to_end_report(in_situ, ex_situ, 1)
    distributed = end_to_end_report(in_situ, ex_situ, 1, ex_situ_design="ex_situ_distributed")
    board = end_to_end_report(in_situ, ex_situ, 1, ex_situ_design="ex_situ_pcb")
    assert distributed.ex_situ_design == "ex_situ_distributed"
    assert 1 < distributed.energy_ratio < central.energy_ratio < board.energy_ratio
    # The in-situ side does not depend on which ex-situ design prices the other run.
    assert central.in_situ.energy_per_image_J == distributed.in_situ.energy_per_image_J


def test_fewer_ex_situ_bits_can_win():
    # The paper's ex-situ generator adds noise to the drift network's outputs: far fewer random bits
    # than one per cell. Pricing the real counts, not a per-bit ratio, is what exposes this.
    in_situ = reference_mvm_counts(EnergyConfig(), in_situ=True)
    ex_situ = reference_mvm_counts(EnergyConfig(), in_situ=False)
    ex_situ.trng_bits_generated = ex_situ.bits_moved = 128 * 16  # 16 bits per output
    report = end_to_end_report(in_situ, ex_situ, 1)
    assert report.random_bits_ratio < 1
    assert report.energy_ratio < 1


@pytest.mark.parametrize(
    ("counts", "words"),
    [
        ({"pbit_pulse": 3}, ["unknown counter", "pbit_pulse"]),
        ({"pbit_pulses": -1}, ["pbit_pulses", ">= 0"]),
        ({"pbit_pulses": 1.5}, ["pbit_pulses", "integer"]),
        ([1, 2], ["OpCounts or a mapping"]),
    ],
)
def test_bad_counts_are_rejected(counts, words):
    with pytest.raises(ValueError) as error:
        price_op_counts(counts)
    for word in words:
        assert word in str(error.value)


def test_end_to_end_rejects_bad_image_count():
    with pytest.raises(ValueError, match="n_images"):
        end_to_end_report(OpCounts(), OpCounts(), 0)


def test_zero_cost_run_gives_undefined_ratios_not_errors():
    report = end_to_end_report(OpCounts(), OpCounts(mvm_calls=1), 1)
    assert math.isinf(report.energy_ratio)
    assert math.isnan(end_to_end_report(OpCounts(), OpCounts(), 1).energy_ratio)


def test_op_counts_file(tmp_path):
    path = tmp_path / "op_counts.json"
    in_situ = OpCounts(pbit_pulses=10, mvm_calls=2)
    ex_situ = OpCounts(trng_bits_generated=4, bits_moved=4, mvm_calls=2)
    path.write_text(json.dumps({"n_images": 3, "in_situ": in_situ.to_dict(), "ex_situ": ex_situ.to_dict()}))
    assert load_op_counts_file(path) == (in_situ, ex_situ, 3)


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("[]", ["expected a JSON object"]),
        ("{oops", ["not valid JSON"]),
        (json.dumps({"n_images": 1, "in_situ": {}}), ["missing key", "ex_situ"]),
        (json.dumps({"n_images": 0, "in_situ": {}, "ex_situ": {}}), ["n_images"]),
        (json.dumps({"n_images": 1, "in_situ": {"bogus": 1}, "ex_situ": {}}), ["in_situ", "unknown counter"]),
        (json.dumps({"n_images": 1, "in_situ": {}, "ex_situ": {}, "extra": 1}), ["unknown key", "extra"]),
    ],
)
def test_bad_op_counts_file_names_file_and_key(tmp_path, content, words):
    path = tmp_path / "op_counts.json"
    path.write_text(content)
    with pytest.raises(ValueError) as error:
        load_op_counts_file(path)
    assert str(path) in str(error.value)
    for word in words:
        assert word in str(error.value)
