"""Fused column readout on the CPU: read noise, ADC and the digital sum of the row blocks in one pass.

A tile's column current per row block is Gaussian around its mean, with the variance of the cells' read
noise (:mod:`cim_emu.tile`). This kernel takes both, draws the noise, clips and rounds to the ADC grid and
adds the row blocks, per output element:

    out_rc = sum_b Q(clip(I_brc + sqrt(Var_brc) z_brc, +-full_scale)) / unit,   Q(I) = rint(I / step) step

so the standard normals ``z`` never reach memory. They come from a counter-based stream, defined once:
columns are taken in chunks of 256; in a chunk of n columns, G = ceil(n / 4) Philox4x32-10 calls

    (w0, w1, w2, w3) = Philox4x32-10(counter = (64 k + g, b, r mod 2^32, r >> 32), key = (seed mod 2^32, seed >> 32))

(k the chunk, g < G) feed two Box-Muller pairs, written to the chunk's columns g, G + g, 2G + g, 3G + g:

    rho = sqrt(-2 ln((w0 + 1) 2^-32)),  theta = 2 pi w1 2^-32:  z = rho cos theta, rho sin theta  (and w2, w3)

so |z| <= 6.66 (a tail probability of 3e-11 is cut). The logarithm and sine/cosine are polynomials
(relative error < 1e-9 in double precision) so that LLVM vectorises the loops: numba has no vector libm.
The same seed gives the same noise on any thread count (the stream is indexed, not sequential).
"""

from __future__ import annotations

import math

import numba
import numpy as np
import torch
from llvmlite import ir
from numba import types
from numba.extending import intrinsic, overload

from cim_emu.kernels.masked_mvm import _compile, _key, _run
from cim_emu.kernels.philox import philox4x32_numba

__all__ = ["column_normals", "noisy_column_readout"]

_CHUNK = 256                      # columns per chunk of the stream (64 Philox calls)
_GROUPS = _CHUNK // 4
_LN2 = math.log(2.0)
_MANTISSA = 0xFFFFFFFFFFFFF
_ONE_EXPONENT = 0x3FF0000000000000
_SQRT2_MANTISSA = 0x6A09E667F3BCD   # mantissa bits of sqrt(2): above it, halve m into [sqrt(1/2), 1)
_QUARTER_TURN = math.pi / 2 * 2.0 ** -30
_INV_SQRT2 = 1 / math.sqrt(2.0)


@intrinsic
def _float64_bits(typingctx, value):
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.IntType(64))
    return types.int64(types.float64), codegen


@intrinsic
def _bits_float64(typingctx, bits):
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.DoubleType())
    return types.float64(types.int64), codegen


@intrinsic
def _bits_float32(typingctx, bits):
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.FloatType())
    return types.float32(types.int32), codegen


@numba.njit(inline="always", fastmath=True, error_model="numpy", cache=True)
def _radius(word):
    """sqrt(-2 ln u), u = (word + 1) 2^-32: ln x = e ln 2 + ln m with m in [sqrt(1/2), sqrt(2)) and
    ln m = 2 atanh(s), s = (m - 1) / (m + 1), |s| < 0.172 (series to s^11: error < 4e-10)."""
    bits = _float64_bits(np.float64(word) + 1.0)
    high = np.int64((bits & _MANTISSA) > _SQRT2_MANTISSA)
    exponent = np.float64((bits >> 52) - 1023 + high)
    mantissa = _bits_float64((bits & _MANTISSA) | _ONE_EXPONENT) * (1.0 - 0.5 * np.float64(high))
    s = (mantissa - 1.0) / (mantissa + 1.0)
    s2 = s * s
    log_mantissa = 2.0 * s * (1.0 + s2 * (1 / 3 + s2 * (1 / 5 + s2 * (1 / 7 + s2 * (1 / 9 + s2 * (1 / 11))))))
    return math.sqrt(-2.0 * ((exponent - 32.0) * _LN2 + log_mantissa))


@numba.njit(inline="always", fastmath=True, error_model="numpy", cache=True)
def _cos_sin(word):
    """cos and sin of 2 pi word 2^-32 in float32: the top two bits pick the quadrant, the rest an angle in
    [0, pi/2), shifted to [-pi/4, pi/4) for the Taylor polynomials (truncation error < 2e-9 there)."""
    quadrant = np.int32(word >> np.uint32(30))
    a = np.float32(np.int32(word & np.uint32(0x3FFFFFFF))) * np.float32(_QUARTER_TURN) - np.float32(math.pi / 4)
    a2 = a * a
    sin_a = a * (np.float32(1) + a2 * (np.float32(-1 / 6) + a2 * (np.float32(1 / 120) + a2 * (
        np.float32(-1 / 5040) + a2 * np.float32(1 / 362880)))))
    cos_a = np.float32(1) + a2 * (np.float32(-1 / 2) + a2 * (np.float32(1 / 24) + a2 * (np.float32(-1 / 720) + a2 * (
        np.float32(1 / 40320) + a2 * np.float32(-1 / 3628800)))))
    # angle t = a + pi/4 inside the quadrant, then t + quadrant pi/2 by swapping and negating (no branches).
    sin_t = (sin_a + cos_a) * np.float32(_INV_SQRT2)
    cos_t = (cos_a - sin_a) * np.float32(_INV_SQRT2)
    swap = np.float32(quadrant & 1)
    keep = np.float32(1) - swap
    sign_sin = np.float32(1 - 2 * (quadrant >> 1))
    sign_cos = np.float32(1 - 2 * ((quadrant ^ (quadrant >> 1)) & 1))
    return (swap * sin_t + keep * cos_t) * sign_cos, (swap * cos_t + keep * sin_t) * sign_sin


@numba.njit(inline="always", fastmath=True, error_model="numpy", cache=True)
def _chunk_normals(chunk, block, row, n_columns, key_0, key_1, words, normals):
    """The stream's normals of one (block, row, chunk) into normals[:n_columns] (float64)."""
    n_groups = (n_columns + 3) // 4
    row_low = np.uint32(row & 0xFFFFFFFF)
    row_high = np.uint32(row >> 32)
    for g in range(n_groups):
        w0, w1, w2, w3 = philox4x32_numba(np.uint32(_GROUPS * chunk + g), np.uint32(block), row_low, row_high,
                                          key_0, key_1)
        words[0, g] = w0
        words[1, g] = w1
        words[2, g] = w2
        words[3, g] = w3
    for pair in range(2):
        radius_words = words[2 * pair, :n_groups]
        angle_words = words[2 * pair + 1, :n_groups]
        cos_out = normals[2 * pair * n_groups:(2 * pair + 1) * n_groups]
        sin_out = normals[(2 * pair + 1) * n_groups:(2 * pair + 2) * n_groups]
        for g in range(n_groups):
            radius = np.float32(_radius(radius_words[g]))
            cos_t, sin_t = _cos_sin(angle_words[g])
            cos_out[g] = radius * cos_t
            sin_out[g] = radius * sin_t


def _normals_kernel(n_blocks, n_rows, n_columns, key_0, key_1, out):
    for row in numba.prange(n_rows):
        words = np.empty((4, _GROUPS), dtype=np.uint32)
        normals = np.empty(4 * _GROUPS, dtype=np.float32)
        for block in range(n_blocks):
            for start in range(0, n_columns, _CHUNK):
                width = min(_CHUNK, n_columns - start)
                _chunk_normals(start // _CHUNK, block, row, width, key_0, key_1, words, normals)
                destination = out[block, row, start:start + width]
                for k in range(width):
                    destination[k] = normals[k]


def _as_float(value):  # pragma: no cover - replaced by the overload in compiled code
    raise NotImplementedError("_as_float is a numba overload")


@overload(_as_float, inline="always")
def _as_float_overload(value):
    if isinstance(value, types.Integer):
        # bfloat16 bit patterns (uint16): the high half of a float32.
        return lambda value: _bits_float32(np.int32(np.uint32(value) << np.uint32(16)))
    return lambda value: value


def _readout_kernel(currents, variance, key_0, key_1, full_scale, step, inverse_unit, out):
    n_blocks, n_rows, n_columns = currents.shape
    variance_rows = variance.shape[1]
    rounding = step > 0
    inverse_step = 1.0 / step if rounding else 1.0
    for row in numba.prange(n_rows):
        words = np.empty((4, _GROUPS), dtype=np.uint32)
        normals = np.empty(4 * _GROUPS, dtype=np.float32)
        total = np.empty(_CHUNK, dtype=out.dtype)
        for start in range(0, n_columns, _CHUNK):
            width = min(_CHUNK, n_columns - start)
            total[:width] = 0
            for block in range(n_blocks):
                _chunk_normals(start // _CHUNK, block, row, width, key_0, key_1, words, normals)
                mean = currents[block, row, start:start + width]
                spread = variance[block, row % variance_rows, start:start + width]
                # Zero-based loops over slices vectorise; the ADC branch is loop-invariant (unswitched).
                for k in range(width):
                    current = mean[k] + math.sqrt(_as_float(spread[k])) * normals[k]
                    current = min(max(current, -full_scale), full_scale)
                    if rounding:
                        current = np.rint(current * inverse_step) * step
                    total[k] += current
            destination = out[row, start:start + width]
            for k in range(width):
                destination[k] = total[k] * inverse_unit


# error_model="numpy": no zero-division checks, whose branches would stop LLVM from vectorising the loops.
_NORMALS = _compile(_normals_kernel, error_model="numpy")
_READOUT = _compile(_readout_kernel, error_model="numpy")


def _check_seed(seed) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= int(seed) < 2 ** 64:
        raise ValueError(f"seed: expected an integer in [0, 2^64), got {seed!r}")
    return int(seed)


def column_normals(seed: int, n_blocks: int, n_rows: int, n_columns: int) -> torch.Tensor:
    """The standard normals z_brc that :func:`noisy_column_readout` uses for ``seed`` (inspection, tests).

    Returns:
        (n_blocks, n_rows, n_columns) float64.
    """
    seed = _check_seed(seed)
    out = np.empty((n_blocks, n_rows, n_columns), dtype=np.float64)
    _run(_NORMALS, out.size, n_blocks, n_rows, n_columns, *_key(seed), out)
    return torch.from_numpy(out)


def noisy_column_readout(currents: torch.Tensor, variance: torch.Tensor, *, seed: int, full_scale: float | None,
                         step: float | None, unit: float) -> torch.Tensor:
    """Add read noise, convert each row block on its ADC and sum the blocks (CPU).

    Args:
        currents: (n_blocks, n_rows, n_columns) mean column currents, float32 or float64.
        variance: (n_blocks, variance_rows, n_columns) their read-noise variances, float32, float64 or
            bfloat16; row r uses variance row ``r % variance_rows`` (MC samples of one input batch share it).
        seed: noise stream seed.
        full_scale: ADC clipping level (same unit as ``currents``), None for none.
        step: ADC step, None for an ideal (unrounded) conversion; needs ``full_scale``.
        unit: the result is divided by it (the current of one fully switched cell).

    Returns:
        (n_rows, n_columns) tensor of ``currents``' dtype.
    """
    if currents.device.type != "cpu" or variance.device.type != "cpu":
        raise ValueError("noisy_column_readout runs on CPU tensors; other devices use the torch readout of "
                         "cim_emu.tile")
    if currents.dtype not in (torch.float32, torch.float64):
        raise ValueError(f"currents: expected float32 or float64, got {currents.dtype}")
    if (currents.dim() != 3 or variance.dim() != 3 or variance.shape[0] != currents.shape[0]
            or variance.shape[2] != currents.shape[2] or currents.shape[1] % max(variance.shape[1], 1)):
        raise ValueError(f"variance: expected (n_blocks, rows dividing {currents.shape[1]}, n_columns) matching "
                         f"currents {tuple(currents.shape)}, got {tuple(variance.shape)}")
    if step is not None and full_scale is None:
        raise ValueError("step: an ADC step needs a full scale")
    seed = _check_seed(seed)
    currents_np = currents.detach().contiguous().numpy()
    if variance.dtype == torch.bfloat16:
        variance_np = variance.detach().contiguous().view(torch.int16).numpy().view(np.uint16)
    else:
        variance_np = variance.detach().to(currents.dtype).contiguous().numpy()
    out = np.empty(currents.shape[1:], dtype=currents_np.dtype)
    # An element (Philox words, Box-Muller, ADC) costs about what 8 masked-MVM cell-samples do.
    _run(_READOUT, 8 * currents.numel(), currents_np, variance_np,
         *_key(seed), math.inf if full_scale is None else float(full_scale), 0.0 if step is None else float(step),
         1.0 / float(unit), out)
    return torch.from_numpy(out)
