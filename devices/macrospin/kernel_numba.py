"""The CPU fast path: numba-compiled, multi-threaded, SIMD-vectorised stochastic-Heun chunks.

The step is :func:`devices.macrospin.kernel.heun_update` itself (the same Python source, compiled
by numba and inlined), so the physics cannot drift from the torch path. What this module adds is
what makes it fast on a CPU:

* the Philox4x32-10 noise of :mod:`devices.macrospin.noise` is generated *inside* the loop, so no
  noise array goes through memory;
* Box-Muller needs ln and sin/cos, which LLVM cannot vectorise without a vector math library
  (numba here has no SVML). :func:`_minus_two_log_uniform` (exponent from the IEEE bits) and
  :func:`_sin_cos_of_turn` are branch-free polynomial versions (error < 1e-13, checked against
  torch in the tests), so the loop over a block of trials compiles to AVX2/AVX-512 code;
* trials are processed in blocks of ``BLOCK_SIZE`` (state stays in L1 over a chunk of steps),
  blocks are spread over threads with ``prange``; each trial's arithmetic is independent of the
  thread count, so results are bit-identical for a given seed on a given machine.

Import this module only when the numba backend is used (numba compiles on first call, ~5-10 s,
cached on disk afterwards).
"""

from __future__ import annotations

import types

import numba
import numpy as np
from numba.core import types as numba_types
from numba.extending import intrinsic

from devices.macrospin import kernel

__all__ = ["advance_numba", "box_muller_numba", "philox4x32_numba", "normals_numba", "trapped_numba", "BLOCK_SIZE"]

BLOCK_SIZE = 256
_U = np.uint64
# error_model="numpy" removes the ZeroDivisionError checks that would stop LLVM from vectorising.
# fastmath: fused multiply-add, reciprocal instead of division, signed zeros ignored -- ~25 % faster;
# no reassociation, no approximate functions, NaN/inf semantics kept. Still deterministic per machine.
_FASTMATH = {"contract", "arcp", "nsz"}
_JIT_INLINE = {"inline": "always", "error_model": "numpy", "cache": True, "fastmath": _FASTMATH}
_llg_rate = numba.njit(**_JIT_INLINE)(kernel.llg_rate)
_effective_field = numba.njit(**_JIT_INLINE)(kernel.effective_field)
# heun_update's own bytecode, with its two helpers resolved to their compiled twins.
_heun_update = numba.njit(**_JIT_INLINE)(
    types.FunctionType(
        kernel.heun_update.__code__,
        {**vars(kernel), "llg_rate": _llg_rate, "effective_field": _effective_field},
        "heun_update",
    )
)


@numba.njit(**_JIT_INLINE)
def _philox_round(c0, c1, c2, c3, k0, k1):
    # Salmon et al. (2011) Philox4x32 round; the 64-bit products are exact in uint64.
    mask = _U(0xFFFFFFFF)
    product_0 = _U(0xD2511F53) * c0
    product_1 = _U(0xCD9E8D57) * c2
    return (
        (product_1 >> _U(32)) ^ c1 ^ k0,
        product_1 & mask,
        (product_0 >> _U(32)) ^ c3 ^ k1,
        product_0 & mask,
    )


@numba.njit(**_JIT_INLINE)
def philox4x32_numba(c0, c1, c2, c3, k0, k1):
    """Philox4x32-10 of uint64 words holding 32-bit values; unrolled so that LLVM vectorises it."""
    mask = _U(0xFFFFFFFF)
    weyl_0 = _U(0x9E3779B9)
    weyl_1 = _U(0xBB67AE85)
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


@numba.njit(error_model="numpy", cache=True, fastmath=_FASTMATH)
def normals_numba(step_index, trial_index, stream, key):
    """The four normals of :func:`devices.macrospin.noise.philox_normals_torch`, shape (n, 4) (for tests)."""
    out = np.empty((trial_index.shape[0], 4))
    mask = _U(0xFFFFFFFF)
    key_0 = _U(key) & mask
    key_1 = _U(key) >> _U(32)
    for j in range(trial_index.shape[0]):
        index = _U(trial_index[j])
        w0, w1, w2, w3 = philox4x32_numba(_U(step_index), index & mask, index >> _U(32), _U(stream), key_0, key_1)
        out[j, 0], out[j, 1], out[j, 2], out[j, 3] = box_muller_numba(w0, w1, w2, w3)
    return out


@numba.njit(parallel=True, error_model="numpy", cache=True, fastmath=_FASTMATH)
def advance_numba(
    mx, my, mz,
    anisotropy_at_zero_V_T, vcma_T_per_V, bias_T, damping, gamma_prime, thermal_sigma_T,
    amplitude_V, fall_half_time_s, trial_index,
    first_step, n_steps, dt, key,
    demag_x_T, demag_y_T, rise_half_time_s, rise_slope_per_s, fall_slope_per_s,
):
    """In place: advance every trial by ``n_steps`` Heun steps (see ``kernel.advance_torch``).

    All per-trial arrays are 1-D float64 (``trial_index`` int64) and C-contiguous; the state
    arrays ``mx, my, mz`` are overwritten. Same noise and same update as ``advance_torch``.
    """
    n_trials = mx.shape[0]
    mask = _U(0xFFFFFFFF)
    key_0 = _U(key) & mask
    key_1 = _U(key) >> _U(32)
    stream = _U(0)  # Stream.THERMAL_FIELD
    n_blocks = (n_trials + BLOCK_SIZE - 1) // BLOCK_SIZE
    for block in numba.prange(n_blocks):
        start = block * BLOCK_SIZE
        stop = min(n_trials, start + BLOCK_SIZE)
        # Block-local copies: fresh arrays cannot alias the inputs, which lets LLVM vectorise the
        # trial loop without runtime alias checks (with writes into mx/my/mz it gives up).
        x = mx[start:stop].copy()
        y = my[start:stop].copy()
        z = mz[start:stop].copy()
        for offset in range(n_steps):
            step = first_step + offset
            counter_0 = _U(step) & mask
            time_now = step * dt
            time_next = time_now + dt
            rising_now = 0.5 + (time_now - rise_half_time_s) * rise_slope_per_s
            rising_next = 0.5 + (time_next - rise_half_time_s) * rise_slope_per_s
            for j in range(stop - start):
                trial = start + j
                # Pulse envelope (pulse.py), clipped to [0, 1], at t and t + dt.
                falling_now = 0.5 + (fall_half_time_s[trial] - time_now) * fall_slope_per_s
                falling_next = 0.5 + (fall_half_time_s[trial] - time_next) * fall_slope_per_s
                envelope_now = max(0.0, min(1.0, min(rising_now, falling_now)))
                envelope_next = max(0.0, min(1.0, min(rising_next, falling_next)))
                drop = vcma_T_per_V[trial] * amplitude_V[trial]
                index = _U(trial_index[trial])
                w0, w1, w2, w3 = philox4x32_numba(counter_0, index & mask, index >> _U(32), stream, key_0, key_1)
                normal_0, normal_1, normal_2, _ = box_muller_numba(w0, w1, w2, w3)
                sigma = thermal_sigma_T[trial]
                nx, ny, nz = _heun_update(
                    x[j], y[j], z[j],
                    anisotropy_at_zero_V_T[trial] - drop * envelope_now,
                    anisotropy_at_zero_V_T[trial] - drop * envelope_next,
                    bias_T[trial], demag_x_T, demag_y_T,
                    sigma * normal_0, sigma * normal_1, sigma * normal_2,
                    gamma_prime[trial], damping[trial], dt,
                )
                inverse_norm = 1.0 / np.sqrt(nx * nx + ny * ny + nz * nz)
                x[j] = nx * inverse_norm
                y[j] = ny * inverse_norm
                z[j] = nz * inverse_norm
        mx[start:stop] = x
        my[start:stop] = y
        mz[start:stop] = z


_reduced_energy_T = numba.njit(**_JIT_INLINE)(kernel.reduced_energy_T)


@numba.njit(error_model="numpy", cache=True)
def trapped_numba(mx, my, mz, anisotropy_at_zero_V_T, bias_T, demag_x_T, demag_y_T, saddle_energy_T, trap_depth_T):
    """Bool per trial: reduced energy at 0 V below the saddle by more than the trapping depth (solver.py)."""
    out = np.empty(mx.shape[0], dtype=np.bool_)
    for j in range(mx.shape[0]):
        energy = _reduced_energy_T(mx[j], my[j], mz[j], anisotropy_at_zero_V_T[j], bias_T[j], demag_x_T, demag_y_T)
        out[j] = energy < saddle_energy_T[j] - trap_depth_T[j]
    return out
