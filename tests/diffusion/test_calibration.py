"""Per-step calibration: increment moments and the full-step conditional moments."""

from __future__ import annotations

import math

import pytest
import torch

from diffusion import (
    GaussianIncrements,
    NoIncrements,
    SamplerGenerators,
    VPSchedule,
    calibrate_steps,
    increment_statistics,
)


def test_gaussian_increments_have_unit_ratio_and_no_excess_kurtosis(torch_generator):
    increments = 0.3 * torch.randn(4000, 32, generator=torch_generator)
    stats = increment_statistics(increments, 0.3)
    assert abs(stats.variance_ratio - 1.0) < 5 * stats.variance_ratio_stderr
    assert abs(stats.excess_kurtosis) < 5 * stats.excess_kurtosis_stderr
    assert abs(stats.mean_over_std) < 5 / math.sqrt(increments.numel())
    # RMS of 496 off-diagonal correlations of independent columns: 1/sqrt(n) within a few per cent.
    assert stats.rms_cross_correlation == pytest.approx(stats.rms_cross_correlation_expected, rel=0.1)


def test_binomial_increments_show_their_known_kurtosis(torch_generator):
    # Centred sum of K fair bits, scaled to unit variance: excess kurtosis -2/K exactly.
    bits = 8
    sums = (torch.rand(20_000, 16, bits, generator=torch_generator) < 0.5).double().sum(-1)
    stats = increment_statistics((sums - bits / 2) / math.sqrt(bits / 4), 1.0)
    assert stats.excess_kurtosis == pytest.approx(-2.0 / bits, abs=5 * stats.excess_kurtosis_stderr)


def test_correlated_and_mis_scaled_increments_are_caught(torch_generator):
    shared = torch.randn(4000, 1, generator=torch_generator)
    correlated = (shared + torch.randn(4000, 8, generator=torch_generator)) / math.sqrt(2.0)
    stats = increment_statistics(correlated, 1.0)
    assert stats.rms_cross_correlation > 0.4  # pairwise correlation 1/2
    assert increment_statistics(1.2 * correlated, 1.0).variance_ratio > 1.3


class _GaussianDataScore:
    latent_dim = 3

    def __init__(self, schedule, spread):
        self.schedule, self.spread = schedule, spread

    def __call__(self, x, t, *, generator):
        alpha, sigma = self.schedule.alpha(t)[:, None], self.schedule.sigma(t)[:, None]
        return sigma * x / (alpha**2 * self.spread**2 + sigma**2)


def test_step_calibration_of_exact_score_with_gaussian_and_no_noise():
    schedule = VPSchedule(n_steps=200)
    data = 0.5 * torch.randn(3000, 3, generator=torch.Generator().manual_seed(4))
    network = _GaussianDataScore(schedule, 0.5)

    def generators():
        return SamplerGenerators(*(torch.Generator().manual_seed(seed) for seed in (5, 6, 7)))

    steps = [0, 100, 180]
    calibrated = calibrate_steps(network, GaussianIncrements(3), schedule, data, step_indices=steps,
                                 generators=generators(), n_states=32, n_repeats=400)
    silent = calibrate_steps(network, NoIncrements(3), schedule, data, step_indices=steps,
                             generators=generators(), n_states=32, n_repeats=4)
    for step, without in zip(calibrated, silent, strict=True):
        # Conditional variance from 32 x 3 estimates of 399 degrees of freedom: 5 SE ~ 5 * sqrt(2/399/96).
        assert step.step_variance_ratio == pytest.approx(1.0, abs=0.05)
        assert step.noise.variance_ratio == pytest.approx(1.0, abs=5 * step.noise.variance_ratio_stderr)
        assert without.step_variance_ratio == 0.0
        # The exact transition of a 3000-point data set asks a few per cent less variance than g^2 dt
        # (measured 0.95-0.97) and its mean agrees with the exact-score Euler step.
        assert 0.85 < step.exact_variance_ratio < 1.02
        assert step.mean_error_over_std < 0.1


def test_calibrate_steps_rejects_bad_step_index():
    schedule = VPSchedule(n_steps=10)
    generators = SamplerGenerators(*(torch.Generator().manual_seed(seed) for seed in (1, 2, 3)))
    with pytest.raises(ValueError, match="step index"):
        calibrate_steps(_GaussianDataScore(schedule, 1.0), GaussianIncrements(3), schedule, torch.zeros(10, 3),
                        step_indices=[10], generators=generators)
