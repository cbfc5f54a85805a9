"""Fused column readout on the CPU: read noise, ADC and the digital sum of the row blocks in one pass.

A tile's column current per row block is Gaussian around its mean, with the variance of the cells' read
noise (:mod:`cim_emu.crossbar.tiles.base`). This kernel takes both, draws the noise, clips and rounds to the ADC
grid and adds the row blocks, per output element:

    out_rc = sum_b Q(clip(I_brc + sqrt(Var_brc) z_brc, +-full_scale)) / unit,   Q(I) = rint(I / step) step

so the standard normals ``z`` never reach memory. They come from a counter-based stream, defined once:
columns are taken in chunks of 256; in a chunk of n columns, G = ceil(n / 4) Philox4x32-10 calls

    (w0, w1, w2, w3) = Philox4x32-10(counter = (64 k + g, b, r mod 2^32, r >> 32), key = (seed mod 2^32, seed >> 32))

(k the chunk, g < G) give four normals by Box-Muller on (w0, w1) and (w2, w3), written to the chunk's
columns g, G + g, 2G + g, 3G + g. Philox and Box-Muller are the macrospin solver's vectorised numba
versions (:mod:`devices.macrospin.kernel_numba`: polynomial log, sine and cosine, so LLVM vectorises
the loops; |z| <= 5.89, a 4e-9 tail is cut); :func:`column_normals_torch` is the same stream in torch.
The same seed gives the same noise on any thread count (the stream is indexed, not sequential).
"""

from __future__ import annotations

import math

import numba
import numpy as np
import torch
from numba import types
from numba.extending import intrinsic, overload

from cim_emu.crossbar.kernels.masked_mvm import _compile, _key, _run
from devices.rng.philox import box_muller_torch, philox4x32_torch
from devices.rng.philox_numba import box_muller_numba, philox4x32_numba

__all__ = ["column_normals", "column_normals_torch", "noisy_column_readout"]

_CHUNK = 256                      # columns per chunk of the stream (64 Philox calls)
_GROUPS = _CHUNK // 4
_U = np.uint64


@intrinsic
def _bits_float32(typingctx, bits):
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], context.get_value_type(types.float32))
    return types.float32(types.int32), codegen


def _as_float(value):  # pragma: no cover - replaced by the overload in compiled code
    raise NotImplementedError("_as_float is a numba overload")


@overload(_as_float, inline="always")
def _as_float_overload(value):
    if isinstance(value, types.Integer):
        # bfloat16 bit patterns (uint16): the high half of a float32.
        return lambda value: _bits_float32(np.int32(np.uint32(value) << np.uint32(16)))
    return lambda value: value


@numba.njit(inline="always", fastmath=True, error_model="numpy", cache=True)
def _chunk_normals(chunk, block, row, n_columns, key_0, key_1, words, normals):
    """The stream's normals of one (block, row, chunk) into normals[:n_columns] (float64)."""
    n_groups = (n_columns + 3) // 4
    row_low = _U(row & 0xFFFFFFFF)
    row_high = _U(row >> 32)
    # The macrospin Philox works on uint64 words holding 32-bit values (the key arrives as two uint32).
    key_0, key_1 = _U(key_0), _U(key_1)
    for g in range(n_groups):
        w0, w1, w2, w3 = philox4x32_numba(_U(_GROUPS * chunk + g), _U(block), row_low, row_high, key_0, key_1)
        words[0, g] = w0
        words[1, g] = w1
        words[2, g] = w2
        words[3, g] = w3
    for g in range(n_groups):
        z0, z1, z2, z3 = box_muller_numba(words[0, g], words[1, g], words[2, g], words[3, g])
        normals[g] = z0
        normals[n_groups + g] = z1
        normals[2 * n_groups + g] = z2
        normals[3 * n_groups + g] = z3


def _normals_kernel(n_blocks, n_rows, n_columns, key_0, key_1, out):
    for row in numba.prange(n_rows):
        words = np.empty((4, _GROUPS), dtype=np.uint64)
        normals = np.empty(4 * _GROUPS, dtype=np.float64)
        for block in range(n_blocks):
            for start in range(0, n_columns, _CHUNK):
                width = min(_CHUNK, n_columns - start)
                _chunk_normals(start // _CHUNK, block, row, width, key_0, key_1, words, normals)
                destination = out[block, row, start:start + width]
                for k in range(width):
                    destination[k] = normals[k]


def _readout_kernel(currents, variance, key_0, key_1, full_scale, step, inverse_unit, out):
    n_blocks, n_rows = currents.shape[:2]
    n_columns = out.shape[1]
    variance_rows = variance.shape[1]
    rounding = step > 0
    inverse_step = 1.0 / step if rounding else 1.0
    for row in numba.prange(n_rows):
        words = np.empty((4, _GROUPS), dtype=np.uint64)
        normals = np.empty(4 * _GROUPS, dtype=np.float64)
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


def column_normals_torch(seed: int, n_blocks: int, n_rows: int, n_columns: int, *,
                         device: torch.device | str = "cpu") -> torch.Tensor:
    """:func:`column_normals` in torch ops on any device (the reference; equal to ~1e-13, the polynomial
    log and sine of the numba twin)."""
    seed = _check_seed(seed)
    out = torch.empty((n_blocks, n_rows, n_columns), dtype=torch.float64, device=device)
    block = torch.arange(n_blocks, device=device, dtype=torch.int64)[:, None, None]
    row = torch.arange(n_rows, device=device, dtype=torch.int64)[None, :, None]
    key = seed & 0xFFFFFFFFFFFFFFFF
    for start in range(0, n_columns, _CHUNK):
        width = min(_CHUNK, n_columns - start)
        n_groups = (width + 3) // 4
        group = torch.arange(n_groups, device=device, dtype=torch.int64)[None, None, :] + _GROUPS * (start // _CHUNK)
        words = philox4x32_torch((group, block, row & 0xFFFFFFFF, row >> 32), key)
        shape = (n_blocks, n_rows, n_groups)
        words = [word.expand(shape) for word in words]
        pairs = (*box_muller_torch(words[0], words[1], torch.float64), *box_muller_torch(words[2], words[3],
                                                                                         torch.float64))
        out[..., start:start + width] = torch.cat(pairs, dim=-1)[..., :width]
    return out


def noisy_column_readout(currents: torch.Tensor, variance: torch.Tensor, *, seed: int, full_scale: float | None,
                         step: float | None, unit: float) -> torch.Tensor:
    """Add read noise, convert each row block on its ADC and sum the blocks (CPU).

    Args:
        currents: (n_blocks, n_rows, n_columns) mean column currents, float32 or float64.
        variance: (n_blocks, variance_rows, n_columns) their read-noise variances, float32, float64 or
            bfloat16; row r uses variance row ``r % variance_rows`` (MC samples of one input batch share it).
        seed: noise stream seed.
        full_scale: ADC clipping level (same unit as the currents), None for none.
        step: ADC step, None for an ideal (unrounded) conversion; needs ``full_scale``.
        unit: the result is divided by it (the current of one fully switched cell).

    Returns:
        (n_rows, n_columns) tensor of the currents' dtype.
    """
    if currents.device.type != "cpu" or variance.device.type != "cpu":
        raise ValueError("noisy_column_readout runs on CPU tensors; other devices use "
                         "cim_emu.crossbar.kernels.backend.torch_column_readout")
    if currents.dtype not in (torch.float32, torch.float64):
        raise ValueError(f"currents: expected float32 or float64 amperes, got {currents.dtype}")
    dtype, n_columns = currents.dtype, currents.shape[-1]
    if (currents.dim() != 3 or variance.dim() != 3 or variance.shape[0] != currents.shape[0]
            or variance.shape[2] != n_columns or currents.shape[1] % max(variance.shape[1], 1)):
        raise ValueError(f"variance: expected (n_blocks, rows dividing {currents.shape[1]}, {n_columns}) matching "
                         f"currents {tuple(currents.shape)}, got {tuple(variance.shape)}")
    if step is not None and full_scale is None:
        raise ValueError("step: an ADC step needs a full scale")
    seed = _check_seed(seed)
    currents_np = currents.detach().contiguous().numpy()
    if variance.dtype == torch.bfloat16:
        variance_np = variance.detach().contiguous().view(torch.int16).numpy().view(np.uint16)
    else:
        variance_np = variance.detach().to(dtype).contiguous().numpy()
    out = np.empty((currents.shape[1], n_columns), dtype=np.float32 if dtype == torch.float32 else np.float64)
    # An element (Philox words, Box-Muller, ADC) costs about what 8 masked-MVM cell-samples do.
    clip = math.inf if full_scale is None else float(full_scale)
    _run(_READOUT, 8 * currents.shape[0] * currents.shape[1] * n_columns, currents_np, variance_np, *_key(seed), clip,
         0.0 if step is None else float(step), 1.0 / float(unit), out)
    return torch.from_numpy(out)
