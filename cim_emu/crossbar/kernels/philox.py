"""Philox4x32-10 for the crossbar kernels: the project's one implementation, from :mod:`devices.rng`.

The torch twin (:func:`philox4x32_torch`, any device; the key as one 64-bit integer or as two 32-bit
words) and the numba twin (:func:`philox4x32_numba`, inlined into the CPU mask and read-noise kernels)
are defined once in ``devices/rng/`` and checked there against the Random123 known-answer vectors; this
module keeps the names importable where the crossbar kernels have always found them.
"""

from __future__ import annotations

from devices.rng.philox import PHILOX_ROUNDS, philox4x32_torch
from devices.rng.philox_numba import philox4x32_numba

__all__ = ["PHILOX_ROUNDS", "philox4x32_torch", "philox4x32_numba"]
