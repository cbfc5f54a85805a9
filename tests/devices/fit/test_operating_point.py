"""A device the project has never seen: the fit takes its operating point from the data (issue 16, section 1)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import calibration_data
import devices
from calibration_data.synthesize import MeasurementDesign, synthesize
from devices.fit import fit_directory
from devices.pbit import first_peak_width_s, voltage_at_probability, window_10_90_V

#: A device unlike the default: threshold 1.3 V, first precessional peak near 0.9 ns (not 700 ps).
UNSEEN_PULSE_WIDTH_S = 0.9e-9


def _unseen_truth() -> devices.DeviceCard:
    truth = devices.load_card(calibration_data.data_dir() / "truth.json")
    return dataclasses.replace(truth, name="unseen device", p_bit=dataclasses.replace(
        truth.p_bit, v50_V=1.3, sigma_pulse_V=0.3, sigma_v50_device_V=0.05, half_period_s=0.93e-9,
        dephasing_time_s=3e-9, sigma_mz=0.2, precession_slope_per_V=0.05, reference_voltage_V=1.5,
        write_voltage_V=1.3, pulse_width_s=UNSEEN_PULSE_WIDTH_S))


# The design: a voltage sweep at 0.9 ns and a pulse-width sweep at 2.0 V only (one amplitude: the
# frequency's bias slope is not constrained).
_DESIGN = MeasurementDesign(standalone_voltages_V=tuple(np.round(np.arange(0.2, 2.61, 0.1), 3)),
                            standalone_widths_s=tuple(np.round(np.linspace(100e-12, 4e-9, 40), 15)),
                            width_sweep_voltages_V=(2.0,), n_arrays=2, array_switching_devices=6,
                            array_voltages_V=tuple(np.round(np.arange(0.5, 2.21, 0.1), 3)), bitstream_bits=4096)


@pytest.fixture(scope="module")
def unseen_directory(tmp_path_factory):
    directory = tmp_path_factory.mktemp("unseen")
    synthesize(_unseen_truth(), directory, seed=16, design=_DESIGN, files=("switching.csv",))
    return directory


@pytest.fixture(scope="module")
def unseen_fit(unseen_directory):
    return fit_directory(unseen_directory, base=devices.default_card())


def test_the_operating_width_is_the_width_of_the_voltage_sweep(unseen_fit):
    assert unseen_fit.card.p_bit.pulse_width_s == pytest.approx(UNSEEN_PULSE_WIDTH_S, rel=1e-9)
    assert unseen_fit.operating_point["rule"] == "the width of the voltage sweep"
    assert unseen_fit.card.provenance["operating_point"]["pulse_width_s"] == unseen_fit.card.p_bit.pulse_width_s


def test_the_write_voltage_puts_the_median_device_at_one_half(unseen_fit):
    truth = _unseen_truth().p_bit
    card = unseen_fit.card
    summary = devices.summarize(card)
    assert summary.switching_probability_at_operating_point == pytest.approx(0.5, abs=1e-9)
    # Against the truth's 50 % voltage at the same width, within 5 standard errors of the fitted threshold.
    v50 = unseen_fit.estimates["p_bit.v50_V"]
    true_half = voltage_at_probability(truth, 0.5, UNSEEN_PULSE_WIDTH_S)
    assert abs(card.p_bit.write_voltage_V - true_half) < 5 * v50.standard_error
    # The derived figures are the device's own, at its own operating point, and say which it is.
    window = unseen_fit.estimates["p_bit.sigma_pulse_V"]
    assert summary.window_10_90_V == pytest.approx(window_10_90_V(truth, UNSEEN_PULSE_WIDTH_S),
                                                   abs=5 * 2.563 * window.standard_error)
    assert summary.pulse_width_s == card.p_bit.pulse_width_s
    assert f"{card.p_bit.pulse_width_s:.6g} s" in summary.operating_point


def test_the_first_peak_is_recovered(unseen_fit):
    truth = _unseen_truth().p_bit
    half = unseen_fit.estimates["p_bit.half_period_s"]
    peak = first_peak_width_s(unseen_fit.card.p_bit, 2.0)
    # The first peak scales with the half period; compare within 5 of its relative standard errors.
    assert peak == pytest.approx(first_peak_width_s(truth, 2.0), rel=5 * half.standard_error / half.value)
    assert abs(peak - 700e-12) > 100e-12  # really not the default device


def test_unconstrained_parameters_are_flagged_with_their_prior(unseen_fit):
    provenance = unseen_fit.card.provenance
    assert "p_bit.precession_slope_per_V" in provenance["unconstrained"]
    assert "p_bit.precession_slope_per_V" in unseen_fit.unconstrained
    assert provenance["prior"]["card"] == devices.default_card().name
    assert provenance["prior"]["values"]["p_bit.precession_slope_per_V"] == \
        devices.default_card().p_bit.precession_slope_per_V
    # Fitted and data-set fields are not listed; the data-bit fields of the absent files are.
    for name in ("p_bit.v50_V", "p_bit.half_period_s", "p_bit.pulse_width_s", "p_bit.write_voltage_V"):
        assert name not in provenance["unconstrained"]
    assert "data_bit.tmr0" in provenance["unconstrained"]
    report = unseen_fit.to_dict()
    assert report["unconstrained"] == provenance["unconstrained"]
    assert report["prior"]["card"] == devices.default_card().name


def test_an_explicit_width_overrides_the_rule(unseen_directory):
    fit = fit_directory(unseen_directory, base=devices.default_card(), pulse_width_s=1.0e-9)
    assert fit.card.p_bit.pulse_width_s == 1.0e-9
    assert fit.operating_point["rule"] == "given (--pulse-width)"
    assert devices.summarize(fit.card).switching_probability_at_operating_point == pytest.approx(0.5, abs=1e-9)
    with pytest.raises(ValueError, match="pulse_width_s"):
        fit_directory(unseen_directory, pulse_width_s=float("nan"))


@pytest.mark.slow
def test_without_a_voltage_sweep_the_width_is_the_first_peak(tmp_path):
    # Pulse-width sweeps at three amplitudes and no voltage sweep: the rule falls back to the first peak.
    design = dataclasses.replace(_DESIGN, standalone_voltages_V=(), width_sweep_voltages_V=(1.0, 1.3, 1.6),
                                 n_arrays=0, standalone_trials=2000)
    synthesize(_unseen_truth(), tmp_path, seed=18, design=design, files=("switching.csv",))
    fit = fit_directory(tmp_path, base=devices.default_card())
    card = fit.card.p_bit
    assert fit.operating_point["rule"].startswith("the first precessional peak")
    assert card.pulse_width_s == pytest.approx(first_peak_width_s(card, card.write_voltage_V), rel=1e-6)
    assert card.write_voltage_V == pytest.approx(voltage_at_probability(card, 0.5, card.pulse_width_s), abs=1e-9)
    half = fit.estimates["p_bit.half_period_s"]
    truth = _unseen_truth().p_bit
    truth_peak = first_peak_width_s(truth, voltage_at_probability(truth, 0.5, card.pulse_width_s))
    assert card.pulse_width_s == pytest.approx(truth_peak, rel=5 * half.standard_error / half.value + 0.02)


def test_trial_blocks_fit_like_their_aggregate(unseen_directory, unseen_fit, tmp_path):
    """One row per trial block gives the same estimates as the aggregated counts (the likelihood is the same)."""
    import csv

    aggregated = unseen_fit
    rows = list(csv.reader((unseen_directory / "switching.csv").open()))
    split = tmp_path / "split"
    split.mkdir()
    with (split / "switching.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(rows[0])
        for device, array, voltage, width, n, k in rows[1:]:
            n, k = int(n), int(k)
            first_n, first_k = n // 3, min(k, n // 3)
            writer.writerow([device, array, voltage, width, first_n, first_k])
            writer.writerow([device, array, voltage, width, n - first_n, k - first_k])
    blocks = fit_directory(split, base=devices.default_card())
    for name, estimate in aggregated.estimates.items():
        assert blocks.estimates[name].value == pytest.approx(estimate.value, rel=1e-6, abs=1e-12), name


def test_the_voltage_panel_plots_only_the_voltage_sweep(unseen_fit, tmp_path):
    from devices.fit.plots import plot_calibration, voltage_sweep_points

    chosen, width = voltage_sweep_points(unseen_fit)
    table = unseen_fit.tables["switching.csv"]
    assert width == pytest.approx(UNSEEN_PULSE_WIDTH_S)
    assert np.allclose(table["pulse_width_s"][chosen], UNSEEN_PULSE_WIDTH_S, rtol=1e-9, atol=0)
    # The 2.0 V pulse-width sweep contributes no point at other widths to the voltage panel.
    width_sweep = (table["voltage_V"] == 2.0) & (table["pulse_width_s"] != table["pulse_width_s"][chosen][0])
    assert width_sweep.sum() > 10 and not np.any(chosen & width_sweep)
    written = {path.name for path in plot_calibration(unseen_fit, tmp_path)}
    assert {"fig11_pulse_width.png", "fig12_voltage_standalone.png", "fig13_voltage_array.png"} <= written
