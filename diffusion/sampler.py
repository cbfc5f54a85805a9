"""Reverse-time Euler-Maruyama sampling of the latent VP SDE with a pluggable noise source.

The loop lives here; the step itself is :func:`diffusion.schedule.euler_maruyama_step` (a pure
kernel). Each step asks the drift network for eps_hat(x, t) and the noise source for an increment
of variance g(t)^2 dt; the sources are

* :class:`GaussianIncrements` -- software ``torch.randn`` (reference, no hardware);
* :class:`TRNGIncrements` -- ex situ: sums of simulated p-bit TRNG bits, generated, sampled and
  moved to the compute unit (``cim_emu.TRNGGaussianNoise``);
* :class:`diffusion.noise_head.InSituIncrements` -- in situ: the MC-dropconnect noise columns of the
  network's output tile;
* :class:`NoIncrements` -- the drift-only ablation (the ANN of the paper's Fig. 22a).

After the last step the latent is denoised once with the network's own estimate
x_0 = (x - sigma eps_hat) / alpha (Tweedie's formula), as in Song et al. (2021).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Protocol, runtime_checkable

import torch

from diffusion.schedule import VPSchedule, euler_maruyama_step

__all__ = [
    "DriftNetwork",
    "NoiseSource",
    "GaussianIncrements",
    "NoIncrements",
    "SamplerGenerators",
    "sample_latents",
]


@runtime_checkable
class DriftNetwork(Protocol):
    """What the sampler needs of a network: eps_hat(x, t) and the latent size."""

    latent_dim: int

    def __call__(self, x: torch.Tensor, t: torch.Tensor, *, generator: torch.Generator) -> torch.Tensor: ...


@runtime_checkable
class NoiseSource(Protocol):
    """A source of reverse-step increments.

    ``increment(n_rows, step_std, generator=...)`` returns (n_rows, latent_dim) values with mean 0
    and standard deviation ``step_std`` = sqrt(g(t)^2 dt) per entry, on the generator's device.
    ``name`` labels the method in results.
    """

    name: str
    latent_dim: int

    def increment(self, n_rows: int, step_std: float, *, generator: torch.Generator) -> torch.Tensor: ...


class GaussianIncrements:
    """Software reference: step_std * N(0, 1) from ``torch.randn`` (no hardware, no counters)."""

    name = "gaussian"

    def __init__(self, latent_dim: int):
        self.latent_dim = int(latent_dim)

    def increment(self, n_rows: int, step_std: float, *, generator: torch.Generator) -> torch.Tensor:
        """(n_rows, latent_dim) Gaussian increments."""
        return step_std * torch.randn(n_rows, self.latent_dim, generator=generator, device=generator.device)


class NoIncrements:
    """The drift-only ablation: zero increments (a deterministic network without any noise)."""

    name = "no-noise"

    def __init__(self, latent_dim: int):
        self.latent_dim = int(latent_dim)

    def increment(self, n_rows: int, step_std: float, *, generator: torch.Generator) -> torch.Tensor:
        """(n_rows, latent_dim) zeros on the generator's device."""
        return torch.zeros(n_rows, self.latent_dim, device=generator.device)


@dataclasses.dataclass(frozen=True)
class SamplerGenerators:
    """The three independent random streams of one sampling run (all on the same device).

    Attributes:
        initial: draws x_T ~ N(0, I).
        network: the network tiles' cycle-to-cycle read noise.
        noise: the noise source (TRNG bits or p-bit masks).
    """

    initial: torch.Generator
    network: torch.Generator
    noise: torch.Generator

    def __post_init__(self) -> None:
        devices = {self.initial.device, self.network.device, self.noise.device}
        if len(devices) != 1:
            raise ValueError(f"all sampler generators must live on one device, got {sorted(map(str, devices))}")

    @property
    def device(self) -> torch.device:
        """The device every tensor of the run lives on."""
        return self.initial.device


StepCallback = Callable[[int, float, torch.Tensor], None]


@torch.no_grad()
def sample_latents(
    network: DriftNetwork,
    noise: NoiseSource,
    schedule: VPSchedule,
    n_samples: int,
    *,
    generators: SamplerGenerators,
    on_step: StepCallback | None = None,
    denoise_final: bool = True,
) -> torch.Tensor:
    """Integrate the reverse SDE from x_1 ~ N(0, I) to t_min with Euler-Maruyama.

    Args:
        network: the drift network (eps-prediction), already programmed onto its tiles.
        noise: the increment source.
        schedule: the SDE and its time grid.
        n_samples: latents to generate.
        generators: the random streams (see :class:`SamplerGenerators`).
        on_step: optional ``callback(step_index, t, increment)`` after each step (statistics, progress).
        denoise_final: end with the Tweedie denoising x_0 = (x - sigma eps_hat) / alpha.

    Returns:
        (n_samples, latent_dim) float32 latents on the generators' device.
    """
    if n_samples < 1:
        raise ValueError(f"n_samples must be >= 1, got {n_samples}")
    if noise.latent_dim != network.latent_dim:
        raise ValueError(f"noise source makes {noise.latent_dim}-d increments, network is {network.latent_dim}-d")
    device = generators.device
    x = torch.randn(n_samples, network.latent_dim, generator=generators.initial, device=device)
    times = schedule.times().tolist()
    step_sizes = schedule.step_sizes().tolist()
    step_stds = schedule.required_noise_std().tolist()
    for index in range(schedule.n_steps):
        t = times[index]
        t_column = torch.full((n_samples,), t, device=device)
        noise_prediction = network(x, t_column, generator=generators.network)
        increment = noise.increment(n_samples, step_stds[index], generator=generators.noise)
        x = euler_maruyama_step(x, noise_prediction, increment, t=t, dt=step_sizes[index], schedule=schedule)
        if on_step is not None:
            on_step(index, t, increment)
    if denoise_final:
        t_end = torch.tensor(times[-1], dtype=torch.float64)
        noise_prediction = network(x, torch.full((n_samples,), times[-1], device=device), generator=generators.network)
        x = (x - float(schedule.sigma(t_end)) * noise_prediction) / float(schedule.alpha(t_end))
    return x
