"""The CPU fast path: numba-compiled, multi-threaded, SIMD-vectorised stochastic-Heun chunks.

The step is :func:`devices.macrospin.kernel.heun_update` itself (the same Python source, compiled
by numba and inlined), so the physics cannot drift from the torch path. What this module adds is
what makes it fast on a CPU:

* the Philox4x32-10 noise of :mod:`devices.macrospin.noise` is generated *inside* the loop, so no
  noise array goes through memory: the project's one numba Philox and its branch-free Box-Muller
  (:mod:`devices.rng.philox_numba`) are inlined here, so the loop over a block of trials compiles to
  AVX2/AVX-512 code;
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

from devices.macrospin import kernel
from devices.rng.philox_numba import box_muller_numba, philox4x32_numba

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
