"""The latent codec: a small diffusers ``AutoencoderKL`` trained from scratch on the 8x8 digits.

An 8x8 image maps to a 2x4x4 latent (32 numbers). Latents are standardised with a shift and a
scale measured on the training set (diffusers' ``shift_factor`` / ``scaling_factor``), so the
diffusion runs on roughly zero-mean unit-variance codes, matching the VP SDE's N(0, I) prior.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import torch
from torch import nn

from diffusion.data import DigitsSplit, from_model_range, to_model_range
from diffusion.initialisation import initialise_parameters

__all__ = [
    "VAEConfig",
    "VAETrainingConfig",
    "VAETrainingReport",
    "LatentCodec",
    "build_vae",
    "train_vae",
]


@dataclasses.dataclass(frozen=True, kw_only=True)
class VAEConfig:
    """Architecture of the ``AutoencoderKL`` (two down blocks: 8x8 -> 4x4).

    Attributes:
        block_out_channels: channels of the two encoder/decoder stages.
        layers_per_block: ResNet blocks per stage.
        latent_channels: channels of the 4x4 latent.
        norm_num_groups: groups of every GroupNorm; must divide every entry of ``block_out_channels``.
    """

    block_out_channels: tuple[int, int] = (16, 32)
    layers_per_block: int = 1
    latent_channels: int = 2
    norm_num_groups: int = 8

    def __post_init__(self) -> None:
        if len(self.block_out_channels) != 2:
            raise ValueError("block_out_channels must have two entries (8x8 -> 4x4 needs one downsampling)")
        for channels in self.block_out_channels:
            if channels <= 0 or channels % self.norm_num_groups:
                raise ValueError(
                    f"block_out_channels {self.block_out_channels} must be positive multiples of "
                    f"norm_num_groups={self.norm_num_groups}"
                )
        if self.layers_per_block < 1 or self.latent_channels < 1:
            raise ValueError("layers_per_block and latent_channels must be >= 1")

    @property
    def latent_shape(self) -> tuple[int, int, int]:
        """Shape (channels, height, width) of one latent code."""
        return (self.latent_channels, 4, 4)


@dataclasses.dataclass(frozen=True, kw_only=True)
class VAETrainingConfig:
    """Optimisation settings of :func:`train_vae`.

    Attributes:
        n_epochs: passes over the training images.
        batch_size: images per step.
        learning_rate: initial AdamW step size (cosine decay to 0 over training).
        weight_decay: AdamW decoupled weight decay.
        kl_weight: weight of the KL term against the pixel MSE (a lightly regularised autoencoder).
    """

    n_epochs: int = 30
    batch_size: int = 64
    learning_rate: float = 2e-3
    weight_decay: float = 1e-2
    kl_weight: float = 1e-4

    def __post_init__(self) -> None:
        if self.n_epochs < 1 or self.batch_size < 1:
            raise ValueError("n_epochs and batch_size must be >= 1")
        if self.learning_rate <= 0 or self.kl_weight < 0 or self.weight_decay < 0:
            raise ValueError("learning_rate must be > 0, kl_weight and weight_decay >= 0")


@dataclasses.dataclass(frozen=True)
class VAETrainingReport:
    """Outcome of VAE training (JSON-serialisable).

    Attributes:
        train_mse: final-epoch mean squared pixel error on the training set, pixels in [0, 1].
        test_mse: reconstruction MSE of the test set through the posterior mean, pixels in [0, 1].
        latent_shift: mean of the training latents (posterior means).
        latent_scale: 1 / std of the training latents, so scaled latents have unit variance.
    """

    train_mse: float
    test_mse: float
    latent_shift: float
    latent_scale: float


def build_vae(config: VAEConfig, *, generator: torch.Generator):
    """Construct the ``AutoencoderKL`` and initialise it from ``generator``."""
    from diffusers import AutoencoderKL

    vae = AutoencoderKL(
        in_channels=1,
        out_channels=1,
        down_block_types=("DownEncoderBlock2D", "DownEncoderBlock2D"),
        up_block_types=("UpDecoderBlock2D", "UpDecoderBlock2D"),
        block_out_channels=tuple(config.block_out_channels),
        layers_per_block=config.layers_per_block,
        latent_channels=config.latent_channels,
        norm_num_groups=config.norm_num_groups,
        sample_size=8,
        mid_block_add_attention=False,
    )
    return initialise_parameters(vae, generator=generator)


class LatentCodec(nn.Module):
    """Images <-> standardised latents through a trained VAE.

    ``encode`` uses the posterior mean (deterministic); ``decode`` returns pixels in [0, 1].
    """

    def __init__(self, vae: nn.Module, *, latent_shift: float, latent_scale: float):
        super().__init__()
        if not latent_scale > 0:
            raise ValueError(f"latent_scale must be > 0, got {latent_scale}")
        self.vae = vae
        self.latent_shift = float(latent_shift)
        self.latent_scale = float(latent_scale)

    @property
    def latent_shape(self) -> tuple[int, int, int]:
        """(channels, 4, 4) of one latent."""
        return (self.vae.config.latent_channels, 4, 4)

    @torch.no_grad()
    def encode(self, images: torch.Tensor) -> torch.Tensor:
        """Images (n, 1, 8, 8) in [0, 1] -> standardised latents (n, C, 4, 4)."""
        mean = self.vae.encode(to_model_range(images)).latent_dist.mean
        return (mean - self.latent_shift) * self.latent_scale

    @torch.no_grad()
    def decode(self, latents: torch.Tensor) -> torch.Tensor:
        """Standardised latents (n, C, 4, 4) -> images (n, 1, 8, 8) in [0, 1]."""
        raw = latents / self.latent_scale + self.latent_shift
        return from_model_range(self.vae.decode(raw).sample)

    def extra_state(self) -> dict[str, float]:
        """The standardisation constants, for saving next to the VAE weights."""
        return {"latent_shift": self.latent_shift, "latent_scale": self.latent_scale}


def train_vae(
    split: DigitsSplit,
    model_config: VAEConfig,
    training_config: VAETrainingConfig,
    *,
    generator: torch.Generator,
    on_epoch: Callable[[int, float], None] | None = None,
) -> tuple[LatentCodec, VAETrainingReport]:
    """Train the VAE on the training images (pixel MSE + ``kl_weight`` * KL), on the CPU.

    Args:
        split: the digits data.
        model_config: the architecture.
        training_config: the optimisation settings.
        generator: CPU generator for initialisation, shuffling and posterior samples.
        on_epoch: optional callback ``(epoch, train_mse)`` after every epoch (progress display).

    Returns:
        The trained codec (in eval mode) and a report with train/test MSE and the latent standardisation.
    """
    vae = build_vae(model_config, generator=generator)
    optimiser = torch.optim.AdamW(
        vae.parameters(), lr=training_config.learning_rate, weight_decay=training_config.weight_decay
    )
    images = to_model_range(split.train_images)
    n_images = images.shape[0]
    steps_per_epoch = -(-n_images // training_config.batch_size)
    # Cosine decay to zero: the final weights do not depend on where in an oscillation training stopped.
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, T_max=training_config.n_epochs * steps_per_epoch)
    train_mse = float("nan")
    vae.train()
    for epoch in range(training_config.n_epochs):
        order = torch.randperm(n_images, generator=generator)
        squared_error, seen = 0.0, 0
        for start in range(0, n_images, training_config.batch_size):
            batch = images[order[start : start + training_config.batch_size]]
            posterior = vae.encode(batch).latent_dist
            reconstruction = vae.decode(posterior.sample(generator=generator)).sample
            mse = torch.mean((reconstruction - batch) ** 2)
            loss = mse + training_config.kl_weight * posterior.kl().mean() / batch[0].numel()
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
            scheduler.step()
            squared_error += float(mse.detach()) * batch.shape[0]
            seen += batch.shape[0]
        # MSE in [-1, 1] units is 4x the MSE in [0, 1] pixel units.
        train_mse = squared_error / seen / 4.0
        if on_epoch is not None:
            on_epoch(epoch, train_mse)
    vae.eval()
    with torch.no_grad():
        train_latents = vae.encode(images).latent_dist.mean
    shift = float(train_latents.mean())
    scale = float(1.0 / train_latents.std())
    codec = LatentCodec(vae, latent_shift=shift, latent_scale=scale)
    with torch.no_grad():
        test_mse = float(torch.mean((codec.decode(codec.encode(split.test_images)) - split.test_images) ** 2))
    report = VAETrainingReport(train_mse=train_mse, test_mse=test_mse, latent_shift=shift, latent_scale=scale)
    return codec, report
