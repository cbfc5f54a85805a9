"""The experiment adapters against the library they wrap, and the metric figures (in-process, no cluster)."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

import devices
from cim_emu.energy import EnergyConfig
from cim_emu.energy.report import bench_report
from cim_emu.sweep import cell_seed, experiment_names, parse_spec, run_one_cell
from cim_emu.sweep.plots import plot_metric
from cim_emu.sweep.spec import Axis


def test_shipped_experiments_are_available():
    assert {"trng", "regress", "bench", "generate"} <= set(experiment_names())


def test_bench_cell_equals_the_energy_report_of_the_same_configuration():
    spec = parse_spec({"experiment": "bench", "axes": {"energy.write.pulse_width_s": [5e-10, 9e-10]}})
    outcome = run_one_cell(spec, 1)
    assert outcome.error is None
    config = EnergyConfig()
    expected = bench_report(dataclasses.replace(config, write=dataclasses.replace(config.write, pulse_width_s=9e-10)))
    assert outcome.metrics["in_situ_throughput_bit_per_ns"] == expected["in_situ"]["throughput_bit_per_ns"]
    assert outcome.metrics["throughput_ratio"] == expected["ratios"]["throughput"]
    # A design without an added area is NaN, not a crash.
    assert all(isinstance(value, float) for value in outcome.metrics.values())


def test_bench_takes_the_card_when_the_spec_sets_card_fields():
    spec = parse_spec({"experiment": "bench", "axes": {"card.data_bit.tmr0": [1.0, 2.0]}})
    low, high = (spec.build(cell)["energy"] for cell in spec.cells())
    assert low == EnergyConfig.from_card(dataclasses.replace(
        devices.default_card(), data_bit=dataclasses.replace(devices.default_card().data_bit, tmr0=1.0)))
    assert low.mtj != high.mtj


def test_trng_cell_is_the_trng_simulation_with_the_rows_seed():
    from cim_emu.experiments.trng import simulate_trng

    spec = parse_spec({"experiment": "trng", "seed": 9, "options": {"n_bits": 2048},
                       "axes": {"card.p_bit.sigma_v50_device_V": [0.0, 0.05]}})
    outcome = run_one_cell(spec, 1)
    card = spec.build(spec.cell(1))["card"]
    simulation = simulate_trng(card, n_bits=2048, n_devices=1, seed=cell_seed(spec, 1))
    assert outcome.metrics["ones_fraction_mean"] == float(simulation.bits.mean())
    # A trimmed device switches with probability 1/2 (its own 50 % point).
    assert outcome.metrics["switching_probability_mean"] == pytest.approx(0.5, abs=1e-6)
    assert 0 <= outcome.metrics["nist_pass_fraction"] <= 1


@pytest.mark.slow
def test_regress_cell_runs_the_fig22_experiment_with_the_cell_seed():
    spec = parse_spec({"experiment": "regress", "seed": 1, "replicas": 2,
                       "options": {"n_train": 64, "n_test": 64, "hidden": 8, "n_steps": 5, "batch_size": 16,
                                   "n_train_samples": 2, "n_eval_samples": 4},
                       "crossbar": {"array_rows": 16, "array_cols": 16}})
    first, second = run_one_cell(spec, 0), run_one_cell(spec, 1)
    assert first.error is None and second.error is None, (first.error, second.error)
    assert {"ann_nll", "mc_nll", "mc_coverage", "accepted"} <= set(first.metrics)
    assert first.metrics["mc_nll"] != second.metrics["mc_nll"]  # replicas draw different streams


@pytest.mark.slow
def test_generate_cell_scores_a_small_generation():
    spec = parse_spec({"experiment": "generate", "options": {"n_images": 16, "n_steps": 4, "methods": ["ex-situ"],
                                                             "calibration_draws": 1024, "n_probe_steps": 0}})
    outcome = run_one_cell(spec, 0)
    assert outcome.error is None, outcome.traceback
    assert math.isfinite(outcome.metrics["ex_situ_kid_mean"])
    assert 0 <= outcome.metrics["ex_situ_recall"] <= 1


@pytest.mark.slow
def test_classify_cell_reports_accuracy_and_energy_per_network():
    classify = pytest.importorskip("cim_emu.experiments.classify")
    try:
        classify.load_weights()
    except ValueError as error:
        pytest.skip(f"no classify weights here: {error}")
    spec = parse_spec({"experiment": "classify", "options": {"model": "mlp", "activations": ["float", "int2"],
                                                             "uncertainty": False, "curve_samples": [1]}})
    outcome = run_one_cell(spec, 0)
    assert outcome.error is None, outcome.traceback
    assert 0.5 < outcome.metrics["accuracy_float"] <= 1 and outcome.metrics["energy_per_inference_j_int2"] > 0
    assert math.isnan(outcome.metrics["ece"])  # uncertainty off


def _records(axes, metric):
    """Synthetic part records: metric = sum of the axis positions + replica / 10."""
    import itertools

    records = []
    for point, combination in enumerate(itertools.product(*(axis.values for axis in axes))):
        for replica in range(3):
            value = sum(axis.values.index(v) for axis, v in zip(axes, combination, strict=True)) + replica / 10
            records.append({"cell": point * 3 + replica, "values": {axis.name: v for axis, v in
                                                                   zip(axes, combination, strict=True)},
                            "metrics": {metric: value}})
    return records


def test_heatmap_shows_replica_mean_and_spread():
    axes = (Axis("card.x", (0.1, 0.2, 0.3)), Axis("options.mode", ("reset", "toggle")))
    figure = plot_metric(_records(axes, "m"), axes, "m")
    mean_image, spread_image = (axis.images[0].get_array() for axis in figure.axes if axis.images)
    # Rows follow the second axis, columns the first; replicas 0, 0.1, 0.2 average to +0.1, spread 0.1.
    np.testing.assert_allclose(mean_image, [[0.1, 1.1, 2.1], [1.1, 2.1, 3.1]])
    np.testing.assert_allclose(spread_image, np.full((2, 3), 0.1))


def test_line_plot_per_axis_value_and_gaps_for_failed_cells():
    axes = (Axis("options.n", (1, 2, 4), log=True),)
    records = _records(axes, "m")
    records[-1]["metrics"] = {}  # a failed cell: left out of its point
    figure = plot_metric(records, axes, "m")
    axis = figure.axes[0]
    line = axis.lines[0]
    np.testing.assert_allclose(line.get_ydata(), [0.1, 1.1, 2.05])
    assert axis.get_xscale() == "log"
    # Three axes: one line per combination of the others.
    three = (Axis("a.x", (1, 2)), Axis("a.y", (1, 2)), Axis("a.z", ("p", "q", "r")))
    assert len(plot_metric(_records(three, "m"), three, "m").axes[0].containers) == 6


def test_cim_emu_trng_with_the_rows_seed_reproduces_the_cell(tmp_path, capsys):
    from cim_emu.cli import main

    spec = parse_spec({"experiment": "trng", "seed": 3, "replicas": 2, "options": {"n_bits": 512}})
    outcome = run_one_cell(spec, 1)
    bits_file = tmp_path / "bits.txt"
    assert main(["trng", "--n-bits", "512", "--seed", str(cell_seed(spec, 1)), "--out", str(bits_file)]) == 0
    capsys.readouterr()
    bits = bits_file.read_text().strip()
    assert outcome.metrics["ones_fraction_mean"] == bits.count("1") / 512
