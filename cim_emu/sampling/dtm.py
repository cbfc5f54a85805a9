"""A denoising thermodynamic model (DTM): a chain of conditional RBMs, trained in software by contrastive
divergence and sampled on p-bit crossbars.

Forward process on binary images (spins x in {-1, +1}^64, binarized 8x8 digits): step t flips every pixel
independently with probability q_t, so x_T is close to uniform noise. Reverse step t is a conditional
Boltzmann machine over the cleaner image v = x_{t-1} and hidden units h, given the noisier image x = x_t:

    E_t(v, h | x) = -v^T W_t h - b_t^T v - c_t^T h - gamma_t v^T x,   gamma_t = 1/2 log((1 - q_t) / q_t)

The v-x coupling is the forward process's own log-likelihood, log p(x_t | x_{t-1}) = gamma_t v.x + const,
so p_t(v | x) ~ p_RBM,t(v) p(x | v) is the exact posterior when the RBM matches the noisy marginal of
x_{t-1}; W, b, c are fitted by conditional CD-k on forward-process pairs. On hardware the sample is an Ising
model over (v, h, x) with x clamped: x drives extra rows of the visible block's tile (the conditioning is
physically an input of the crossbar), h and v are the two colours of block Gibbs.

Generation: x_T uniform (the forward marginal at T keeps a residual signal prod(1 - 2 q_t) per pixel, ~9 %
with the default schedule: an assumption of the sampler), then for t = T..1 run ``n_sweeps`` sweeps of step
t's machine from v = x_t and keep v.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable

import numpy as np
import torch

from cim_emu.rng import SeedStream, as_seed_stream
from cim_emu.sampling.gibbs import GibbsSampler, HardwareMode, IdealMode
from cim_emu.sampling.model import IsingModel

__all__ = ["DTMConfig", "ConditionalRBM", "DenoisingChain", "train_chain", "binarize_digits", "DTMSamples",
           "sample_chain"]


@dataclasses.dataclass(frozen=True, kw_only=True)
class DTMConfig:
    """Training and sampling settings of the denoising chain.

    Attributes:
        flip_probabilities: q_t of the forward steps t = 1..T, each in (0, 0.5).
        n_hidden: hidden units per step's RBM.
        n_epochs: passes over the training images per step.
        batch_size: images per CD update.
        cd_steps: Gibbs steps of the CD negative phase.
        learning_rate: SGD step size (with momentum 0.5).
        n_sweeps: block-Gibbs sweeps per reverse step when sampling.
        threshold: pixel intensity (0..1) above which a pixel is +1.
    """

    flip_probabilities: tuple[float, ...] = (0.05, 0.1, 0.2, 0.4)
    n_hidden: int = 64
    n_epochs: int = 30
    batch_size: int = 64
    cd_steps: int = 5
    learning_rate: float = 0.02
    n_sweeps: int = 40
    threshold: float = 0.5

    def __post_init__(self):
        if not self.flip_probabilities or not all(
                isinstance(q, (int, float)) and 0 < q < 0.5 for q in self.flip_probabilities):
            raise ValueError(f"DTMConfig.flip_probabilities: each q_t must lie in (0, 0.5), "
                             f"got {self.flip_probabilities!r}")
        for name in ("n_hidden", "n_epochs", "batch_size", "cd_steps", "n_sweeps"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"DTMConfig.{name}: must be an integer >= 1, got {value!r}")
        if not (isinstance(self.learning_rate, (int, float)) and math.isfinite(self.learning_rate)
                and self.learning_rate > 0):
            raise ValueError(f"DTMConfig.learning_rate: must be a finite number > 0, got {self.learning_rate!r}")
        if not 0 < self.threshold < 1:
            raise ValueError(f"DTMConfig.threshold: must lie in (0, 1), got {self.threshold!r}")

    @property
    def n_steps(self) -> int:
        return len(self.flip_probabilities)

    def coupling(self, step: int) -> float:
        """gamma_t of step t (1-based): 1/2 log((1 - q_t) / q_t)."""
        q = self.flip_probabilities[step - 1]
        return 0.5 * math.log((1 - q) / q)


@dataclasses.dataclass(frozen=True)
class ConditionalRBM:
    """One reverse step's machine (float64 tensors).

    Attributes:
        weights: (n_visible, n_hidden) W.
        visible_bias: (n_visible,) b.
        hidden_bias: (n_hidden,) c.
        coupling: gamma (the v-x coupling).
    """

    weights: torch.Tensor
    visible_bias: torch.Tensor
    hidden_bias: torch.Tensor
    coupling: float

    def to_ising(self) -> IsingModel:
        """The Ising model over spins [v, h, x] (x to be clamped): J_vh = W, J_vx = gamma I."""
        n_visible, n_hidden = self.weights.shape
        n = 2 * n_visible + n_hidden
        couplings = torch.zeros((n, n), dtype=torch.float64)
        couplings[:n_visible, n_visible:n_visible + n_hidden] = self.weights
        couplings[n_visible:n_visible + n_hidden, :n_visible] = self.weights.T
        diagonal = torch.arange(n_visible)
        couplings[diagonal, n_visible + n_hidden + diagonal] = self.coupling
        couplings[n_visible + n_hidden + diagonal, diagonal] = self.coupling
        fields = torch.cat([self.visible_bias, self.hidden_bias, torch.zeros(n_visible, dtype=torch.float64)])
        return IsingModel(couplings, fields)


@dataclasses.dataclass(frozen=True)
class DenoisingChain:
    """The trained chain: ``machines[t - 1]`` denoises x_t into x_{t-1}.

    Attributes:
        config: the settings it was trained with.
        machines: one :class:`ConditionalRBM` per step.
        training_s: wall time of the training (s).
    """

    config: DTMConfig
    machines: tuple[ConditionalRBM, ...]
    training_s: float


def binarize_digits(images: torch.Tensor, threshold: float = 0.5) -> torch.Tensor:
    """(n, 1, 8, 8) or (n, 64) intensities in [0, 1] -> (n, 64) float64 spins (+1 where above ``threshold``)."""
    flat = images.reshape(images.shape[0], -1).to(torch.float64)
    return torch.where(flat > threshold, 1.0, -1.0).to(torch.float64)


def _flip(spins: torch.Tensor, probability: float, generator: torch.Generator) -> torch.Tensor:
    draws = torch.rand(spins.shape, generator=generator, dtype=torch.float64)
    return torch.where(draws < probability, -spins, spins)


def _spin_draw(fields: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Spins with P(+1) = sigmoid(2 I) (the exact conditional of a +-1 unit)."""
    draws = torch.rand(fields.shape, generator=generator, dtype=torch.float64)
    return torch.where(draws < torch.sigmoid(2 * fields), 1.0, -1.0).to(fields.dtype)


def train_chain(train_spins: torch.Tensor, config: DTMConfig, *, seed: int | SeedStream,
                progress: Callable[[str, int, int], None] | None = None) -> DenoisingChain:
    """Fit every reverse step's RBM by conditional CD-k on forward-process pairs (fresh noise every batch).

    Args:
        train_spins: (n_images, n_visible) float64 spins of the training images.
        config: settings.
        seed: root seed (initial weights, batches, forward noise and CD chains draw from named children).
        progress: ``progress(stage, done, total)`` callback, one stage per step.
    """
    if train_spins.dim() != 2 or not bool(((train_spins == 1) | (train_spins == -1)).all()):
        raise ValueError("train_spins: expected (n_images, n_visible) spins in {-1, +1}")
    stream = as_seed_stream(seed)
    start = time.perf_counter()
    n_images, n_visible = train_spins.shape
    machines = []
    # x_{t-1} for the first step is the data; later steps see it through t - 1 forward flips.
    cumulative_keep = 1.0
    for step in range(1, config.n_steps + 1):
        step_stream = stream.child("training").index(step)
        generator = step_stream.torch_generator()
        q_previous = (1 - cumulative_keep) / 2
        q_step = config.flip_probabilities[step - 1]
        gamma = config.coupling(step)
        weights = 0.01 * torch.randn((n_visible, config.n_hidden), generator=generator, dtype=torch.float64)
        visible_bias = torch.zeros(n_visible, dtype=torch.float64)
        hidden_bias = torch.zeros(config.n_hidden, dtype=torch.float64)
        velocity = [torch.zeros_like(weights), torch.zeros_like(visible_bias), torch.zeros_like(hidden_bias)]
        n_batches = max(1, n_images // config.batch_size)
        for epoch in range(config.n_epochs):
            order = torch.randperm(n_images, generator=generator)
            for batch in range(n_batches):
                clean = train_spins[order[batch * config.batch_size:(batch + 1) * config.batch_size]]
                visible = _flip(clean, q_previous, generator) if q_previous > 0 else clean
                noisy = _flip(visible, q_step, generator)
                conditioning = gamma * noisy + visible_bias
                hidden_mean = torch.tanh(visible @ weights + hidden_bias)
                negative = visible
                for _ in range(config.cd_steps):
                    hidden_sample = _spin_draw(negative @ weights + hidden_bias, generator)
                    negative = _spin_draw(hidden_sample @ weights.T + conditioning, generator)
                negative_hidden = torch.tanh(negative @ weights + hidden_bias)
                size = visible.shape[0]
                gradients = [(visible.T @ hidden_mean - negative.T @ negative_hidden) / size,
                             (visible - negative).mean(dim=0), (hidden_mean - negative_hidden).mean(dim=0)]
                for parameter, moment, gradient in zip((weights, visible_bias, hidden_bias), velocity, gradients,
                                                       strict=True):
                    moment.mul_(0.5).add_(gradient, alpha=config.learning_rate)
                    parameter.add_(moment)
            if progress is not None:
                progress(f"train step {step}", epoch + 1, config.n_epochs)
        machines.append(ConditionalRBM(weights=weights, visible_bias=visible_bias, hidden_bias=hidden_bias,
                                       coupling=gamma))
        cumulative_keep *= 1 - 2 * q_step
    return DenoisingChain(config=config, machines=tuple(machines), training_s=time.perf_counter() - start)


@dataclasses.dataclass(frozen=True)
class DTMSamples:
    """Images generated by the chain.

    Attributes:
        images: (n_images, 64) float32 in {0, 1} (x_0 as pixels).
        trajectory: (n_steps + 1, n_show, 64) float32 x_T .. x_0 of the first ``n_show`` chains.
        n_flips: p-bit updates made (visible and hidden units).
        wall_s: sampling wall time (s), programming excluded.
        op_counts: hardware events summed over the steps.
    """

    images: torch.Tensor
    trajectory: torch.Tensor
    n_flips: int
    wall_s: float
    op_counts: dict


def sample_chain(chain: DenoisingChain, n_images: int, *, seed: int | SeedStream,
                 mode: IdealMode | HardwareMode | None = None, n_show: int = 10,
                 progress: Callable[[str, int, int], None] | None = None) -> DTMSamples:
    """Generate ``n_images`` images by running the reverse chain on p-bit samplers.

    Args:
        chain: the trained chain.
        n_images: independent chains (one image each).
        seed: root seed (x_T, hidden initial states, hardware and update draws).
        mode: ideal or hardware sampling.
        n_show: chains whose trajectories are kept.
        progress: ``progress(stage, done, total)`` callback.
    """
    if isinstance(n_images, bool) or not isinstance(n_images, int) or n_images < 1:
        raise ValueError(f"n_images: must be an integer >= 1, got {n_images!r}")
    stream = as_seed_stream(seed)
    n_visible, n_hidden = chain.machines[0].weights.shape
    visible = torch.randint(0, 2, (n_images, n_visible), generator=stream.child("x_T").torch_generator())
    visible = visible.mul(2).sub(1).to(torch.float64)
    trajectory = [visible[:n_show].clone()]
    totals: dict[str, int] = {}
    n_flips, wall = 0, 0.0
    hidden_indices = np.arange(n_visible, n_visible + n_hidden)
    visible_indices = np.arange(n_visible)
    clamped = np.arange(n_visible + n_hidden, 2 * n_visible + n_hidden)
    for step in range(chain.config.n_steps, 0, -1):
        step_stream = stream.child("sampling").index(step)
        machine = chain.machines[step - 1]
        sampler = GibbsSampler(machine.to_ising(), mode=mode, blocks=[hidden_indices, visible_indices],
                               clamped=clamped, seed=step_stream.child("hardware"))
        hidden = torch.randint(0, 2, (n_images, n_hidden), generator=step_stream.child("hidden").torch_generator())
        initial = torch.cat([visible, hidden.mul(2).sub(1).to(torch.float64), visible], dim=1)
        result = sampler.run(1.0, n_sweeps=chain.config.n_sweeps, n_chains=n_images, initial=initial,
                             seed=step_stream.child("run"), correlations=False)
        visible = result.final_spins[:, :n_visible].to(torch.float64)
        trajectory.append(visible[:n_show].clone())
        n_flips += result.n_flips
        wall += result.wall_s
        for name, value in result.op_counts.items():
            totals[name] = totals.get(name, 0) + value
        if progress is not None:
            progress("reverse steps", chain.config.n_steps - step + 1, chain.config.n_steps)
    return DTMSamples(images=((visible + 1) / 2).to(torch.float32),
                      trajectory=((torch.stack(trajectory) + 1) / 2).to(torch.float32),
                      n_flips=n_flips, wall_s=wall, op_counts=totals)
