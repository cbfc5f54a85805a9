"""Fused column readout in Triton: read noise, ADC and the row-block sum in one pass over the currents.

The same mathematics and the same normal stream as the CPU kernel
(:mod:`cim_emu.crossbar.kernels.column_noise`):

    out_rc = sum_b Q(clip(I_brc + sqrt(Var_b(r mod V)c) z_brc, +-full_scale)) / unit,   Q(I) = rint(I / step) step

with the normals ``z`` made in registers: columns in chunks of 256; in a chunk of n columns G = ceil(n / 4)
Philox4x32-10 calls (counter = (64 k + g, b, r mod 2^32, r >> 32), key = (seed mod 2^32, seed >> 32)) give
four normals by Box-Muller on (w0, w1) and (w2, w3), for the chunk's columns g, G + g, 2G + g, 3G + g.
A program owns a (rows x chunk) tile: it makes each (block, row, group) word once and writes four columns.

Box-Muller runs in float64 (libm-accurate log, sqrt, cos and sin; the CPU kernel's polynomial versions agree
with them to 1e-13), so the normals match the CPU's to that accuracy; rint is round-half-to-even, built from
``floor`` (exact in float64), as ``np.rint`` and ``torch.round``.
"""

from __future__ import annotations

import math

import torch
import triton
import triton.language as tl

from cim_emu.crossbar.kernels.triton.philox import check_device, philox4x32

__all__ = ["column_normals_triton", "noisy_column_readout_triton"]

_CHUNK = 256              # columns per chunk of the stream (the CPU kernel's)
_GROUPS = _CHUNK // 4     # Philox calls per full chunk
_BLOCK_ROWS = 4           # rows per program: 128 registers on sm_90 (8 rows need 250)


@triton.jit
def _box_muller(radius_word, angle_word):
    """(R cos theta, R sin theta) in float64, as ``devices.rng.philox.box_muller_torch``."""
    uniform = (((radius_word >> 8) << 1) | 1).to(tl.float64) * 2.9802322387695312e-08   # 2^-25
    radius = tl.sqrt(-2.0 * tl.log(uniform))
    quadrant = (angle_word >> 30).to(tl.float64)
    fraction = (angle_word & 0x3FFFFFFF).to(tl.float64) * 9.313225746154785e-10          # 2^-30
    angle = (quadrant + fraction - 0.5) * 1.5707963267948966                               # pi / 2
    return radius * tl.cos(angle), radius * tl.sin(angle)


@triton.jit
def _chunk_normals(rows, chunk, block, key_0, key_1, BLOCK_R: tl.constexpr):
    """The four (R, 64) float64 normal sets of one (block, rows, chunk): columns g, G + g, 2G + g, 3G + g."""
    groups = chunk * 64 + tl.arange(0, 64)
    zero = tl.zeros([BLOCK_R, 64], dtype=tl.uint32)
    w0, w1, w2, w3 = philox4x32(groups.to(tl.uint32)[None, :] + zero, zero + block,
                                (rows & 0xFFFFFFFF).to(tl.uint32)[:, None] + zero,
                                (rows >> 32).to(tl.uint32)[:, None] + zero, key_0.to(tl.uint32), key_1.to(tl.uint32))
    z0, z1 = _box_muller(w0, w1)
    z2, z3 = _box_muller(w2, w3)
    return z0, z1, z2, z3


@triton.jit
def _lane_masks(lanes, n_groups, width):
    """Which of a chunk's four columns q G + g (q = 0..3) of lane g exist: g < G and q G + g < width."""
    in_groups = lanes < n_groups
    return (in_groups & (lanes < width), in_groups & (n_groups + lanes < width),
            in_groups & (2 * n_groups + lanes < width), in_groups & (3 * n_groups + lanes < width))


@triton.jit
def _rint(value):
    """Round half to even (float64, exact for |value| < 2^52)."""
    low = tl.floor(value)
    fraction = value - low
    odd = (low - 2.0 * tl.floor(0.5 * low)) == 1.0
    up = (fraction > 0.5) | ((fraction == 0.5) & odd)
    return tl.where(up, low + 1.0, low)


@triton.jit
def _convert(total, normal, currents_ptr, variance_ptr, rows, variance_rows, row_ok, columns, column_ok, block,
             n_rows, n_columns, n_variance_rows, full_scale, step, ROUND: tl.constexpr):
    """total (R, 64) += ADC(I + sqrt(Var) z) of one block for the columns ``columns`` (float64)."""
    ok = row_ok[:, None] & column_ok[None, :]
    mean = tl.load(currents_ptr + (block * n_rows + rows[:, None]) * n_columns + columns[None, :], mask=ok,
                   other=0.0).to(tl.float64)
    variance = tl.load(variance_ptr + (block * n_variance_rows + variance_rows[:, None]) * n_columns
                       + columns[None, :], mask=ok, other=0.0).to(tl.float64)
    current = mean + tl.sqrt(variance) * normal
    current = tl.minimum(tl.maximum(current, -full_scale), full_scale)
    if ROUND:
        current = _rint(current / step) * step
    return total + current


@triton.jit(do_not_specialize=["key_0", "key_1"])
def _readout_kernel(currents_ptr, variance_ptr, out_ptr, n_blocks, n_rows, n_columns, n_variance_rows, key_0, key_1,
                    full_scale, step, inverse_unit, ROUND: tl.constexpr, BLOCK_R: tl.constexpr):
    rows = tl.program_id(0).to(tl.int64) * BLOCK_R + tl.arange(0, BLOCK_R)
    chunk = tl.program_id(1)
    row_ok = rows < n_rows
    variance_rows = rows % n_variance_rows
    width = tl.minimum(n_columns - chunk * 256, 256)
    n_groups = (width + 3) // 4
    lanes = tl.arange(0, 64)
    first = chunk * 256 + lanes
    ok_0, ok_1, ok_2, ok_3 = _lane_masks(lanes, n_groups, width)
    total_0 = tl.zeros([BLOCK_R, 64], dtype=tl.float64)
    total_1 = tl.zeros([BLOCK_R, 64], dtype=tl.float64)
    total_2 = tl.zeros([BLOCK_R, 64], dtype=tl.float64)
    total_3 = tl.zeros([BLOCK_R, 64], dtype=tl.float64)
    for block in range(n_blocks):
        z0, z1, z2, z3 = _chunk_normals(rows, chunk, block, key_0, key_1, BLOCK_R)
        total_0 = _convert(total_0, z0, currents_ptr, variance_ptr, rows, variance_rows, row_ok, first, ok_0, block,
                           n_rows, n_columns, n_variance_rows, full_scale, step, ROUND)
        total_1 = _convert(total_1, z1, currents_ptr, variance_ptr, rows, variance_rows, row_ok, first + n_groups,
                           ok_1, block, n_rows, n_columns, n_variance_rows, full_scale, step, ROUND)
        total_2 = _convert(total_2, z2, currents_ptr, variance_ptr, rows, variance_rows, row_ok,
                           first + 2 * n_groups, ok_2, block, n_rows, n_columns, n_variance_rows, full_scale, step,
                           ROUND)
        total_3 = _convert(total_3, z3, currents_ptr, variance_ptr, rows, variance_rows, row_ok,
                           first + 3 * n_groups, ok_3, block, n_rows, n_columns, n_variance_rows, full_scale, step,
                           ROUND)
    destination = out_ptr + rows[:, None] * n_columns + first[None, :]
    tl.store(destination, total_0 * inverse_unit, mask=row_ok[:, None] & ok_0[None, :])
    tl.store(destination + n_groups, total_1 * inverse_unit, mask=row_ok[:, None] & ok_1[None, :])
    tl.store(destination + 2 * n_groups, total_2 * inverse_unit, mask=row_ok[:, None] & ok_2[None, :])
    tl.store(destination + 3 * n_groups, total_3 * inverse_unit, mask=row_ok[:, None] & ok_3[None, :])


@triton.jit(do_not_specialize=["key_0", "key_1"])
def _normals_kernel(out_ptr, n_rows, n_columns, key_0, key_1, BLOCK_R: tl.constexpr):
    rows = tl.program_id(0).to(tl.int64) * BLOCK_R + tl.arange(0, BLOCK_R)
    chunk = tl.program_id(1)
    block = tl.program_id(2)
    row_ok = rows < n_rows
    width = tl.minimum(n_columns - chunk * 256, 256)
    n_groups = (width + 3) // 4
    lanes = tl.arange(0, 64)
    destination = out_ptr + (block * n_rows + rows[:, None]) * n_columns + chunk * 256 + lanes[None, :]
    z0, z1, z2, z3 = _chunk_normals(rows, chunk, block, key_0, key_1, BLOCK_R)
    ok_0, ok_1, ok_2, ok_3 = _lane_masks(lanes, n_groups, width)
    tl.store(destination, z0, mask=row_ok[:, None] & ok_0[None, :])
    tl.store(destination + n_groups, z1, mask=row_ok[:, None] & ok_1[None, :])
    tl.store(destination + 2 * n_groups, z2, mask=row_ok[:, None] & ok_2[None, :])
    tl.store(destination + 3 * n_groups, z3, mask=row_ok[:, None] & ok_3[None, :])


def _check_seed(seed) -> int:
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2 ** 64:
        raise ValueError(f"seed: expected an integer in [0, 2^64), got {seed!r}")
    return seed


def column_normals_triton(seed: int, n_blocks: int, n_rows: int, n_columns: int, *,
                          device: torch.device | str = "cuda") -> torch.Tensor:
    """The standard normals z_brc of the readout stream for ``seed``, made by the Triton kernel.

    Returns:
        (n_blocks, n_rows, n_columns) float64, equal (to ~1e-13) to ``column_normals`` of the CPU kernel.
    """
    seed = _check_seed(seed)
    check_device(device, "column_normals_triton")
    out = torch.empty((n_blocks, n_rows, n_columns), dtype=torch.float64, device=device)
    if out.numel():
        grid = (triton.cdiv(n_rows, _BLOCK_ROWS), triton.cdiv(n_columns, _CHUNK), n_blocks)
        _normals_kernel[grid](out, n_rows, n_columns, seed & 0xFFFFFFFF, seed >> 32, BLOCK_R=_BLOCK_ROWS)
    return out


def noisy_column_readout_triton(currents: torch.Tensor, variance: torch.Tensor, *, seed: int,
                                full_scale: float | None, step: float | None, unit: float) -> torch.Tensor:
    """Add read noise, convert each row block on its ADC and sum the blocks (Triton; CUDA, or the interpreter).

    Same contract and noise stream as ``noisy_column_readout`` of the CPU kernel (float currents only: the
    integer Kirchhoff products are a CPU path).

    Args:
        currents: (n_blocks, n_rows, n_columns) mean column currents (A), float32 or float64.
        variance: (n_blocks, variance_rows, n_columns) their read-noise variances (A^2), float32, float64 or
            bfloat16; row r uses variance row ``r % variance_rows``.
        seed: noise stream seed in [0, 2^64).
        full_scale: ADC clipping level (A), None for none.
        step: ADC step (A), None for an unrounded conversion; needs ``full_scale``.
        unit: the result is divided by it (A, the current of one fully switched cell).

    Returns:
        (n_rows, n_columns) in the currents' dtype, in cell units.
    """
    if currents.dtype not in (torch.float32, torch.float64):
        raise ValueError(f"currents: expected float32 or float64, got {currents.dtype}")
    if variance.dtype not in (torch.float32, torch.float64, torch.bfloat16):
        raise ValueError(f"variance: expected float32, float64 or bfloat16, got {variance.dtype}")
    if currents.device != variance.device:
        raise ValueError(f"currents and variance must share a device, got {currents.device} and {variance.device}")
    check_device(currents.device, "noisy_column_readout_triton")
    if (currents.dim() != 3 or variance.dim() != 3 or variance.shape[0] != currents.shape[0]
            or variance.shape[2] != currents.shape[2] or variance.shape[1] < 1
            or currents.shape[1] % variance.shape[1]):
        raise ValueError(f"variance: expected (n_blocks, rows dividing {currents.shape[1]}, {currents.shape[2]}) "
                         f"matching currents {tuple(currents.shape)}, got {tuple(variance.shape)}")
    if step is not None and full_scale is None:
        raise ValueError("step: an ADC step needs a full scale")
    for name, value in (("full_scale", full_scale), ("step", step), ("unit", unit)):
        if value is not None and not (math.isfinite(value) and value > 0):
            raise ValueError(f"{name}: expected a finite positive number, got {value!r}")
    seed = _check_seed(seed)
    n_blocks, n_rows, n_columns = currents.shape
    out = torch.empty((n_rows, n_columns), dtype=currents.dtype, device=currents.device)
    if out.numel():
        grid = (triton.cdiv(n_rows, _BLOCK_ROWS), triton.cdiv(n_columns, _CHUNK))
        _readout_kernel[grid](currents.contiguous(), variance.contiguous(), out, n_blocks, n_rows, n_columns,
                              variance.shape[1], seed & 0xFFFFFFFF, seed >> 32,
                              math.inf if full_scale is None else float(full_scale),
                              1.0 if step is None else float(step), 1.0 / float(unit), ROUND=step is not None,
                              BLOCK_R=_BLOCK_ROWS)
    return out
