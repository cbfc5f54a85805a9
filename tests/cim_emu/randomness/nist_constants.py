"""Binary expansions of e, pi, sqrt(2), sqrt(3) as in STS's data files (test helper).

STS's ``data/data.e`` etc. hold the expansion MSB first with the integer part included:
e = 10.1011011..., pi = 11.0010010..., sqrt(2) = 1.0110101..., sqrt(3) = 1.1011101...
The bits are computed exactly (mpmath for e and pi, integer square roots for the
roots) and cached on disk between test runs, since pi to 10^6 bits takes seconds.
"""

from __future__ import annotations

import functools
import math
import pathlib
import tempfile

import numpy as np

import devices

CONSTANTS = ("e", "pi", "sqrt2", "sqrt3")
_INTEGER_BITS = {"e": 2, "pi": 2, "sqrt2": 1, "sqrt3": 1}
_CACHE_DIR = pathlib.Path(tempfile.gettempdir()) / "cim_emu_nist_constants_v1"


def _as_integer(name: str, n_bits: int) -> int:
    """floor(constant * 2**(n_bits - integer bits)): an integer with exactly n_bits bits."""
    fraction_bits = n_bits - _INTEGER_BITS[name]
    if name in ("sqrt2", "sqrt3"):
        radicand = 2 if name == "sqrt2" else 3
        return math.isqrt(radicand << (2 * fraction_bits))
    import mpmath

    with mpmath.workprec(n_bits + 64):
        value = mpmath.pi if name == "pi" else mpmath.e
        return int(mpmath.floor(mpmath.ldexp(value, fraction_bits)))


def _compute(name: str, n_bits: int) -> np.ndarray:
    integer = _as_integer(name, n_bits)
    digits = np.frombuffer(format(integer, "b").encode("ascii"), dtype=np.uint8) - np.uint8(48)
    if digits.shape[0] != n_bits:
        raise AssertionError(f"{name}: {digits.shape[0]} bits computed, {n_bits} wanted")
    return digits


@functools.cache
def constant_bits(name: str, n_bits: int = 1_000_000) -> np.ndarray:
    """First ``n_bits`` bits of the constant (uint8 0/1, read-only)."""
    if name not in CONSTANTS:
        raise ValueError(f"unknown constant {name!r}; choose from {CONSTANTS}")
    path = _CACHE_DIR / f"{name}_{n_bits}.npy"
    bits = None
    if path.exists():
        try:
            bits = np.load(path)
        except (OSError, ValueError):
            bits = None
    if bits is None or bits.shape != (n_bits,):
        bits = _compute(name, n_bits)
        with devices.atomic_write(path, "wb") as stream:  # concurrent test runs never read half a file
            np.save(stream, bits)
    bits.setflags(write=False)
    return bits
