"""The shipped trained weights (``diffusion/weights/``): saving, loading, and where they come from.

Every file is a ``torch.save`` dictionary with the architecture config, the training config, the
seed and the training report next to the ``state_dict``, so a weight file documents itself and
``cim-emu train-weights`` regenerates it bit-for-bit on the same platform and thread count.
Loading uses ``torch.load(weights_only=True)``: no code is unpickled.
"""

from __future__ import annotations

import dataclasses
import os
import pathlib
import pickle
from typing import Any

import torch

from diffusion.classifier import ClassifierConfig, DigitClassifier
from diffusion.io import save_torch
from diffusion.vae import LatentCodec, VAEConfig, build_vae

__all__ = [
    "WEIGHTS_DIR",
    "FORMAT_VERSION",
    "save_weights",
    "read_weights",
    "load_codec",
    "load_classifier",
    "load_score_network",
    "load_schedule",
]

WEIGHTS_DIR = pathlib.Path(__file__).resolve().parent / "weights"
FORMAT_VERSION = 1


def _plain(value: Any) -> Any:
    # Dataclasses -> dicts, tuples -> lists: what weights_only loading accepts and JSON can show.
    if dataclasses.is_dataclass(value):
        value = dataclasses.asdict(value)
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (tuple, list)):
        return [_plain(item) for item in value]
    return value


def save_weights(
    path: str | os.PathLike,
    *,
    kind: str,
    state_dict: dict[str, torch.Tensor],
    config: Any,
    training: Any,
    seed: int,
    report: Any,
    extra: dict[str, Any] | None = None,
) -> pathlib.Path:
    """Write a self-describing weight file atomically (tensors moved to the CPU)."""
    payload = {
        "format_version": FORMAT_VERSION,
        "kind": kind,
        "config": _plain(config),
        "training": _plain(training),
        "seed": int(seed),
        "report": _plain(report),
        "extra": _plain(extra or {}),
        # Layers keep their hardware description (config, card) as non-tensor extra state.
        "state_dict": {
            name: value.detach().cpu().clone() if isinstance(value, torch.Tensor) else _plain(value)
            for name, value in state_dict.items()
        },
    }
    return save_torch(path, payload)


def read_weights(path: str | os.PathLike, *, kind: str) -> dict[str, Any]:
    """Load a weight file written by :func:`save_weights` and check its kind and version.

    Raises:
        ValueError: the file is not a cim-emu weight file of this kind/version (names the file).
        OSError: the file cannot be read.
    """
    path = pathlib.Path(path)
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except (RuntimeError, EOFError, ValueError, pickle.UnpicklingError) as error:
        raise ValueError(f"{path}: not a readable torch weight file ({error})") from error
    if not isinstance(payload, dict) or payload.get("format_version") != FORMAT_VERSION:
        raise ValueError(f"{path}: expected a cim-emu weight file of format version {FORMAT_VERSION}")
    if payload.get("kind") != kind:
        raise ValueError(f"{path}: holds {payload.get('kind')!r} weights, expected {kind!r}")
    return payload


def load_codec(path: str | os.PathLike | None = None, *, device: torch.device | str = "cpu") -> LatentCodec:
    """The trained VAE codec (eval mode) from ``path`` (default: the shipped ``weights/vae.pt``)."""
    payload = read_weights(WEIGHTS_DIR / "vae.pt" if path is None else path, kind="vae")
    config = payload["config"]
    config = VAEConfig(**{**config, "block_out_channels": tuple(config["block_out_channels"])})
    vae = build_vae(config, generator=torch.Generator().manual_seed(0))
    vae.load_state_dict(payload["state_dict"])
    codec = LatentCodec(vae, **payload["extra"])
    return codec.to(device).eval()


def load_classifier(path: str | os.PathLike | None = None, *, device: torch.device | str = "cpu") -> DigitClassifier:
    """The trained feature classifier (eval mode) from ``path`` (default: the shipped ``weights/classifier.pt``)."""
    payload = read_weights(WEIGHTS_DIR / "classifier.pt" if path is None else path, kind="classifier")
    classifier = DigitClassifier(ClassifierConfig(**payload["config"]))
    classifier.load_state_dict(payload["state_dict"])
    return classifier.to(device).eval()


def load_score_network(path: str | os.PathLike | None = None, *, device: torch.device | str = "cpu"):
    """The trained drift network (unprogrammed, eval mode) from ``path`` (default ``weights/score_network.pt``).

    The layers' saved extra state restores their tile hardware (``CrossbarConfig``) and device card.
    Program it with ``network.program(generator=...)`` to run on emulated tiles.
    """
    from diffusion.score_net import ScoreNetConfig, ScoreNetwork

    payload = read_weights(WEIGHTS_DIR / "score_network.pt" if path is None else path, kind="score_network")
    network = ScoreNetwork(ScoreNetConfig(**payload["config"]))
    network.load_state_dict(payload["state_dict"])
    return network.to(device).eval()


def load_schedule(path: str | os.PathLike | None = None):
    """The VP SDE the shipped drift network was trained with (``n_steps`` may be changed freely)."""
    from diffusion.schedule import VPSchedule

    payload = read_weights(WEIGHTS_DIR / "score_network.pt" if path is None else path, kind="score_network")
    return VPSchedule(**payload["extra"]["schedule"])
