"""The solver's counter layout on the project's one Philox4x32-10 (:mod:`devices.rng.philox`).

Each random draw is a pure function of (key, counter): the key is 63 bits drawn once from the
caller's ``torch.Generator`` (:func:`devices.rng.draw_key`); the counter names what the number is for,

    counter = (step index, trial index low 32 bits, trial index high 32 bits, stream),

with one ``Stream`` per noise source (thermal field, initial state, pulse jitter, device
variation). So the noise of trial i at step n does not depend on the batch layout, the chunking
of the time loop, the number of threads or the backend: the numba CPU kernel and the torch path
(CPU or CUDA, eager or compiled) consume the very same integers.

Four 32-bit words give four standard normals by the Box-Muller transform:
radius R = sqrt(-2 ln u) with u = (2 (w >> 8) + 1) / 2^25 in (0, 1) (24 bits, tail cut at 5.9 sigma),
angle theta = q pi/2 + (f - 1/2) pi/2 from the top two bits q and the low 30 bits f of the next
word (uniform on the circle), normals (R cos theta, R sin theta).
"""

from __future__ import annotations

import enum

import torch

# The project's one Philox and its Box-Muller live in devices.rng; these names stay importable from here.
from devices.rng.generators import draw_key
from devices.rng.philox import MASK_32, box_muller_torch, philox4x32_torch

__all__ = [
    "Stream",
    "box_muller_torch",
    "draw_key",
    "philox4x32_torch",
    "philox_normals_torch",
]


class Stream(enum.IntEnum):
    """Which noise source a Philox counter belongs to (its fourth word)."""

    THERMAL_FIELD = 0
    INITIAL_STATE = 1
    PULSE_JITTER = 2
    DEVICE_VARIATION = 3


def philox_normals_torch(
    step_index: torch.Tensor | int,
    trial_index: torch.Tensor,
    stream: Stream,
    key: int,
    dtype: torch.dtype = torch.float64,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Four independent standard normals per element of ``trial_index`` for one step of one stream.

    Args:
        step_index: step (or draw) number, int or int64 tensor broadcastable to ``trial_index``.
        trial_index: int64 tensor of trial (or device) indices, >= 0.
        stream: the noise source.
        key: the key from :func:`draw_key`.
        dtype: floating dtype of the result.

    Returns:
        Four tensors shaped like ``trial_index``.
    """
    words = philox4x32_torch(
        (step_index, trial_index & MASK_32, trial_index >> 32, int(stream)),
        key,
    )
    normal_0, normal_1 = box_muller_torch(words[0], words[1], dtype)
    normal_2, normal_3 = box_muller_torch(words[2], words[3], dtype)
    return normal_0, normal_1, normal_2, normal_3
