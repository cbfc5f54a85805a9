"""The drift (score) network: an MLP whose every matrix-vector multiplication runs on an emulated tile.

eps_hat(x, t) = head(SiLU(... SiLU(layer_1([x, e(t)])) ...)) with ``CrossbarLinear`` layers on
deterministic data-bit differential pairs: the same network serves the ex-situ and the in-situ
sampler (the paper uses "the same network for models with or without MC dropconnect"). The time
embedding e(t) (sines and cosines of t at log-spaced frequencies) and the SiLU activations are
digital periphery. The network trains through the layers' hardware-aware float path and runs, after
:meth:`ScoreNetwork.program`, on the emulated tiles (device variation, read noise, DAC, ADC).
"""

from __future__ import annotations

import dataclasses
import math

import torch
from torch import nn

from cim_emu import CrossbarConfig, CrossbarLinear

__all__ = ["ScoreNetConfig", "ScoreNetwork", "time_embedding", "default_crossbar_config"]


def default_crossbar_config() -> CrossbarConfig:
    """Tiles of the drift network: 4-bit weights bit-sliced over ternary pairs, 8-bit DAC and ADC, read noise."""
    return CrossbarConfig(weight_bits=4)


@dataclasses.dataclass(frozen=True, kw_only=True)
class ScoreNetConfig:
    """Shape of the drift network.

    Attributes:
        latent_dim: size of a flattened latent (2 x 4 x 4 = 32).
        width: hidden units per layer.
        depth: hidden layers (each one tile MVM plus a digital SiLU).
        n_frequencies: frequencies of the time embedding (2 features each).
        max_frequency: largest angular frequency of the time embedding (t in [0, 1]).
    """

    latent_dim: int = 32
    width: int = 256
    depth: int = 3
    n_frequencies: int = 8
    max_frequency: float = 200.0

    def __post_init__(self) -> None:
        for name in ("latent_dim", "width", "depth", "n_frequencies"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"ScoreNetConfig.{name}: must be an integer >= 1, got {value!r}")
        if not self.max_frequency >= 1.0:
            raise ValueError(f"ScoreNetConfig.max_frequency: must be >= 1, got {self.max_frequency}")


def time_embedding(t: torch.Tensor, config: ScoreNetConfig) -> torch.Tensor:
    """Sines and cosines of t at frequencies log-spaced in [1, max_frequency]: (n,) -> (n, 2 n_frequencies)."""
    frequencies = torch.exp(
        torch.linspace(0.0, math.log(config.max_frequency), config.n_frequencies, device=t.device, dtype=torch.float32)
    )
    angles = t.to(torch.float32)[:, None] * frequencies[None, :]
    return torch.cat([torch.sin(angles), torch.cos(angles)], dim=1)


class ScoreNetwork(nn.Module):
    """eps-prediction MLP on crossbar tiles.

    Args:
        config: the shape.
        crossbar: tile hardware of every layer (default :func:`default_crossbar_config`).
        card: device card (default ``devices.default_card()``).
        generator: initial weights (``nn.Linear``'s law); None uses torch's global generator.

    Shapes: ``forward(x, t, generator=g)`` maps x (n, latent_dim) and t (n,) to eps_hat (n, latent_dim).
    """

    def __init__(self, config: ScoreNetConfig, *, crossbar: CrossbarConfig | None = None, card=None,
                 generator: torch.Generator | None = None):
        super().__init__()
        self.config = config
        crossbar = default_crossbar_config() if crossbar is None else crossbar
        sizes = [config.latent_dim + 2 * config.n_frequencies] + [config.width] * config.depth
        self.hidden_layers = nn.ModuleList(
            CrossbarLinear(n_in, n_out, config=crossbar, card=card, generator=generator)
            for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True)
        )
        self.head = CrossbarLinear(config.width, config.latent_dim, config=crossbar, card=card, generator=generator)

    @property
    def latent_dim(self) -> int:
        """Size of a flattened latent."""
        return self.config.latent_dim

    def layers(self) -> list[CrossbarLinear]:
        """Every crossbar layer, input to output."""
        return [*self.hidden_layers, self.head]

    def forward(self, x: torch.Tensor, t: torch.Tensor, *, generator: torch.Generator | None = None) -> torch.Tensor:
        """eps_hat(x, t).

        Args:
            x: (n, latent_dim) states.
            t: (n,) diffusion times.
            generator: read noise of the programmed tiles (required on tiles with read noise).
        """
        if x.ndim != 2 or x.shape[1] != self.config.latent_dim or t.shape != (x.shape[0],):
            raise ValueError(
                f"ScoreNetwork: expected x (n, {self.config.latent_dim}) and t (n,), got {tuple(x.shape)} and "
                f"{tuple(t.shape)}"
            )
        hidden = torch.cat([x, time_embedding(t, self.config).to(x.dtype)], dim=1)
        for layer in self.hidden_layers:
            hidden = nn.functional.silu(layer(hidden, generator=generator))
        return self.head(hidden, generator=generator)

    @torch.no_grad()
    def calibrate_columns(self, x: torch.Tensor, t: torch.Tensor, *, generator: torch.Generator) -> ScoreNetwork:
        """Digital column calibration of every programmed tile, layer by layer, on deployed inputs.

        Each layer's per-output gain and offset are fitted (``CrossbarLinear.calibrate``) so that its tile's
        mean output matches its ideal-device arithmetic on the inputs it actually receives from the
        already calibrated layers below; this removes the array-to-array gain spread and the pairs' mean
        offset (the cell-to-cell variation stays). Returns self.

        Args:
            x: (n, latent_dim) representative states, e.g. forward-process draws of training latents.
            t: (n,) their times.
            generator: read noise of the forward passes between layers.
        """
        hidden = torch.cat([x, time_embedding(t, self.config).to(x.dtype)], dim=1)
        for layer in self.hidden_layers:
            layer.calibrate(hidden)
            hidden = nn.functional.silu(layer(hidden, generator=generator))
        self.head.calibrate(hidden)
        return self

    def program(self, *, generator: torch.Generator) -> ScoreNetwork:
        """Program every layer onto its emulated tile (device variation from ``generator``); eval mode; returns self."""
        for layer in self.layers():
            layer.program(generator=generator)
        return self.eval()
