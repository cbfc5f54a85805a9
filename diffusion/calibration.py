"""Per-step calibration of a reverse-SDE step: does it have the right conditional mean and covariance?

Weak convergence of Euler-Maruyama needs increments whose first two moments match
(mean 0, covariance g(t)^2 dt I); higher moments only enter at higher order (Kloeden & Platen 1992,
sec. 14.1; arXiv 2506.08337 for non-Gaussian increments in diffusion sampling). This module measures,
at chosen steps:

* of the noise source alone: variance ratio produced / required, mean, excess kurtosis, skewness,
  and the RMS cross-correlation between latent dimensions (expected 1/sqrt(n) when independent);
* of the whole step at fixed states x_t (network read noise included): the conditional variance,
  by repeating the step from the same states;
* against the *exact* reverse transition of the training latents: the true conditional mean and
  variance of x_{t-dt} given x_t are known in closed form for an empirical data set (a Gaussian
  mixture posterior over the training points), so the step's conditional mean error can be
  expressed in units of the required noise standard deviation.
"""

from __future__ import annotations

import dataclasses
import math

import torch

from diffusion.sampler import DriftNetwork, NoiseSource, SamplerGenerators
from diffusion.schedule import VPSchedule, euler_maruyama_step

__all__ = [
    "IncrementStatistics",
    "StepCalibration",
    "increment_statistics",
    "exact_reverse_moments",
    "calibrate_steps",
]


@dataclasses.dataclass(frozen=True)
class IncrementStatistics:
    """Moments of one batch of increments (n_rows, n_dims) against the required standard deviation.

    Attributes:
        variance_ratio: pooled central variance / required variance (1 is right).
        variance_ratio_stderr: its standard error, sqrt((kurtosis + 2) / n) for n pooled entries.
        mean_over_std: pooled mean / required std (0 is right).
        excess_kurtosis: pooled excess kurtosis (0 for Gaussian increments).
        excess_kurtosis_stderr: sqrt(24 / n), its standard error under Gaussianity.
        skewness: pooled skewness (0 for symmetric increments).
        rms_cross_correlation: RMS of the off-diagonal correlations between dimensions.
        rms_cross_correlation_expected: 1 / sqrt(n_rows), its value for independent dimensions.
        n_rows: rows (images) in the batch.
        n_dims: latent dimensions.
    """

    variance_ratio: float
    variance_ratio_stderr: float
    mean_over_std: float
    excess_kurtosis: float
    excess_kurtosis_stderr: float
    skewness: float
    rms_cross_correlation: float
    rms_cross_correlation_expected: float
    n_rows: int
    n_dims: int


def increment_statistics(increment: torch.Tensor, required_std: float) -> IncrementStatistics:
    """Moments of ``increment`` (n_rows, n_dims), computed in float64 on its device.

    Args:
        increment: the increments of one step.
        required_std: sqrt(g(t)^2 dt) of that step (> 0).
    """
    if increment.ndim != 2 or increment.shape[0] < 4 or increment.shape[1] < 1:
        raise ValueError(f"increment must be (n_rows >= 4, n_dims), got {tuple(increment.shape)}")
    if not required_std > 0:
        raise ValueError(f"required_std must be > 0, got {required_std}")
    values = increment.double()
    centred = values - values.mean(dim=0, keepdim=True)
    variance = float(centred.pow(2).mean())
    n_pooled = values.numel()
    kurtosis = float(centred.pow(4).mean()) / variance**2 - 3.0 if variance > 0 else float("nan")
    skewness = float(centred.pow(3).mean()) / variance**1.5 if variance > 0 else float("nan")
    if values.shape[1] > 1 and variance > 0:
        correlation = torch.corrcoef(values.T)
        off_diagonal = correlation[~torch.eye(values.shape[1], dtype=torch.bool, device=values.device)]
        rms_correlation = float(off_diagonal.pow(2).mean().sqrt())
    else:
        rms_correlation = float("nan")
    return IncrementStatistics(
        variance_ratio=variance / required_std**2,
        variance_ratio_stderr=variance / required_std**2 * math.sqrt(max(kurtosis + 2.0, 0.0) / n_pooled),
        mean_over_std=float(values.mean()) / required_std,
        excess_kurtosis=kurtosis,
        excess_kurtosis_stderr=math.sqrt(24.0 / n_pooled),
        skewness=skewness,
        rms_cross_correlation=rms_correlation,
        rms_cross_correlation_expected=1.0 / math.sqrt(values.shape[0]),
        n_rows=int(values.shape[0]),
        n_dims=int(values.shape[1]),
    )


def exact_reverse_moments(
    x_t: torch.Tensor, data: torch.Tensor, *, t: float, t_previous: float, schedule: VPSchedule
) -> tuple[torch.Tensor, torch.Tensor]:
    """Exact conditional mean and per-row mean variance of x_{t_previous} given x_t, data = point masses.

    For an empirical data distribution (n_data points) the posterior of x_0 given x_t is a softmax
    over the points, and given x_0 the reverse kernel q(x_s | x_t, x_0) is Gaussian (Ho et al. 2020,
    eq. 7, in continuous time): mean a x_0 + b x_t, variance s2, with
    a = alpha_s sigma_{t|s}^2 / sigma_t^2, b = alpha_{t|s} sigma_s^2 / sigma_t^2,
    s2 = sigma_{t|s}^2 sigma_s^2 / sigma_t^2.

    Args:
        x_t: (n, d) states at time t.
        data: (n_data, d) clean latents defining the data distribution.
        t: current time.
        t_previous: earlier time s < t.
        schedule: the SDE.

    Returns:
        (mean (n, d), variance (n,)) float64: the conditional mean and the per-dimension average of
        the conditional covariance's diagonal.
    """
    if not t_previous < t:
        raise ValueError("exact_reverse_moments needs t_previous < t")
    x_t, data = x_t.double(), data.double().to(x_t.device)
    times = torch.tensor([t, t_previous], dtype=torch.float64)
    log_alpha_t, log_alpha_s = schedule.log_alpha(times).tolist()
    alpha_t, alpha_s = math.exp(log_alpha_t), math.exp(log_alpha_s)
    sigma2_t, sigma2_s = -math.expm1(2 * log_alpha_t), -math.expm1(2 * log_alpha_s)
    alpha_ts = math.exp(log_alpha_t - log_alpha_s)
    sigma2_ts = -math.expm1(2 * (log_alpha_t - log_alpha_s))
    a = alpha_s * sigma2_ts / sigma2_t
    b = alpha_ts * sigma2_s / sigma2_t
    kernel_variance = sigma2_ts * sigma2_s / sigma2_t
    distances = torch.cdist(x_t, alpha_t * data).pow(2)
    weights = torch.softmax(-distances / (2.0 * sigma2_t), dim=1)
    posterior_mean = weights @ data
    posterior_second = weights @ data.pow(2)
    posterior_variance = (posterior_second - posterior_mean.pow(2)).clamp_min(0.0).mean(dim=1)
    mean = a * posterior_mean + b * x_t
    return mean, kernel_variance + a**2 * posterior_variance


@dataclasses.dataclass(frozen=True)
class StepCalibration:
    """Calibration of one reverse step (JSON-serialisable).

    Attributes:
        step_index: index i of the step t_i -> t_{i+1} on the reverse grid.
        t: time at the start of the step.
        required_variance: g(t)^2 dt.
        noise: moments of the noise source's increments alone.
        step_variance_ratio: conditional variance of the whole step at fixed states (averaged over
            states and dimensions; network read noise included) / required variance.
        exact_variance_ratio: conditional variance of the exact reverse transition of the data / required.
        mean_error_over_std: RMS over states and dims of (step conditional mean - exact conditional
            mean) / sqrt(required variance), with the repeat-average's own sampling error removed.
    """

    step_index: int
    t: float
    required_variance: float
    noise: IncrementStatistics
    step_variance_ratio: float
    exact_variance_ratio: float
    mean_error_over_std: float


@torch.no_grad()
def calibrate_steps(
    network: DriftNetwork,
    noise: NoiseSource,
    schedule: VPSchedule,
    data: torch.Tensor,
    *,
    step_indices: list[int],
    generators: SamplerGenerators,
    n_states: int = 64,
    n_repeats: int = 64,
    n_noise_rows: int = 4096,
) -> list[StepCalibration]:
    """Calibrate the reverse step of ``network`` + ``noise`` at the given steps.

    Args:
        network: the programmed drift network.
        noise: the increment source under test.
        schedule: the SDE.
        data: (n_data, d) training latents: the data distribution whose exact reverse transition is the target.
        step_indices: which steps to probe (0 .. n_steps - 1).
        generators: ``initial`` draws the probe states (forward process on ``data``), ``network`` the
            read noise, ``noise`` the increments.
        n_states: fixed states per probe for the conditional moments.
        n_repeats: repeated steps from each state.
        n_noise_rows: rows of the noise-only moment estimate.

    Returns:
        One :class:`StepCalibration` per probed step.
    """
    times = schedule.times().tolist()
    step_sizes = schedule.step_sizes().tolist()
    step_stds = schedule.required_noise_std().tolist()
    device = generators.device
    data = data.to(device)
    results = []
    for index in step_indices:
        if not 0 <= index < schedule.n_steps:
            raise ValueError(f"step index {index} outside 0 .. {schedule.n_steps - 1}")
        t, t_next, required_std = times[index], times[index + 1], step_stds[index]
        noise_only = noise.increment(n_noise_rows, required_std, generator=generators.noise)
        # Probe states: exact samples of the forward marginal at t (the states the sampler should visit).
        pick = torch.randint(0, data.shape[0], (n_states,), generator=generators.initial, device=device)
        t_tensor = torch.tensor(t, dtype=torch.float64)
        start = float(schedule.alpha(t_tensor)) * data[pick] + float(schedule.sigma(t_tensor)) * torch.randn(
            n_states, data.shape[1], generator=generators.initial, device=device
        )
        repeated = start.repeat(n_repeats, 1)
        noise_prediction = network(repeated, torch.full((repeated.shape[0],), t, device=device),
                                   generator=generators.network)
        increment = noise.increment(repeated.shape[0], required_std, generator=generators.noise)
        stepped = euler_maruyama_step(
            repeated, noise_prediction, increment, t=t, dt=step_sizes[index], schedule=schedule
        )
        stepped = stepped.double().reshape(n_repeats, n_states, -1)
        exact_mean, exact_variance = exact_reverse_moments(start, data, t=t, t_previous=t_next, schedule=schedule)
        conditional_variance = stepped.var(dim=0)
        # The repeat average carries sampling error of variance (conditional variance / n_repeats): remove it.
        mean_error_squared = float((stepped.mean(dim=0) - exact_mean).pow(2).mean()) - float(
            conditional_variance.mean()
        ) / n_repeats
        results.append(
            StepCalibration(
                step_index=int(index),
                t=float(t),
                required_variance=required_std**2,
                noise=increment_statistics(noise_only, required_std),
                step_variance_ratio=float(conditional_variance.mean()) / required_std**2,
                exact_variance_ratio=float(exact_variance.mean()) / required_std**2,
                mean_error_over_std=math.sqrt(max(mean_error_squared, 0.0)) / required_std,
            )
        )
    return results
