"""Fitting the device model: recovers the ground truth, reproduces the shipped card, handles subsets."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

import calibration_data
import devices
from calibration_data.synthesize import MeasurementDesign, synthesize
from devices.fit import fit_directory


def _truth() -> devices.DeviceCard:
    return devices.load_card(calibration_data.data_dir() / "truth.json")


def _uncovered(fit, truth):
    misses = []
    for name, estimate in fit.estimates.items():
        section, field = name.split(".")
        value = getattr(getattr(truth, section), field)
        if not estimate.covers(value):
            misses.append(f"{name}: fit {estimate.value:.6g} +- {estimate.standard_error:.3g}, "
                          f"interval {estimate.three_sigma_interval}, truth {value:.6g}")
    return misses


@pytest.fixture(scope="module")
def shipped_fit():
    return fit_directory(calibration_data.data_dir(), base=devices.default_card())


def test_refit_reproduces_the_default_card(shipped_fit):
    default = devices.default_card()
    for section in ("data_bit", "p_bit"):
        fitted, shipped = getattr(shipped_fit.card, section), getattr(default, section)
        for field in dataclasses.fields(fitted):
            assert getattr(fitted, field.name) == pytest.approx(getattr(shipped, field.name), rel=1e-6), field.name


def test_shipped_fit_recovers_the_ground_truth(shipped_fit):
    assert len(shipped_fit.estimates) == 14  # every fitted card parameter is checked
    assert _uncovered(shipped_fit, _truth()) == []


def test_fit_recovers_a_different_ground_truth(tmp_path):
    truth = _truth()
    other = dataclasses.replace(
        truth,
        data_bit=dataclasses.replace(truth.data_bit, resistance_area_ohm_m2=400e-12, tmr0=1.35, tmr_half_bias_V=0.4,
                                     sigma_ln_r_device=0.035, sigma_ln_r_array=0.1, sigma_tmr_device=0.04,
                                     read_noise_ln=0.02),
        p_bit=dataclasses.replace(truth.p_bit, v50_V=1.1, sigma_pulse_V=0.22, sigma_v50_device_V=0.05,
                                  half_period_s=9.0e-10, dephasing_time_s=4e-9, sigma_mz=0.12,
                                  precession_slope_per_V=-0.05),
    )
    design = MeasurementDesign(standalone_voltages_V=tuple(np.round(np.arange(0.1, 2.6, 0.1), 3)),
                               array_voltages_V=tuple(np.round(np.arange(0.3, 2.1, 0.1), 3)),
                               width_sweep_voltages_V=(1.1, 1.6), bitstream_bits=4096)
    synthesize(other, tmp_path, seed=77, design=design)
    fit = fit_directory(tmp_path, base=truth)
    assert _uncovered(fit, other) == []
    # The card built from the fit follows the new truth, not the base.
    assert fit.card.p_bit.v50_V == pytest.approx(1.1, abs=0.05)
    assert fit.card.data_bit.tmr0 == pytest.approx(1.35, abs=0.05)


def test_any_subset_of_files_fits_and_keeps_the_rest(tmp_path):
    synthesize(_truth(), tmp_path, seed=5, files=("tmr_bias.csv",))
    base = devices.default_card()
    fit = fit_directory(tmp_path, base=base)
    assert set(fit.estimates) == {"data_bit.tmr_half_bias_V", "data_bit.tmr0"}
    assert fit.card.p_bit == base.p_bit
    assert fit.card.data_bit.sigma_ln_r_device == base.data_bit.sigma_ln_r_device
    assert "p_bit.v50_V" in fit.card.provenance["kept_from_base"]
    assert "data_bit.tmr0" not in fit.card.provenance["kept_from_base"]


def test_voltage_sweeps_alone_keep_the_timing_of_the_base(tmp_path):
    design = MeasurementDesign(width_sweep_voltages_V=())
    synthesize(_truth(), tmp_path, seed=6, design=design, files=("switching.csv",))
    base = devices.default_card()
    fit = fit_directory(tmp_path, base=base)
    assert "p_bit.half_period_s" not in fit.estimates
    assert fit.card.p_bit.half_period_s == base.p_bit.half_period_s
    assert fit.estimates["p_bit.sigma_pulse_V"].covers(_truth().p_bit.sigma_pulse_V)


def test_no_calibration_file_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="none of the calibration files"):
        fit_directory(tmp_path)


def test_goodness_of_fit_is_reported(shipped_fit):
    switching = shipped_fit.fits["switching.csv"].goodness
    assert switching["dof"] == switching["n_points"] - (36 + 5)
    # The shipped data were drawn from the model, so the deviance must be compatible with its chi-square law.
    assert switching["p_value"] > 1e-3
    assert shipped_fit.fits["bitstream.txt"].goodness["mode"] == "reset"


@pytest.mark.slow
def test_estimator_calibration_over_many_seeds(tmp_path):
    """Over 40 synthetic data sets every parameter's interval covers the truth in >= 90 % of them."""
    truth = _truth()
    covered: dict[str, list[bool]] = {}
    z_scores: dict[str, list[float]] = {}
    for seed in range(40):
        synthesize(truth, tmp_path, seed=1000 + seed, files=("switching.csv", "resistance.csv", "tmr_bias.csv"))
        fit = fit_directory(tmp_path, base=truth)
        for name, estimate in fit.estimates.items():
            section, field = name.split(".")
            value = getattr(getattr(truth, section), field)
            covered.setdefault(name, []).append(estimate.covers(value))
            z_scores.setdefault(name, []).append(estimate.z_score(value))
    for name, flags in covered.items():
        assert np.mean(flags) >= 0.9, name
        # Parameters with near-Gaussian sampling laws: z-scores centred (mean within 5 standard errors).
        if name in ("p_bit.half_period_s", "p_bit.sigma_pulse_V", "data_bit.tmr_half_bias_V"):
            assert abs(np.mean(z_scores[name])) < 5 / math.sqrt(40), name
