"""Validated bit sequences and the derived counts several tests share."""

from __future__ import annotations

from typing import Any

import numpy as np

from cim_emu.randomness.sp800_22 import _kernels

__all__ = ["as_bits", "PreparedBits"]


def as_bits(bits: Any) -> np.ndarray:
    """Validate and convert a bit sequence to a contiguous 1-D uint8 array of 0/1.

    Args:
        bits: a 1-D array-like of 0/1 (numpy array of any integer or bool dtype, list,
            torch tensor on any device) or a string of '0'/'1' characters.

    Returns:
        uint8 array (n,), sharing memory with ``bits`` when it already is one.

    Raises:
        ValueError: not 1-D, empty, or holding values other than 0 and 1.
    """
    if isinstance(bits, PreparedBits):
        return bits.bits
    if isinstance(bits, str):
        array = np.frombuffer(bits.encode("ascii", "replace"), dtype=np.uint8) - np.uint8(48)
    elif isinstance(bits, (bytes, bytearray)):
        raise ValueError(
            "bits given as bytes are ambiguous: unpack them with "
            "cim_emu.randomness.bytes_to_bits (MSB first) or pass a '0'/'1' string"
        )
    else:
        if hasattr(bits, "detach"):  # torch tensor, possibly on an accelerator
            bits = bits.detach().cpu().numpy()
        array = np.asarray(bits)
    if array.ndim != 1:
        raise ValueError(f"bits must be a 1-D sequence, got shape {array.shape}; pass one stream at a time")
    if array.size == 0:
        raise ValueError("bits is empty: the tests need at least one bit")
    if array.dtype == np.bool_:
        return np.ascontiguousarray(array).view(np.uint8)
    if not np.issubdtype(array.dtype, np.integer):
        if not np.issubdtype(array.dtype, np.floating):
            raise ValueError(f"bits must hold integers 0/1, got dtype {array.dtype}")
        bad = np.flatnonzero((array != 0) & (array != 1))
        if bad.size:
            raise ValueError(f"bits[{bad[0]}] = {array[bad[0]]!r}; expected 0 or 1")
        return array.astype(np.uint8)
    array = np.ascontiguousarray(array)
    first_bad = _kernels.bits_are_binary(array)
    if first_bad >= 0:
        shown = array[first_bad]
        if isinstance(bits, str):
            shown = repr(bits[first_bad])
        raise ValueError(f"bits[{first_bad}] = {shown}; expected 0 or 1")
    return array if array.dtype == np.uint8 else array.astype(np.uint8)


class PreparedBits:
    """A validated sequence plus memoised counts shared by several tests.

    The suite prepares a sequence once; the serial and approximate-entropy tests then
    share one pass of pattern counting, cumulative sums and both random-excursion tests
    share one pass of the random walk. Not part of the public API.
    """

    __slots__ = ("bits", "n", "_circular", "_walk", "_ones")

    def __init__(self, bits: Any) -> None:
        self.bits = as_bits(bits)
        self.n = int(self.bits.shape[0])
        self._circular: dict[int, np.ndarray] = {}
        self._walk: tuple | None = None
        self._ones: int | None = None

    @classmethod
    def of(cls, bits: Any) -> PreparedBits:
        """``bits`` itself when already prepared, else a new PreparedBits."""
        return bits if isinstance(bits, PreparedBits) else cls(bits)

    def ones(self) -> int:
        """Number of ones."""
        if self._ones is None:
            self._ones = int(_kernels.count_ones(self.bits))
        return self._ones

    def circular_counts(self, m: int) -> np.ndarray:
        """Counts of the 2**m patterns over the n wrap-around windows (int64, read-only).

        Derived by marginalising a longer pattern count when one exists: the (m+1)-bit
        window at i is the m-bit window at i followed by one bit.
        """
        if m in self._circular:
            return self._circular[m]
        longer = [k for k in self._circular if k > m]
        if longer:
            counts = self._circular[min(longer)]
            for _ in range(min(longer) - m):
                counts = counts.reshape(-1, 2).sum(axis=1)
        else:
            counts = _kernels.circular_window_counts(self.bits, m)
        counts.setflags(write=False)
        self._circular[m] = counts
        return counts

    def random_walk(self) -> tuple:
        """(S_n, max S, min S, zeros, excursion counts (6, 8), state visits (18,))."""
        if self._walk is None:
            self._walk = _kernels.random_walk(self.bits)
        return self._walk
