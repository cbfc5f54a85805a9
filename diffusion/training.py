"""Denoising score matching for the drift network (Song et al. 2021, eq. 7; Ho et al. 2020's eps loss).

The network predicts the noise eps of x_t = alpha(t) x_0 + sigma(t) eps; the score is then
-eps_hat / sigma(t). Training runs the network's hardware-aware float path (the crossbar layers'
own training semantics: quantisers straight-through, read noise when configured) and keeps an
exponential moving average (EMA) of the weights, which is what is deployed.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable

import torch
from torch import nn

from diffusion.schedule import VPSchedule

__all__ = ["ScoreTrainingConfig", "ScoreTrainingReport", "train_score_network", "denoising_loss"]


@dataclasses.dataclass(frozen=True, kw_only=True)
class ScoreTrainingConfig:
    """Optimisation of the drift network.

    Attributes:
        n_iterations: optimiser steps.
        batch_size: latents per step (each with its own t and eps).
        learning_rate: peak Adam step size (one-cycle schedule: warm-up, then cosine decay).
        warmup_fraction: share of iterations spent warming up.
        ema_decay: decay of the weight moving average that is deployed.
    """

    n_iterations: int = 40_000
    batch_size: int = 256
    learning_rate: float = 2e-3
    warmup_fraction: float = 0.05
    ema_decay: float = 0.999

    def __post_init__(self) -> None:
        if self.n_iterations < 1 or self.batch_size < 1:
            raise ValueError("n_iterations and batch_size must be >= 1")
        if not self.learning_rate > 0:
            raise ValueError(f"learning_rate must be > 0, got {self.learning_rate}")
        if not 0 < self.warmup_fraction < 1:
            raise ValueError(f"warmup_fraction must lie in (0, 1), got {self.warmup_fraction}")
        if not 0 <= self.ema_decay < 1:
            raise ValueError(f"ema_decay must lie in [0, 1), got {self.ema_decay}")


@dataclasses.dataclass(frozen=True)
class ScoreTrainingReport:
    """Outcome of training (JSON-serialisable).

    Attributes:
        final_loss: moving average (over ~100 steps) of the training loss at the end.
        held_out_loss: loss of the EMA network on held-out latents (fixed draws of t and eps).
    """

    final_loss: float
    held_out_loss: float


def denoising_loss(
    network: nn.Module,
    x0: torch.Tensor,
    schedule: VPSchedule,
    *,
    generator: torch.Generator,
    network_generator: torch.Generator,
) -> torch.Tensor:
    """Mean squared error of eps prediction at t ~ U(t_min, 1), one t and eps per row.

    Args:
        network: maps (x_t, t, generator=...) to eps_hat.
        x0: (n, d) clean latents.
        schedule: the SDE.
        generator: draws t and eps.
        network_generator: the network's own randomness (hardware-aware noise), a separate stream.
    """
    n = x0.shape[0]
    t = schedule.t_min + (1.0 - schedule.t_min) * torch.rand(n, generator=generator, device=x0.device)
    eps = torch.randn(x0.shape, generator=generator, device=x0.device)
    x_t = schedule.alpha(t)[:, None] * x0 + schedule.sigma(t)[:, None] * eps
    return torch.mean((network(x_t, t, generator=network_generator) - eps) ** 2)


def train_score_network(
    network: nn.Module,
    latents: torch.Tensor,
    schedule: VPSchedule,
    config: ScoreTrainingConfig,
    *,
    generator: torch.Generator,
    network_generator: torch.Generator,
    held_out: torch.Tensor | None = None,
    on_progress: Callable[[int, float], None] | None = None,
) -> tuple[nn.Module, ScoreTrainingReport]:
    """Train ``network`` by denoising score matching; return its EMA copy (eval mode) and a report.

    Args:
        network: the drift network in its training (float) mode, on the device of ``latents``.
        latents: (n_data, d) training latents.
        schedule: the SDE.
        config: optimisation settings.
        generator: batches, times and noise (same device as ``latents``).
        network_generator: the network's own training randomness.
        held_out: optional (n, d) latents for the held-out loss (else the training latents).
        on_progress: optional ``callback(iteration, running_loss)`` every 100 iterations.
    """
    average = copy.deepcopy(network)
    for parameter in average.parameters():
        parameter.requires_grad_(False)
    optimiser = torch.optim.Adam(network.parameters(), lr=config.learning_rate)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        optimiser, max_lr=config.learning_rate, total_steps=config.n_iterations, pct_start=config.warmup_fraction
    )
    network.train()
    running = float("nan")
    for iteration in range(config.n_iterations):
        pick = torch.randint(0, latents.shape[0], (config.batch_size,), generator=generator, device=latents.device)
        loss = denoising_loss(
            network, latents[pick], schedule, generator=generator, network_generator=network_generator
        )
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        optimiser.step()
        scheduler.step()
        with torch.no_grad():
            for kept, current in zip(average.parameters(), network.parameters(), strict=True):
                kept.lerp_(current, 1.0 - config.ema_decay)
            for kept, current in zip(average.buffers(), network.buffers(), strict=True):
                kept.copy_(current)
        value = float(loss.detach())
        running = value if running != running else 0.99 * running + 0.01 * value
        if on_progress is not None and (iteration + 1) % 100 == 0:
            on_progress(iteration + 1, running)
    average.eval()
    evaluation = latents if held_out is None else held_out
    # Fixed draws for the held-out loss: a fresh generator on the data's device, seeded constant.
    fixed = torch.Generator(device=evaluation.device).manual_seed(0)
    with torch.no_grad():
        losses = [
            float(denoising_loss(average, evaluation, schedule, generator=fixed, network_generator=fixed))
            for _ in range(8)
        ]
    return average, ScoreTrainingReport(final_loss=running, held_out_loss=sum(losses) / len(losses))
