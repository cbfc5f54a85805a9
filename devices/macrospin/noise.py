"""Counter-based random numbers (Philox4x32-10) shared by every backend of the solver.

Each random draw is a pure function of (key, counter): the key is 64 bits drawn once from the
caller's ``torch.Generator``; the counter names what the number is for,

    counter = (step index, trial index low 32 bits, trial index high 32 bits, stream),

with one ``Stream`` per noise source (thermal field, initial state, pulse jitter, device
variation). So the noise of trial i at step n does not depend on the batch layout, the chunking
of the time loop, the number of threads or the backend: the numba CPU kernel and the torch path
(CPU or CUDA, eager or compiled) consume the very same integers. Philox4x32-10 is the generator of
Salmon et al., "Parallel random numbers: as easy as 1, 2, 3" (SC'11); the implementations here are
checked against the Random123 known-answer vectors.

Four 32-bit words give four standard normals by the Box-Muller transform:
radius R = sqrt(-2 ln u) with u = (2 (w >> 8) + 1) / 2^25 in (0, 1) (24 bits, tail cut at 5.9 sigma),
angle theta = q pi/2 + (f - 1/2) pi/2 from the top two bits q and the low 30 bits f of the next
word (uniform on the circle), normals (R cos theta, R sin theta).
"""

from __future__ import annotations

import enum
import math

import torch

__all__ = [
    "Stream",
    "box_muller_torch",
    "draw_key",
    "philox4x32_torch",
    "philox_normals_torch",
]

MASK_32 = 0xFFFFFFFF
PHILOX_MULTIPLIER_0 = 0xD2511F53
PHILOX_MULTIPLIER_1 = 0xCD9E8D57
PHILOX_WEYL_0 = 0x9E3779B9
PHILOX_WEYL_1 = 0xBB67AE85
PHILOX_ROUNDS = 10


class Stream(enum.IntEnum):
    """Which noise source a Philox counter belongs to (its fourth word)."""

    THERMAL_FIELD = 0
    INITIAL_STATE = 1
    PULSE_JITTER = 2
    DEVICE_VARIATION = 3


def draw_key(generator: torch.Generator) -> int:
    """A 63-bit Philox key drawn from ``generator`` (the one random draw the solver takes from it)."""
    if not isinstance(generator, torch.Generator):
        raise ValueError(
            "the macrospin solver needs an explicit torch.Generator (e.g. torch.Generator().manual_seed(0)); "
            f"got {type(generator).__name__}"
        )
    return int(torch.randint(0, 2**63 - 1, (1,), generator=generator, device=generator.device).item())


def _mulhilo_torch(word: torch.Tensor, multiplier: int) -> tuple[torch.Tensor, torch.Tensor]:
    # 32 x 32 -> 64-bit product in int64 without overflow: split the constant into 16-bit halves
    # (each partial product < 2^48), so the result is exact on every backend (no signed wrap-around).
    high_part = word * (multiplier >> 16)
    low_part = word * (multiplier & 0xFFFF)
    high = (high_part + (low_part >> 16)) >> 16
    low = (((high_part & 0xFFFF) << 16) + low_part) & MASK_32
    return high, low


def philox4x32_torch(
    counter: tuple[torch.Tensor | int, torch.Tensor | int, torch.Tensor | int, torch.Tensor | int], key: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Philox4x32-10 on int64 tensors holding 32-bit words (broadcasting over the counter words).

    Args:
        counter: four words (tensors or ints) in [0, 2^32).
        key: 64-bit key (its low and high 32-bit halves are the two key words).

    Returns:
        Four int64 tensors of 32-bit output words.
    """
    tensors = [c for c in counter if isinstance(c, torch.Tensor)]
    if not tensors:
        raise ValueError("philox4x32_torch: at least one counter word must be a tensor (it sets device/shape)")
    like = tensors[0]
    c0, c1, c2, c3 = (
        torch.as_tensor(c, dtype=torch.int64, device=like.device) if not isinstance(c, torch.Tensor) else c
        for c in counter
    )
    key_0, key_1 = key & MASK_32, (key >> 32) & MASK_32
    for round_index in range(PHILOX_ROUNDS):
        # Salmon et al. (2011) Philox round: two multiplies, swap, xor with the bumped key.
        high_0, low_0 = _mulhilo_torch(c0, PHILOX_MULTIPLIER_0)
        high_1, low_1 = _mulhilo_torch(c2, PHILOX_MULTIPLIER_1)
        round_key_0 = (key_0 + round_index * PHILOX_WEYL_0) & MASK_32
        round_key_1 = (key_1 + round_index * PHILOX_WEYL_1) & MASK_32
        c0, c1, c2, c3 = high_1 ^ c1 ^ round_key_0, low_1, high_0 ^ c3 ^ round_key_1, low_0
    return c0, c1, c2, c3


def box_muller_torch(
    radius_word: torch.Tensor, angle_word: torch.Tensor, dtype: torch.dtype
) -> tuple[torch.Tensor, torch.Tensor]:
    """Two standard normals from two 32-bit words: radius from u = (2 (word >> 8) + 1) 2^-25 (so
    |z| <= 5.89), angle from the quadrant (top two bits) and a 30-bit fraction. The reference of the
    vectorised numba twin ``kernel_numba.box_muller_numba``."""
    uniform = (((radius_word >> 8) << 1) | 1).to(dtype) * 2.0**-25
    radius = torch.sqrt(-2.0 * torch.log(uniform))
    quadrant = (angle_word >> 30).to(dtype)
    fraction = (angle_word & 0x3FFFFFFF).to(dtype) * 2.0**-30
    angle = (quadrant + fraction - 0.5) * (math.pi / 2)
    return radius * torch.cos(angle), radius * torch.sin(angle)


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
