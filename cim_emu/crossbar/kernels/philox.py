"""Philox4x32-10, the counter-based random number generator of Salmon et al. (SC'11, "Parallel random
numbers: as easy as 1, 2, 3"), in two bit-identical implementations: torch integer ops (any device; the
device layer's :func:`devices.macrospin.philox4x32_torch`, here with the key as two 32-bit words) and a
numba function on uint32 scalars for the CPU mask kernels.

A counter-based generator maps (counter, key) -> random words with no state, so a kernel can make the
random bits of any (row, output, input) cell directly, in any order, on any thread, and make them again
in the backward pass. Checked against the Random123 known-answer vectors (``tests/kat_vectors``).
"""

from __future__ import annotations

import numba
import numpy as np
import torch

from devices import macrospin

__all__ = ["PHILOX_ROUNDS", "philox4x32_torch", "philox4x32_numba"]

PHILOX_ROUNDS = 10
_MULTIPLIER_0, _MULTIPLIER_1 = 0xD2511F53, 0xCD9E8D57   # Random123 PHILOX_M4x32_0/1
_WEYL_0, _WEYL_1 = 0x9E3779B9, 0xBB67AE85                # key schedule increments (golden ratio, sqrt(3) - 1)
_LOW_32 = 0xFFFFFFFF


def philox4x32_torch(counter: tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor],
                     key: tuple[int, int]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Philox4x32-10 on int64 tensors holding unsigned 32-bit words.

    Args:
        counter: four int64 tensors (broadcastable) with values in [0, 2^32).
        key: two integers in [0, 2^32).

    Returns:
        Four int64 tensors of random 32-bit words, the broadcast shape of the counter.
    """
    # The device layer's Philox (written first, for the macrospin solver) takes the key as one 64-bit integer.
    return macrospin.philox4x32_torch(counter, (int(key[0]) & _LOW_32) | ((int(key[1]) & _LOW_32) << 32))


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
