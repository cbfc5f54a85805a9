"""Philox4x32-10 and Box-Muller normals in numba: the twins of :mod:`devices.rng.philox`, for CPU kernels.

Every function here is compiled with ``inline="always"``: numba inlines it (at its IR level, across
modules) into the kernel that calls it, so the random words and normals are made inside the kernel's loop
(no noise array goes through memory) and LLVM vectorises them with the rest of the loop body. Callers:
the macrospin sLLG kernel (``devices.macrospin.kernel_numba``), the MC-dropconnect mask kernels
(``cim_emu.crossbar.kernels.masked_mvm``) and the column read noise (``cim_emu.crossbar.kernels.column_noise``).

* :func:`philox4x32_numba` takes unsigned words (uint32 or uint64 holding 32-bit values) and returns four
  uint64 words holding 32-bit values, equal to :func:`devices.rng.philox.philox4x32_torch`'s. It is written
  unrolled on uint64 so that LLVM vectorises it over a loop of counters.
* :func:`box_muller_numba` makes four normals from four words as ``box_muller_torch`` does on (w0, w1) and
  (w2, w3). Box-Muller needs ln and sin/cos, which LLVM cannot vectorise without a vector math library
  (numba here has no SVML): :func:`_minus_two_log_uniform` (exponent from the IEEE bits) and
  :func:`_sin_cos_of_turn` are branch-free polynomial versions (error < 1e-13, checked against torch in the
  tests).

Import this module only where numba runs (it compiles on first call, cached on disk afterwards).
"""

from __future__ import annotations

import numba
import numpy as np
from numba.core import types as numba_types
from numba.extending import intrinsic

from devices.rng.philox import MASK_32, PHILOX_MULTIPLIER_0, PHILOX_MULTIPLIER_1, PHILOX_WEYL_0, PHILOX_WEYL_1

__all__ = ["box_muller_numba", "philox4x32_numba"]

_U = np.uint64
# The Random123 constants of devices.rng.philox, as numba compile-time uint64 constants.
_MASK = _U(MASK_32)
_MULTIPLIER_0, _MULTIPLIER_1 = _U(PHILOX_MULTIPLIER_0), _U(PHILOX_MULTIPLIER_1)
_WEYL_0, _WEYL_1 = _U(PHILOX_WEYL_0), _U(PHILOX_WEYL_1)
# The flags matter only where a function is called directly (tests): inlined, it takes its caller's.
# error_model="numpy" removes the ZeroDivisionError checks that would stop LLVM from vectorising;
# fastmath: fused multiply-add, reciprocal instead of division, signed zeros ignored (no reassociation).
_JIT_INLINE = {"inline": "always", "error_model": "numpy", "cache": True,
               "fastmath": {"contract", "arcp", "nsz"}}


@numba.njit(**_JIT_INLINE)
def _philox_round(c0, c1, c2, c3, k0, k1):
    # Salmon et al. (2011) Philox4x32 round; the 64-bit products are exact in uint64.
    mask = _MASK
    product_0 = _MULTIPLIER_0 * c0
    product_1 = _MULTIPLIER_1 * c2
    return (
        (product_1 >> _U(32)) ^ c1 ^ k0,
        product_1 & mask,
        (product_0 >> _U(32)) ^ c3 ^ k1,
        product_0 & mask,
    )


@numba.njit(**_JIT_INLINE)
def philox4x32_numba(c0, c1, c2, c3, k0, k1):
    """Philox4x32-10 of unsigned words holding 32-bit values -> four uint64 words holding 32-bit values.

    Unrolled so that LLVM vectorises it; the words may be uint32 or uint64 (widened here, exactly).
    """
    mask = _MASK
    weyl_0 = _WEYL_0
    weyl_1 = _WEYL_1
    c0, c1, c2, c3, k0, k1 = _U(c0), _U(c1), _U(c2), _U(c3), _U(k0), _U(k1)
    c0, c1, c2, c3 = _philox_round(c0, c1, c2, c3, k0, k1)
    k0, k1 = (k0 + weyl_0) & mask, (k1 + weyl_1) & mask
    c0, c1, c2, c3 = _philox_round(c0, c1, c2, c3, k0, k1)
    k0, k1 = (k0 + weyl_0) & mask, (k1 + weyl_1) & mask
    c0, c1, c2, c3 = _philox_round(c0, c1, c2, c3, k0, k1)
    k0, k1 = (k0 + weyl_0) & mask, (k1 + weyl_1) & mask
    c0, c1, c2, c3 = _philox_round(c0, c1, c2, c3, k0, k1)
    k0, k1 = (k0 + weyl_0) & mask, (k1 + weyl_1) & mask
    c0, c1, c2, c3 = _philox_round(c0, c1, c2, c3, k0, k1)
    k0, k1 = (k0 + weyl_0) & mask, (k1 + weyl_1) & mask
    c0, c1, c2, c3 = _philox_round(c0, c1, c2, c3, k0, k1)
    k0, k1 = (k0 + weyl_0) & mask, (k1 + weyl_1) & mask
    c0, c1, c2, c3 = _philox_round(c0, c1, c2, c3, k0, k1)
    k0, k1 = (k0 + weyl_0) & mask, (k1 + weyl_1) & mask
    c0, c1, c2, c3 = _philox_round(c0, c1, c2, c3, k0, k1)
    k0, k1 = (k0 + weyl_0) & mask, (k1 + weyl_1) & mask
    c0, c1, c2, c3 = _philox_round(c0, c1, c2, c3, k0, k1)
    k0, k1 = (k0 + weyl_0) & mask, (k1 + weyl_1) & mask
    return _philox_round(c0, c1, c2, c3, k0, k1)


_LN_2 = 0.6931471805599453
_SQRT_2 = 1.4142135623730951


@intrinsic
def _bits_of_float(typing_context, value):
    """Reinterpret a float64 as its uint64 bit pattern (an LLVM bitcast: free and vectorisable)."""
    signature = numba_types.uint64(numba_types.float64)

    def codegen(context, builder, signature, arguments):
        return builder.bitcast(arguments[0], context.get_value_type(numba_types.uint64))

    return signature, codegen


@intrinsic
def _float_of_bits(typing_context, value):
    """Reinterpret a uint64 bit pattern as a float64."""
    signature = numba_types.float64(numba_types.uint64)

    def codegen(context, builder, signature, arguments):
        return builder.bitcast(arguments[0], context.get_value_type(numba_types.float64))

    return signature, codegen


@numba.njit(**_JIT_INLINE)
def _minus_two_log_uniform(word):
    """-2 ln u for u = (2 (word >> 8) + 1) / 2^25, branch-free (vectorisable).

    v = 2 (word >> 8) + 1 = 2^e f with f in [1, 2), read off the IEEE-754 bits of float(v) (exact:
    v < 2^53); ln f = 2 atanh(s), s = (f - 1)/(f + 1), |s| <= 0.172 after folding f into
    [1/sqrt2, sqrt2): the series to s^17 is exact to 1e-16.
    """
    odd = ((word >> _U(8)) << _U(1)) | _U(1)
    bits = _bits_of_float(np.float64(odd))
    exponent = np.float64(np.int64(bits >> _U(52)) - 1023)
    mantissa = _float_of_bits((bits & _U(0x000FFFFFFFFFFFFF)) | _U(0x3FF0000000000000))
    fold = mantissa > _SQRT_2
    mantissa = mantissa * 0.5 if fold else mantissa
    exponent = exponent + (1.0 if fold else 0.0)
    s = (mantissa - 1.0) / (mantissa + 1.0)
    s2 = s * s
    series = 1.0 + s2 * (1 / 3 + s2 * (1 / 5 + s2 * (1 / 7 + s2 * (1 / 9 + s2 * (
        1 / 11 + s2 * (1 / 13 + s2 * (1 / 15 + s2 * (1 / 17))))))))
    log_uniform = 2.0 * s * series + (exponent - 25.0) * _LN_2
    return -2.0 * log_uniform


@numba.njit(**_JIT_INLINE)
def _sin_cos_of_turn(word):
    """(sin, cos) of theta = q pi/2 + (f - 1/2) pi/2 (q = top 2 bits, f = low 30 bits / 2^30).

    Taylor polynomials on [-pi/4, pi/4] (error < 3e-16 in double) and a branch-free quadrant
    rotation.
    """
    quadrant = word >> _U(30)
    fraction = np.float64(word & _U(0x3FFFFFFF)) * (1.0 / 1073741824.0)
    x = (fraction - 0.5) * 1.5707963267948966
    x2 = x * x
    sine = x * (1.0 + x2 * (-1 / 6 + x2 * (1 / 120 + x2 * (-1 / 5040 + x2 * (
        1 / 362880 + x2 * (-1 / 39916800 + x2 * (1 / 6227020800)))))))
    cosine = 1.0 + x2 * (-0.5 + x2 * (1 / 24 + x2 * (-1 / 720 + x2 * (1 / 40320 + x2 * (
        -1 / 3628800 + x2 * (1 / 479001600 + x2 * (-1 / 87178291200)))))))
    odd_quadrant = (quadrant & _U(1)) == _U(1)
    negate = quadrant >= _U(2)
    rotated_sine = cosine if odd_quadrant else sine
    rotated_cosine = -sine if odd_quadrant else cosine
    if negate:
        rotated_sine = -rotated_sine
        rotated_cosine = -rotated_cosine
    return rotated_sine, rotated_cosine


@numba.njit(**_JIT_INLINE)
def box_muller_numba(w0, w1, w2, w3):
    """Four standard normals from four Philox words, as ``noise.box_muller_torch`` on (w0, w1) and (w2, w3)."""
    radius_a = np.sqrt(_minus_two_log_uniform(w0))
    sine_a, cosine_a = _sin_cos_of_turn(w1)
    radius_b = np.sqrt(_minus_two_log_uniform(w2))
    sine_b, cosine_b = _sin_cos_of_turn(w3)
    return radius_a * cosine_a, radius_a * sine_a, radius_b * cosine_b, radius_b * sine_b
