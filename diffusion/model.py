"""The model side of generation (diffusers' "model", apart from the step and the loop): load, program, calibrate.

* :func:`load_model` reads the shipped (or given) weights into a :class:`GenerationModel`: the VAE codec,
  the drift network (not yet on tiles) and the VP schedule.
* :func:`deploy_model` programs the drift network onto its tiles (one chip: device-to-device variation
  drawn once) and column-calibrates it on forward-process draws of the training latents.
* :func:`build_noise_source` builds the increment source of a :class:`Method`: the in-situ p-bit block
  (programmed and calibrated at deployment), the ex-situ TRNG, or no noise.

Randomness comes from named children of one root :class:`cim_emu.rng.SeedStream` (:mod:`diffusion.seeding`).
"""

from __future__ import annotations

import dataclasses
import enum
import os
import pathlib

import torch

from cim_emu.crossbar.layers.noise.in_situ import InSituNoiseConfig, InSituNoiseHead, NoiseHeadCalibration
from cim_emu.rng import SeedStream, require_generator
from diffusion.pretrained import WEIGHTS_DIR, load_codec, load_schedule, load_score_network
from diffusion.sampler import NoIncrements, NoiseSource, TRNGIncrements
from diffusion.schedule import VPSchedule
from diffusion.score_net import ScoreNetwork
from diffusion.seeding import torch_stream
from diffusion.vae import LatentCodec

__all__ = [
    "Method",
    "GenerationModel",
    "load_model",
    "deploy_model",
    "calibrate_network_columns",
    "build_noise_source",
]


class Method(enum.Enum):
    """Where the reverse-SDE noise comes from."""

    IN_SITU = "in-situ"
    EX_SITU = "ex-situ"
    NO_NOISE = "no-noise"

    @property
    def key(self) -> str:
        """Identifier form (``in_situ``), used in file names and ``op_counts.json``."""
        return self.value.replace("-", "_")


@dataclasses.dataclass(frozen=True, eq=False)
class GenerationModel:
    """The models of a generation run, all on one device.

    Attributes:
        codec: the VAE codec, standardised latents (n, 2, 4, 4) <-> images (n, 1, 8, 8) in [0, 1].
        network: the eps-prediction drift network (every MVM on crossbar tiles once programmed).
        schedule: the VP SDE and its reverse time grid.
    """

    codec: LatentCodec
    network: ScoreNetwork
    schedule: VPSchedule

    @property
    def latent_dim(self) -> int:
        """Entries of one flattened latent (32 for the shipped VAE)."""
        return int(self.network.latent_dim)

    @property
    def device(self) -> torch.device:
        """The device the models' parameters live on."""
        return next(self.network.parameters()).device

    def decode(self, latents: torch.Tensor) -> torch.Tensor:
        """Flat latents (n, latent_dim) -> images (n, 1, 8, 8), pixels in [0, 1] (digital VAE decoder)."""
        return self.codec.decode(latents.reshape(-1, *self.codec.latent_shape))

    def encode(self, images: torch.Tensor) -> torch.Tensor:
        """Images (n, 1, 8, 8) in [0, 1] -> flat standardised latents (n, latent_dim)."""
        return self.codec.encode(images).reshape(images.shape[0], -1)


def _device(device) -> torch.device:
    """``device`` as a ``torch.device``, or a ``ValueError`` saying what is expected."""
    try:
        return torch.device(device)
    except (RuntimeError, TypeError):
        raise ValueError(f"device: expected 'cpu' or 'cuda' (or 'cuda:N'), got {device!r}") from None


def load_model(
    weights_dir: str | os.PathLike | None = None,
    *,
    device: torch.device | str = "cpu",
    n_steps: int | None = None,
) -> GenerationModel:
    """The trained codec, drift network (unprogrammed) and schedule from ``weights_dir``.

    Args:
        weights_dir: directory holding ``vae.pt`` and ``score_network.pt`` (None: the shipped weights).
        device: where the models live.
        n_steps: reverse Euler-Maruyama steps (None: the schedule's stored default).

    Raises:
        ValueError: a weight file is missing, broken or of the wrong kind (from :func:`read_weights`).
    """
    weights = WEIGHTS_DIR if weights_dir is None else pathlib.Path(weights_dir)
    if not weights.is_dir():
        raise ValueError(f"weights_dir {weights}: not a directory; give the folder holding vae.pt and "
                         "score_network.pt (None: the shipped weights)")
    device = _device(device)
    if n_steps is not None and (isinstance(n_steps, bool) or not isinstance(n_steps, int) or n_steps < 1):
        raise ValueError(f"n_steps: must be an integer >= 1 (reverse Euler-Maruyama steps), got {n_steps!r}")
    schedule = load_schedule(weights / "score_network.pt")
    if n_steps is not None:
        schedule = dataclasses.replace(schedule, n_steps=n_steps)
    return GenerationModel(
        codec=load_codec(weights / "vae.pt", device=device),
        network=load_score_network(weights / "score_network.pt", device=device),
        schedule=schedule,
    )


def deploy_model(
    model: GenerationModel,
    *,
    stream: SeedStream,
    calibration_latents: torch.Tensor | None = None,
) -> GenerationModel:
    """Program the drift network onto its tiles and, given latents, column-calibrate it (in place).

    Args:
        model: from :func:`load_model`.
        stream: the run's root stream; the tiles take its children ``"programming"`` (device variation)
            and ``"tile_calibration"`` (calibration inputs and read noise).
        calibration_latents: (n, latent_dim) training latents on the model's device; None skips the
            column calibration.

    Returns:
        ``model`` (its network now programmed).
    """
    device = model.device
    model.network.program(generator=torch_stream(stream, "programming", device))
    if calibration_latents is not None:
        calibrate_network_columns(model.network, calibration_latents, model.schedule,
                                  generator=torch_stream(stream, "tile_calibration", device))
    return model


def calibrate_network_columns(network, latents: torch.Tensor, schedule, *, generator: torch.Generator,
                              n_inputs: int = 2048) -> None:
    """Column-calibrate a programmed drift network on forward-process draws (x_t, t) of ``latents``.

    The inputs cover the whole reverse trajectory (t uniform on [t_min, 1]), so every layer is
    calibrated on the activations it sees while sampling.

    Args:
        network: a programmed :class:`~diffusion.score_net.ScoreNetwork`.
        latents: (n, latent_dim) training latents.
        schedule: the VP SDE (alpha(t), sigma(t)).
        generator: draws the inputs and the tiles' read noise.
        n_inputs: forward-process draws.
    """
    require_generator(generator, "the column calibration of the drift network")
    device = latents.device
    pick = torch.randint(0, latents.shape[0], (n_inputs,), generator=generator, device=device)
    t = schedule.t_min + (1.0 - schedule.t_min) * torch.rand(n_inputs, generator=generator, device=device)
    noise = torch.randn(n_inputs, latents.shape[1], generator=generator, device=device)
    x_t = schedule.alpha(t)[:, None] * latents[pick] + schedule.sigma(t)[:, None] * noise
    network.calibrate_columns(x_t, t, generator=generator)


def build_noise_source(
    method: Method,
    latent_dim: int,
    *,
    stream: SeedStream,
    device: torch.device | str = "cpu",
    bits_per_sample: int = 16,
    calibration_draws: int = 131072,
) -> tuple[NoiseSource, NoiseHeadCalibration | None]:
    """The increment source of ``method``, deployed.

    Args:
        method: in situ (p-bit block in the output tile), ex situ (TRNG) or no noise.
        latent_dim: increment entries.
        stream: the run's root stream; the in-situ block takes its children ``"noise_block_programming"``
            (its device and p-bit variation) and ``"calibration"`` (its deployment reads).
        device: where the block's tiles live.
        bits_per_sample: random bits per increment entry (the same K in situ and ex situ).
        calibration_draws: reads of the in-situ block at deployment.

    Returns:
        (source, calibration): the block's deployment calibration in situ, None otherwise.
    """
    if not isinstance(method, Method):
        raise ValueError(f"method must be a diffusion.Method, got {method!r}")
    if isinstance(latent_dim, bool) or not isinstance(latent_dim, int) or latent_dim < 1:
        raise ValueError(f"latent_dim: must be an integer >= 1 (increment entries, model.latent_dim), got "
                         f"{latent_dim!r}")
    device = _device(device)
    if method is Method.IN_SITU:
        head = InSituNoiseHead(latent_dim, InSituNoiseConfig(
            bits_per_sample=bits_per_sample, calibration_draws=calibration_draws)).to(device)
        head.program(generator=torch_stream(stream, "noise_block_programming", device))
        return head, head.calibrate(generator=torch_stream(stream, "calibration", device))
    if method is Method.EX_SITU:
        return TRNGIncrements(latent_dim, bits_per_sample), None
    return NoIncrements(latent_dim), None
