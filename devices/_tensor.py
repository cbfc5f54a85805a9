"""Small tensor helpers shared by the device models (private)."""

from __future__ import annotations

import torch

# The device models' "refuse a missing generator" check is the project's one (kept importable from here).
from devices.rng.generators import require_generator

__all__ = ["as_tensor", "generator_device", "require_generator"]


def as_tensor(*values, dtype: torch.dtype | None = None, device: torch.device | str | None = None):
    """Convert floats/tensors to tensors of one common floating dtype and device.

    Python floats become float64 unless a tensor argument fixes a floating dtype;
    the device is the first tensor argument's, unless given.
    """
    tensors = [v for v in values if isinstance(v, torch.Tensor)]
    if device is None:
        device = tensors[0].device if tensors else torch.device("cpu")
    if dtype is None:
        floating = [t.dtype for t in tensors if t.is_floating_point()]
        dtype = floating[0] if floating else torch.float64
        for other in floating[1:]:
            dtype = torch.promote_types(dtype, other)
    return tuple(torch.as_tensor(v, dtype=dtype, device=device) for v in values)


def generator_device(generator: torch.Generator) -> torch.device:
    """Device on which a generator draws."""
    return torch.device(generator.device)


