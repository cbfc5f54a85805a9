"""Philox4x32-10 in Triton: the third bit-identical twin of :mod:`devices.rng.philox` (torch) and the numba one.

The kernels of this package make their random words in registers with :func:`philox4x32`, on the same
counters and keys as the CPU kernels, so a seed gives the same masks and read noise on a CPU and a GPU.
The round (Salmon et al., SC'11; Random123 ``philox4x32round``) on uint32 words, with ``umulhi`` for the
high half of the 32 x 32-bit products and uint32 wrap-around for the low half:

    (c0, c1, c2, c3) <- (hi(M1 c2) ^ c1 ^ k0, lo(M1 c2), hi(M0 c0) ^ c3 ^ k1, lo(M0 c0)),
    (k0, k1) <- (k0 + W0, k1 + W1) mod 2^32,

ten rounds. :func:`philox_words` runs it on host tensors (tests, the Random123 known-answer vectors).
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl

from devices.rng.philox import (
    MASK_32,
    PHILOX_MULTIPLIER_0,
    PHILOX_MULTIPLIER_1,
    PHILOX_ROUNDS,
    PHILOX_WEYL_0,
    PHILOX_WEYL_1,
)

__all__ = ["check_device", "philox4x32", "philox_words"]

# The Random123 constants of devices.rng.philox, as Triton compile-time constants.
_MULTIPLIER_0: tl.constexpr = tl.constexpr(PHILOX_MULTIPLIER_0)
_MULTIPLIER_1: tl.constexpr = tl.constexpr(PHILOX_MULTIPLIER_1)
_WEYL_0: tl.constexpr = tl.constexpr(PHILOX_WEYL_0)
_WEYL_1: tl.constexpr = tl.constexpr(PHILOX_WEYL_1)
_ROUNDS: tl.constexpr = tl.constexpr(PHILOX_ROUNDS)


@triton.jit
def philox4x32(c0, c1, c2, c3, k0, k1):
    """Philox4x32-10 of uint32 counter words (broadcasting) and uint32 key words -> four uint32 words."""
    for _ in tl.static_range(_ROUNDS):
        previous_0 = c0
        previous_2 = c2
        c0 = tl.umulhi(previous_2, _MULTIPLIER_1) ^ c1 ^ k0
        c2 = tl.umulhi(previous_0, _MULTIPLIER_0) ^ c3 ^ k1
        c1 = previous_2 * _MULTIPLIER_1
        c3 = previous_0 * _MULTIPLIER_0
        k0 = k0 + _WEYL_0
        k1 = k1 + _WEYL_1
    return c0, c1, c2, c3


# Triton decides at decoration time: under TRITON_INTERPRET=1 kernels are interpreted (numpy, any device).
INTERPRETED = not isinstance(philox4x32, triton.runtime.JITFunction)


def check_device(device: torch.device, what: str) -> None:
    """Refuse tensors these kernels cannot run on: CUDA ones always run, CPU ones under the interpreter.

    Raises:
        ValueError: naming ``what`` and the two ways to run it.
    """
    if torch.device(device).type != "cuda" and not INTERPRETED:
        raise ValueError(f"{what}: the Triton kernels run on CUDA tensors, got {torch.device(device)}; use the CPU "
                         "kernels (cim_emu.crossbar.kernels), or set TRITON_INTERPRET=1 before triton compiles "
                         "anything to run them on the CPU (slow; for tests)")


@triton.jit(do_not_specialize=["key_0", "key_1"])
def _words_kernel(counter_ptr, out_ptr, n_counters, key_0, key_1, BLOCK: tl.constexpr):
    offsets = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    valid = offsets < n_counters
    c0 = tl.load(counter_ptr + offsets, mask=valid, other=0).to(tl.uint32)
    c1 = tl.load(counter_ptr + n_counters + offsets, mask=valid, other=0).to(tl.uint32)
    c2 = tl.load(counter_ptr + 2 * n_counters + offsets, mask=valid, other=0).to(tl.uint32)
    c3 = tl.load(counter_ptr + 3 * n_counters + offsets, mask=valid, other=0).to(tl.uint32)
    w0, w1, w2, w3 = philox4x32(c0, c1, c2, c3, key_0.to(tl.uint32), key_1.to(tl.uint32))
    # int64 output holds the unsigned words (as the torch twin does).
    tl.store(out_ptr + offsets, w0.to(tl.int64), mask=valid)
    tl.store(out_ptr + n_counters + offsets, w1.to(tl.int64), mask=valid)
    tl.store(out_ptr + 2 * n_counters + offsets, w2.to(tl.int64), mask=valid)
    tl.store(out_ptr + 3 * n_counters + offsets, w3.to(tl.int64), mask=valid)


def philox_words(counter: torch.Tensor, key: tuple[int, int]) -> torch.Tensor:
    """Philox4x32-10 words of many counters, computed by the Triton twin.

    Args:
        counter: (4, n) int64 counter words, values in [0, 2^32).
        key: two key words (low, high) in [0, 2^32).

    Returns:
        (4, n) int64 random words in [0, 2^32), equal to ``devices.rng.philox.philox4x32_torch``'s.
    """
    if counter.dim() != 2 or counter.shape[0] != 4 or counter.dtype != torch.int64:
        raise ValueError(f"counter: expected a (4, n) int64 tensor, got {tuple(counter.shape)} {counter.dtype}")
    if bool(((counter < 0) | (counter > MASK_32)).any()):
        raise ValueError("counter: Philox counter words must lie in [0, 2^32)")
    key_0, key_1 = (int(word) for word in key)
    if not (0 <= key_0 <= MASK_32 and 0 <= key_1 <= MASK_32):
        raise ValueError(f"key: expected two words in [0, 2^32), got {key!r}")
    check_device(counter.device, "philox_words")
    counter = counter.contiguous()
    out = torch.empty_like(counter)
    n_counters = counter.shape[1]
    block = 128
    _words_kernel[(triton.cdiv(max(n_counters, 1), block),)](counter, out, n_counters, key_0, key_1, BLOCK=block)
    return out
