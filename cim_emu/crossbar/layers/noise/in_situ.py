"""In-situ noise: the MC-dropconnect noise block of the output tile supplies the reverse-SDE increment.

Design (see ``docs/generation.md`` for the study behind it). The network's output tile has, next to
the deterministic drift columns, ``latent_dim`` columns of probabilistic differential pairs on
``bits_per_sample`` rows of their own, driven at full DAC scale. Every MVM pulses those p-bits and
drops each cell independently with its deployed keep probability P_oi, so column o delivers

    y_o = sum_i m_oi W_oi u_i,   m_oi ~ Bernoulli(P_oi) fresh per MVM and per row,

with mean mu_o = sum_i P_oi W_oi u_i and variance v_o = sum_i P_oi (1 - P_oi) W_oi^2 u_i^2 (cells are
independent, so distinct columns are uncorrelated). The weights are a checkerboard of +-1 (ternary,
one pair each; half of every column positive so the mean is near 0 even before calibration) and the
drive u is constant, so mu_o and v_o do not depend on the state: at deployment the block is read
``calibration_draws`` times and the measured per-column mean and standard deviation are stored
(read noise, conductance variation and ADC included). The digital periphery then returns

    increment_o = sqrt(g(t)^2 dt) * (y_o - mu_o) / sqrt(v_o),

whose mean is 0 and variance g(t)^2 dt by construction, up to the calibration's sampling error
(sqrt(2 / calibration_draws) relative). Its excess kurtosis is that of a centred Poisson-binomial
sum, -2 / bits_per_sample at P = 1/2, the same law as the ex-situ TRNG sum of as many bits.

Why not learn it: the reverse VP SDE needs state-independent isotropic noise, and the law of the
masked sum is known exactly, so calibration replaces training and removes the per-step variance
error of a learned noise head (0.7-1.1 in the planning study).
"""

from __future__ import annotations

import dataclasses

import torch
from torch import nn

from cim_emu.crossbar.config import CrossbarConfig, WritePulse
from cim_emu.crossbar.counters import record
from cim_emu.crossbar.layers.mc_dropconnect import MCDropConnectLinear

__all__ = ["InSituNoiseConfig", "NoiseHeadCalibration", "InSituNoiseHead"]


@dataclasses.dataclass(frozen=True, kw_only=True)
class InSituNoiseConfig:
    """The in-situ noise block.

    Attributes:
        bits_per_sample: p-bit rows summed into each increment entry (K): K cells per column per step.
        calibration_draws: MVMs read at deployment to measure each column's mean and standard deviation.
        pulse: p-bit write pulse (None: the card's operating point, P = 0.5).
        crossbar: tile hardware of the block (None: ternary pairs, 8-bit DAC and ADC with full scale
            K unit cells, read noise, variation). The checkerboard's column sum reaches K / 2 nominal unit
            cells; the full scale leaves a factor 2 of headroom because the deployed cells' conductances
            scale a column by up to ~1.4 (with K / 2 the ADC clipped the tails on some chips, excess
            kurtosis -0.18 instead of -0.12).
    """

    bits_per_sample: int = 16
    calibration_draws: int = 131072
    pulse: WritePulse | None = None
    crossbar: CrossbarConfig | None = None

    def __post_init__(self) -> None:
        if isinstance(self.bits_per_sample, bool) or not isinstance(self.bits_per_sample, int) \
                or self.bits_per_sample < 2 or self.bits_per_sample % 2:
            raise ValueError(f"InSituNoiseConfig.bits_per_sample: must be an even integer >= 2 (half the cells of a "
                             f"column are +1, half -1), got {self.bits_per_sample!r}")
        if isinstance(self.calibration_draws, bool) or not isinstance(self.calibration_draws, int) \
                or self.calibration_draws < 100:
            raise ValueError(f"InSituNoiseConfig.calibration_draws: must be an integer >= 100, got "
                             f"{self.calibration_draws!r}")

    def tile_config(self) -> CrossbarConfig:
        """The block's hardware (see ``crossbar``)."""
        if self.crossbar is not None:
            return self.crossbar
        return CrossbarConfig(weight_bits=1, adc_range_cells=float(self.bits_per_sample))


@dataclasses.dataclass(frozen=True)
class NoiseHeadCalibration:
    """What deployment measured of the noise block (per output column; JSON-serialisable).

    Attributes:
        measured_mean: (latent_dim,) mean column output over the calibration reads (unit-cell units).
        measured_std: (latent_dim,) standard deviation over the calibration reads.
        model_mean: (latent_dim,) exact mean over the masks of the programmed block (deployed keep
            probabilities and conductances; ADC rounding excluded): ``layer.expected_output``.
        model_std: (latent_dim,) sqrt(sum_i P_oi (1 - P_oi) W_oi^2 u_i^2): masks only.
        model_excess_kurtosis: (latent_dim,) excess kurtosis of the masked sum (masks only).
        keep_probability_mean: mean deployed keep probability of the block's cells.
        keep_probability_std: their spread (device-to-device p-bit variation).
        n_draws: calibration reads.
    """

    measured_mean: tuple[float, ...]
    measured_std: tuple[float, ...]
    model_mean: tuple[float, ...]
    model_std: tuple[float, ...]
    model_excess_kurtosis: tuple[float, ...]
    keep_probability_mean: float
    keep_probability_std: float
    n_draws: int

    def to_dict(self) -> dict:
        """JSON-ready dictionary."""
        return dataclasses.asdict(self)


class InSituNoiseHead(nn.Module):
    """The p-bit noise columns of the output tile, as a reverse-step noise source.

    Implements :class:`diffusion.sampler.NoiseSource` (``name = "in-situ"``). Use: construct,
    :meth:`program` (draws device and p-bit variation), :meth:`calibrate`, then :meth:`increment`.

    Args:
        latent_dim: increment entries (output columns).
        config: the block (rows, calibration, pulse, hardware).
        card: device card (default ``devices.default_card()``).
    """

    name = "in-situ"

    def __init__(self, latent_dim: int, config: InSituNoiseConfig | None = None, *, card=None):
        super().__init__()
        self.noise_config = InSituNoiseConfig() if config is None else config
        self.latent_dim = int(latent_dim)
        rows = self.noise_config.bits_per_sample
        self.layer = MCDropConnectLinear(rows, self.latent_dim, bias=False, pulse=self.noise_config.pulse,
                                         config=self.noise_config.tile_config(), card=card)
        with torch.no_grad():
            parity = (torch.arange(self.latent_dim)[:, None] + torch.arange(rows)[None, :]) % 2
            self.layer.weight.copy_(1.0 - 2.0 * parity.to(self.layer.weight.dtype))
        self.layer.weight.requires_grad_(False)
        self.register_buffer("drive", torch.ones(rows))
        self.register_buffer("offset", torch.zeros(self.latent_dim))
        self.register_buffer("spread", torch.zeros(self.latent_dim))

    @property
    def calibrated(self) -> bool:
        """True once :meth:`calibrate` has measured the deployed block."""
        return bool(torch.all(self.spread > 0))

    def program(self, *, generator: torch.Generator) -> InSituNoiseHead:
        """Write the block's data-bits, draw device and p-bit variation; clears the calibration; returns self."""
        self.layer.program(generator=generator)
        self.offset.zero_()
        self.spread.zero_()
        return self.eval()

    def _read(self, n_rows: int, generator: torch.Generator) -> torch.Tensor:
        return self.layer(self.drive.expand(n_rows, -1), generator=generator)

    @torch.no_grad()
    def calibrate(self, *, generator: torch.Generator) -> NoiseHeadCalibration:
        """Read the deployed block ``calibration_draws`` times; store and return its per-column moments."""
        if not self.layer.programmed:
            raise ValueError("InSituNoiseHead.calibrate: program the block first (head.program(generator=...))")
        reads = self._read(self.noise_config.calibration_draws, generator).double()
        mean, std = reads.mean(dim=0), reads.std(dim=0)
        if not bool(torch.all(std > 0)):
            raise ValueError("InSituNoiseHead.calibrate: a noise column never varies (keep probability 0 or 1 at "
                             "this write pulse); choose a pulse inside the p-bit's stochastic window")
        self.offset.copy_(mean.to(self.offset.dtype))
        self.spread.copy_(std.to(self.spread.dtype))
        keep = self.layer.keep_probabilities.double()
        weight = self.layer.weight.detach().double() * self.drive.double()[None, :]
        cell_variance = keep * (1.0 - keep) * weight**2
        model_variance = cell_variance.sum(dim=1)
        # Fourth cumulant of a Bernoulli(P) times w: P (1 - P) (1 - 6 P (1 - P)) w^4; cumulants add.
        fourth = (keep * (1.0 - keep) * (1.0 - 6.0 * keep * (1.0 - keep)) * weight**4).sum(dim=1)
        return NoiseHeadCalibration(
            measured_mean=tuple(mean.tolist()),
            measured_std=tuple(std.tolist()),
            model_mean=tuple(self.layer.expected_output(self.drive[None, :]).double()[0].tolist()),
            model_std=tuple(model_variance.sqrt().tolist()),
            model_excess_kurtosis=tuple((fourth / model_variance**2).tolist()),
            keep_probability_mean=float(keep.mean()),
            keep_probability_std=float(keep.std()),
            n_draws=int(self.noise_config.calibration_draws),
        )

    @torch.no_grad()
    def increment(self, n_rows: int, step_std: float, *, generator: torch.Generator) -> torch.Tensor:
        """(n_rows, latent_dim) increments of mean 0 and standard deviation ``step_std``: one block MVM.

        Args:
            n_rows: rows (images) of the batch.
            step_std: sqrt(g(t)^2 dt) of the step.
            generator: the p-bit masks' (and read noise's) stream, on the block's device.
        """
        if not self.calibrated:
            raise ValueError("InSituNoiseHead: not calibrated; call head.program(generator=...) then "
                             "head.calibrate(generator=...)")
        reads = self._read(n_rows, generator)
        # The periphery subtracts the calibrated mean (one digital addition per entry), then scales.
        record(digital_adds=n_rows * self.latent_dim)
        return (reads - self.offset) * (step_std / self.spread)

    def extra_repr(self) -> str:
        return (f"latent_dim={self.latent_dim}, bits_per_sample={self.noise_config.bits_per_sample}, "
                f"calibrated={self.calibrated}")

