"""The VP SDE: marginals, exact transition pairs, exact reverse moments, the Euler-Maruyama step."""

from __future__ import annotations

import math

import pytest
import torch

from diffusion import (
    GaussianIncrements,
    SamplerGenerators,
    VPSchedule,
    exact_reverse_moments,
    sample_latents,
    sample_transition_pairs,
)


def test_marginal_scales_match_the_integrated_rate():
    schedule = VPSchedule()
    t = torch.linspace(0.0, 1.0, 11, dtype=torch.float64)
    # alpha(t) = exp(-1/2 int_0^t beta): integrate beta numerically (trapezoid, fine grid).
    grid = torch.linspace(0.0, 1.0, 100_001, dtype=torch.float64)
    cumulative = torch.cumulative_trapezoid(schedule.beta(grid), grid)
    integral = torch.cat([torch.zeros(1, dtype=torch.float64), cumulative])[::10_000]
    assert torch.allclose(schedule.alpha(t), torch.exp(-0.5 * integral), rtol=1e-9)
    assert torch.allclose(schedule.alpha(t) ** 2 + schedule.sigma(t) ** 2, torch.ones_like(t), atol=1e-12)


def test_time_grid_and_required_noise():
    schedule = VPSchedule(n_steps=10, t_min=0.01, grid_exponent=2.0)
    times = schedule.times()
    assert times[0] == 1.0 and times[-1] == pytest.approx(0.01)
    assert torch.all(schedule.step_sizes() > 0)
    assert schedule.step_sizes().sum() == pytest.approx(0.99)
    expected = torch.sqrt(schedule.beta(times[:-1]) * (times[:-1] - times[1:]))
    assert torch.allclose(schedule.required_noise_std(), expected)


@pytest.mark.parametrize(
    "field, value", [("beta_min", 0.0), ("beta_max", 0.01), ("n_steps", 0), ("t_min", 1.0), ("grid_exponent", 0.1)]
)
def test_bad_schedule_is_rejected_by_name(field, value):
    with pytest.raises(ValueError, match=field):
        VPSchedule(**{field: value})


def test_transition_pairs_have_the_forward_marginal(torch_generator):
    schedule = VPSchedule()
    n = 200_000
    x0 = torch.full((n, 1), 2.0, dtype=torch.float64)
    x_from, x_to = sample_transition_pairs(
        x0, torch.tensor(0.6), torch.tensor(0.3), schedule, generator=torch_generator
    )
    for values, t in ((x_from, 0.6), (x_to, 0.3)):
        alpha, sigma = float(schedule.alpha(torch.tensor(t))), float(schedule.sigma(torch.tensor(t)))
        assert float(values.mean()) == pytest.approx(2.0 * alpha, abs=5 * sigma / math.sqrt(n))
        assert float(values.var()) == pytest.approx(sigma**2, rel=5 * math.sqrt(2.0 / n))


def test_exact_reverse_moments_agree_with_exact_transition_pairs(torch_generator):
    """The closed-form conditional mean is the projection of x_{t-dt} on x_t: residuals are orthogonal
    to any function of x_t, and their mean square equals the closed-form conditional variance."""
    schedule = VPSchedule()
    data = torch.tensor([[-1.5, 0.0], [1.0, 1.0], [0.5, -2.0]], dtype=torch.float64)
    n, t, t_previous = 200_000, 0.3, 0.25
    x0 = data[torch.randint(0, 3, (n,), generator=torch_generator)]
    x_from, x_to = sample_transition_pairs(
        x0, torch.tensor(t), torch.tensor(t_previous), schedule, generator=torch_generator
    )
    mean, variance = exact_reverse_moments(x_from, data, t=t, t_previous=t_previous, schedule=schedule)
    residual = x_to - mean
    for test_function in (torch.ones_like(x_from[:, :1]), x_from[:, :1], torch.sin(3 * x_from[:, 1:])):
        products = residual * test_function
        standard_error = products.std(dim=0) / math.sqrt(n)
        assert torch.all(products.mean(dim=0).abs() < 5 * standard_error)
    squared = residual.pow(2).mean(dim=1)
    assert float(squared.mean()) == pytest.approx(float(variance.mean()), abs=5 * float(squared.std()) / math.sqrt(n))


class _GaussianDataScore:
    """Exact eps-prediction for data N(0, s^2 I): eps = sigma x / (alpha^2 s^2 + sigma^2)."""

    latent_dim = 4

    def __init__(self, schedule, spread):
        self.schedule, self.spread = schedule, spread

    def __call__(self, x, t, *, generator):
        alpha, sigma = self.schedule.alpha(t)[:, None], self.schedule.sigma(t)[:, None]
        return sigma * x / (alpha**2 * self.spread**2 + sigma**2)


def test_euler_maruyama_with_exact_score_recovers_gaussian_data():
    schedule = VPSchedule(n_steps=400)
    spread = 0.5
    generators = SamplerGenerators(*(torch.Generator().manual_seed(seed) for seed in (1, 2, 3)))
    samples = sample_latents(_GaussianDataScore(schedule, spread), GaussianIncrements(4), schedule, 20_000,
                             generators=generators)
    # Sampling error of the std: spread / sqrt(2 n) = 0.0013 (0.25 %); the 2 % tolerance leaves room for
    # the O(dt) bias of Euler-Maruyama (measured: 1 % at 100 steps, < 0.1 % at 400).
    assert float(samples.std()) == pytest.approx(spread, rel=0.02)
    assert float(samples.mean().abs()) < 5 * spread / math.sqrt(samples.numel())


class _ScaledIncrements(GaussianIncrements):
    def __init__(self, latent_dim, variance_factor):
        super().__init__(latent_dim)
        self.factor = math.sqrt(variance_factor)

    def increment(self, n_rows, step_std, *, generator):
        return super().increment(n_rows, step_std * self.factor, generator=generator)


def test_mis_scaled_increment_variance_is_visible_in_the_samples():
    # The reason the in-situ noise must be calibrated: 30 % too much step variance widens the samples.
    schedule = VPSchedule(n_steps=400)
    generators = SamplerGenerators(*(torch.Generator().manual_seed(seed) for seed in (1, 2, 3)))
    samples = sample_latents(_GaussianDataScore(schedule, 0.5), _ScaledIncrements(4, 1.3), schedule, 20_000,
                             generators=generators)
    assert float(samples.std()) > 0.5 * 1.05
