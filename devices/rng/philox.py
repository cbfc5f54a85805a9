"""Philox4x32-10, the one counter-based random-number generator of the project (torch twin).

Philox4x32-10 is the generator of Salmon et al., "Parallel random numbers: as easy as 1, 2, 3" (SC'11):
a pure function (counter, key) -> four random 32-bit words, with no state. A kernel can therefore make the
random bits of any (step, trial), (row, output, input) or (group, block, row) directly, in any order, on any
thread, and make them again in a backward pass; the result depends on the counter only, never on the batch
layout, the chunking, the thread count or the backend.

Two bit-identical twins implement it:

* :func:`philox4x32_torch` (this module): int64 tensors holding 32-bit words, any device, broadcasting;
* :func:`devices.rng.philox_numba.philox4x32_numba`: numba scalars, inlined into the CPU kernels (the
  macrospin solver, the MC-dropconnect masks, the column read noise).

Both are checked against the Random123 known-answer vectors (``tests/devices/rng/test_philox.py``).
:func:`box_muller_torch` turns pairs of words into standard normals (the numba twin is
:func:`devices.rng.philox_numba.box_muller_numba`). The key of a stream is drawn once from the caller's
generator by :func:`devices.rng.draw_key`.
"""

from __future__ import annotations

import math
import operator

import torch

__all__ = [
    "MASK_32",
    "PHILOX_MULTIPLIER_0",
    "PHILOX_MULTIPLIER_1",
    "PHILOX_ROUNDS",
    "PHILOX_WEYL_0",
    "PHILOX_WEYL_1",
    "box_muller_torch",
    "key_words",
    "philox4x32_torch",
]

MASK_32 = 0xFFFFFFFF
PHILOX_MULTIPLIER_0 = 0xD2511F53  # Random123 PHILOX_M4x32_0
PHILOX_MULTIPLIER_1 = 0xCD9E8D57  # Random123 PHILOX_M4x32_1
PHILOX_WEYL_0 = 0x9E3779B9        # key schedule increments: golden ratio,
PHILOX_WEYL_1 = 0xBB67AE85        # sqrt(3) - 1
PHILOX_ROUNDS = 10


def key_words(key: int | tuple[int, int]) -> tuple[int, int]:
    """The two 32-bit key words (low, high) of a 64-bit key, or of a pair of words as given.

    Args:
        key: one integer in [0, 2^64) (low word = bits 0-31), or a pair ``(low, high)`` of integers in
            [0, 2^32) (python, numpy or 0-d torch integers).

    Raises:
        ValueError: a key that is not an integer in those ranges.
    """
    if isinstance(key, tuple):
        words = tuple(_integer(word) for word in key)
        if len(words) != 2 or any(word is None or not 0 <= word <= MASK_32 for word in words):
            raise ValueError(f"a Philox key pair must hold two integers in [0, 2^32), got {key!r}")
        return words
    value = _integer(key)
    if value is None or not 0 <= value < 2**64:
        raise ValueError(f"a Philox key must be an integer in [0, 2^64) (e.g. from devices.rng.draw_key), "
                         f"got {key!r}")
    return value & MASK_32, value >> 32


def _integer(value) -> int | None:
    # Python, numpy and 0-d torch integers count; bools and floats do not.
    if isinstance(value, bool):
        return None
    try:
        return operator.index(value)
    except TypeError:
        return None


def _mulhilo_torch(word: torch.Tensor, multiplier: int) -> tuple[torch.Tensor, torch.Tensor]:
    # 32 x 32 -> 64-bit product in int64 without overflow: split the constant into 16-bit halves
    # (each partial product < 2^48), so the result is exact on every backend (no signed wrap-around).
    high_part = word * (multiplier >> 16)
    low_part = word * (multiplier & 0xFFFF)
    high = (high_part + (low_part >> 16)) >> 16
    low = (((high_part & 0xFFFF) << 16) + low_part) & MASK_32
    return high, low


def philox4x32_torch(
    counter: tuple[torch.Tensor | int, torch.Tensor | int, torch.Tensor | int, torch.Tensor | int],
    key: int | tuple[int, int],
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Philox4x32-10 on int64 tensors holding unsigned 32-bit words (broadcasting over the counter words).

    Args:
        counter: four words (int64 tensors or ints) with values in [0, 2^32); at least one a tensor (it sets
            the device and, with the others, the broadcast shape).
        key: the 64-bit key as one integer (low word = bits 0-31), or its two 32-bit words ``(low, high)``.

    Returns:
        Four int64 tensors of random 32-bit words, of the broadcast shape of the counter.
    """
    tensors = [c for c in counter if isinstance(c, torch.Tensor)]
    if not tensors:
        raise ValueError("philox4x32_torch: at least one counter word must be a tensor (it sets device/shape)")
    like = tensors[0]
    c0, c1, c2, c3 = (
        c if isinstance(c, torch.Tensor) else torch.as_tensor(c, dtype=torch.int64, device=like.device)
        for c in counter
    )
    key_0, key_1 = key_words(key)
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
    """Two standard normals from two 32-bit Philox words (the reference of the numba ``box_muller_numba``).

    Radius R = sqrt(-2 ln u) with u = (2 (word >> 8) + 1) 2^-25 in (0, 1) (24 bits, so |z| <= 5.89); angle
    theta = q pi/2 + (f - 1/2) pi/2 from the top two bits q and the low 30 bits f of the other word (uniform
    on the circle). Returns (R cos theta, R sin theta), each shaped like the words, of ``dtype``.
    """
    uniform = (((radius_word >> 8) << 1) | 1).to(dtype) * 2.0**-25
    radius = torch.sqrt(-2.0 * torch.log(uniform))
    quadrant = (angle_word >> 30).to(dtype)
    fraction = (angle_word & 0x3FFFFFFF).to(dtype) * 2.0**-30
    angle = (quadrant + fraction - 0.5) * (math.pi / 2)
    return radius * torch.cos(angle), radius * torch.sin(angle)
