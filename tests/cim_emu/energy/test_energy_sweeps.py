"""Sweeps around the operating point, and their figures."""

from __future__ import annotations

import os
import pathlib

import pytest
import torch

from cim_emu.energy import (
    EnergyConfig,
    all_sweeps,
    compare_generation,
    plot_sweep,
    plot_table2_landscape,
    sweep_adc_bits,
    sweep_array_size,
    sweep_pdnn_samples,
    sweep_pulse_amplitude,
    sweep_pulse_width,
    sweep_samples,
)


def test_every_sweep_is_well_formed_and_contains_its_operating_point():
    for sweep in all_sweeps():
        assert sweep.operating_point in sweep.values, sweep.name
        for series in sweep.series:
            assert len(series.energy) == len(sweep.values)
            assert all(value > 0 for value in series.energy)
            if series.throughput is not None:
                assert len(series.throughput) == len(sweep.values)
                assert all(value > 0 for value in series.throughput)


def _series(sweep, label):
    return next(series for series in sweep.series if series.label == label)


def test_sweeps_meet_the_model_at_the_operating_point():
    comparison = compare_generation(EnergyConfig())
    sweep = sweep_array_size()
    index = sweep.values.index(128.0)
    assert _series(sweep, "in_situ").energy[index] == pytest.approx(comparison.in_situ.energy_per_bit_J)
    for result in comparison.ex_situ:
        assert _series(sweep, result.name).throughput[index] == pytest.approx(result.throughput_bit_per_s)


def test_pulse_sweeps_carry_the_card_switching_probability():
    devices = pytest.importorskip("devices")
    calibration_data = pytest.importorskip("calibration_data")
    truth = devices.load_card(pathlib.Path(calibration_data.__file__).parent / "truth.json")
    width = sweep_pulse_width(card=truth)
    amplitude = sweep_pulse_amplitude(card=truth)
    # The operating point is where the p-bit is fair.
    assert width.switching_probability[width.values.index(700e-12)] == pytest.approx(0.5, abs=1e-3)
    assert amplitude.switching_probability[amplitude.values.index(1.5)] == pytest.approx(0.5, abs=1e-3)
    assert list(amplitude.switching_probability) == sorted(amplitude.switching_probability)
    energy = _series(amplitude, "in_situ").energy
    assert list(energy) == sorted(energy)
    # Without a card the sweep asks the shipped (fitted) one.
    fitted = sweep_pulse_amplitude().switching_probability
    expected = devices.switching_probability(
        devices.default_card().p_bit, torch.tensor(amplitude.values, dtype=torch.float64), 700e-12
    )
    assert fitted == pytest.approx(expected.tolist(), rel=1e-12)


def test_adc_and_sample_sweeps():
    adc = sweep_adc_bits()
    for series in adc.series:
        assert list(series.energy) == sorted(series.energy)  # 2^bits conversion energy
    samples = sweep_samples()
    for series in samples.series:
        # Every CIM sample re-makes its mask: energy exactly linear in T.
        assert series.energy[-1] == pytest.approx(series.energy[0] * samples.values[-1])
    pdnn = sweep_pdnn_samples()
    pbit, deterministic = pdnn.series
    assert pbit.throughput is None
    assert pbit.energy[0] < deterministic.energy[0]  # T = 1
    assert pbit.energy[-1] > deterministic.energy[-1]  # T = 128, past break-even


def test_plots_are_written_as_png(tmp_path):
    sweep_path = tmp_path / "sweep.png"
    plot_sweep(sweep_pulse_amplitude(), sweep_path)
    landscape_path = tmp_path / "landscape.png"
    plot_table2_landscape(compare_generation(EnergyConfig()), landscape_path)
    for path in (sweep_path, landscape_path):
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(os.listdir(tmp_path)) == ["landscape.png", "sweep.png"]  # no temporaries
