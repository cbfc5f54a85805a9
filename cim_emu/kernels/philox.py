"""Philox4x32-10, the counter-based random number generator of Salmon et al. (SC'11, "Parallel random
numbers: as easy as 1, 2, 3"), in two bit-identical implementations: torch integer ops (any device) and
a numba function for CPU kernels.

A counter-based generator maps (counter, key) -> random words with no state, so a kernel can make the
random bits of any (row, output, input) cell directly, in any order, on any thread, and make them again
in the backward pass. Checked against the Random123 known-answer vectors (``tests/kat_vectors``).
"""

from __future__ import annotations

import numba
import numpy as np
import torch

__all__ = ["PHILOX_ROUNDS", "philox4x32_torch", "philox4x32_numba"]

PHILOX_ROUNDS = 10
_MULTIPLIER_0, _MULTIPLIER_1 = 0xD2511F53, 0xCD9E8D57   # Random123 PHILOX_M4x32_0/1
_WEYL_0, _WEYL_1 = 0x9E3779B9, 0xBB67AE85                # key schedule increments (golden ratio, sqrt(3) - 1)
_LOW_32 = 0xFFFFFFFF


def _mulhilo_torch(value: torch.Tensor, multiplier: int) -> tuple[torch.Tensor, torch.Tensor]:
    # 32 x 32 -> 64-bit product of int64 tensors holding unsigned 32-bit values, split in 16-bit halves
    # of the multiplier so that no intermediate exceeds 2^49: signed int64 never overflows.
    high_half, low_half = multiplier >> 16, multiplier & 0xFFFF
    low_product = value * low_half
    high_product = value * high_half
    high = (high_product + (low_product >> 16)) >> 16
    low = (((high_product & 0xFFFF) << 16) + low_product) & _LOW_32
    return high, low


def philox4x32_torch(counter: tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor],
                     key: tuple[int, int]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Philox4x32-10 on int64 tensors holding unsigned 32-bit words.

    Args:
        counter: four int64 tensors (broadcastable) with values in [0, 2^32).
        key: two integers in [0, 2^32).

    Returns:
        Four int64 tensors of random 32-bit words, the broadcast shape of the counter.
    """
    word_0, word_1, word_2, word_3 = counter
    key_0, key_1 = int(key[0]) & _LOW_32, int(key[1]) & _LOW_32
    for _ in range(PHILOX_ROUNDS):
        high_0, low_0 = _mulhilo_torch(word_0, _MULTIPLIER_0)
        high_1, low_1 = _mulhilo_torch(word_2, _MULTIPLIER_1)
        word_0, word_1, word_2, word_3 = high_1 ^ word_1 ^ key_0, low_1, high_0 ^ word_3 ^ key_1, low_0
        key_0, key_1 = (key_0 + _WEYL_0) & _LOW_32, (key_1 + _WEYL_1) & _LOW_32
    return word_0, word_1, word_2, word_3


_M0 = np.uint64(_MULTIPLIER_0)
_M1 = np.uint64(_MULTIPLIER_1)
_W0 = np.uint32(_WEYL_0)
_W1 = np.uint32(_WEYL_1)
_SHIFT = np.uint64(32)
_MASK = np.uint64(_LOW_32)


@numba.njit(inline="always", cache=True)
def philox4x32_numba(word_0, word_1, word_2, word_3, key_0, key_1):
    """Philox4x32-10 on numba uint32 scalars; returns the four random words (uint32)."""
    for _ in range(PHILOX_ROUNDS):
        product_0 = np.uint64(word_0) * _M0
        product_1 = np.uint64(word_2) * _M1
        high_0 = np.uint32(product_0 >> _SHIFT)
        low_0 = np.uint32(product_0 & _MASK)
        high_1 = np.uint32(product_1 >> _SHIFT)
        low_1 = np.uint32(product_1 & _MASK)
        word_0, word_1, word_2, word_3 = high_1 ^ word_1 ^ key_0, low_1, high_0 ^ word_3 ^ key_1, low_0
        key_0 = np.uint32(key_0 + _W0)
        key_1 = np.uint32(key_1 + _W1)
    return word_0, word_1, word_2, word_3
