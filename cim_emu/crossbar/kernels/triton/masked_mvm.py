"""MC-dropconnect MVM in Triton: masks made in registers from the CPU kernels' Philox stream, never stored.

The same mathematics and the same mask stream as :mod:`cim_emu.crossbar.kernels.masked_mvm`:

    u_rji = Philox4x32-10(counter = (i >> 2, j, r mod 2^32, r >> 32), key = (seed mod 2^32, seed >> 32))[i mod 4]
    m_rji = 1  if  u_rji < t_ji  (unsigned 32-bit comparison),
    y_rbj = sum_{i in block b} m_rji W_ji x_(r mod batch) i,

so a seed gives bit-identical masks on the CPU (numba) and here. A program owns a (rows x outputs) tile and
walks the inputs in steps of 4 BLOCK_G (one Philox call gives the words of inputs 4g .. 4g + 3); the products
are summed in registers per row block and only the partial sums reach memory. The backward pass makes the same
words again: the input gradient sums over outputs, the weight gradient over rows, each program owning its
outputs and summing in a fixed order (no atomics), so gradients are deterministic too.

Sums run in float32 for float32 (and narrower) inputs and in float64 for float64 ones; their order differs
from the CPU kernel's, so outputs agree to floating-point rounding, masks exactly.
"""

from __future__ import annotations

import math

import torch
import triton
import triton.language as tl

from cim_emu.crossbar.kernels.triton.philox import check_device, philox4x32

__all__ = ["keep_masks_triton", "masked_mvm_triton"]

# Tile sizes: rows x outputs x groups of four inputs per step, chosen from the register use of the sm_80 and
# sm_90 builds (ptxas, four warps; tests/.../compile_for_gpu.py): 8 x 16 x 8 in the forward, mask and
# input-gradient kernels, 16 x 16 x 4 in the weight-gradient one, at most 248 registers and no spill in float64.
# Untuned for speed (no GPU was lent).
_BLOCK_ROWS = 8
_BLOCK_OUTPUTS = 16
_BLOCK_GROUPS = 8
_WEIGHT_TILE = {"BLOCK_R": 16, "BLOCK_J": 16, "BLOCK_G": 4}


@triton.jit
def _words(rows, outputs, groups, key_0, key_1):
    """Philox words of the (rows, outputs, groups) counters, each (R, J, G) uint32."""
    # Broadcast shapes, not full tiles: the first rounds' products of a group or a row are made once, not per cell.
    # Rows are below 2^31 (checked on the host), so the counter's high row word is 0.
    return philox4x32(groups.to(tl.uint32)[None, None, :], outputs.to(tl.uint32)[None, :, None],
                      rows.to(tl.uint32)[:, None, None], 0, key_0.to(tl.uint32), key_1.to(tl.uint32))


@triton.jit
def _forward_part(acc, word, inputs_ptr, weights_ptr, thresholds_ptr, input_rows, row_ok, outputs, output_ok,
                  columns, column_ok, n_inputs):
    """acc (R, J, G) += m W x of the G inputs ``columns``, one of the four words of each group."""
    cell = outputs[:, None] * n_inputs + columns[None, :]
    cell_ok = output_ok[:, None] & column_ok[None, :]
    # Threshold 0 for cells outside the tile: u < 0 never holds, so they add nothing.
    threshold = tl.load(thresholds_ptr + cell, mask=cell_ok, other=0).to(tl.uint32, bitcast=True)
    weight = tl.load(weights_ptr + cell, mask=cell_ok, other=0.0).to(acc.dtype)
    x = tl.load(inputs_ptr + input_rows[:, None] * n_inputs + columns[None, :],
                mask=row_ok[:, None] & column_ok[None, :], other=0.0).to(acc.dtype)
    kept = word < threshold[None, :, :]
    return acc + tl.where(kept, weight[None, :, :], 0.0) * x[:, None, :]


@triton.jit(do_not_specialize=["key_0", "key_1"])
def _forward_kernel(inputs_ptr, weights_ptr, thresholds_ptr, out_ptr, batch, n_rows, n_outputs, n_inputs, n_blocks,
                    block_rows, key_0, key_1, ACC_DTYPE: tl.constexpr, BLOCK_R: tl.constexpr,
                    BLOCK_J: tl.constexpr, BLOCK_G: tl.constexpr):
    rows = tl.program_id(0) * BLOCK_R + tl.arange(0, BLOCK_R)
    outputs = tl.program_id(1) * BLOCK_J + tl.arange(0, BLOCK_J)
    row_ok = rows < n_rows
    output_ok = outputs < n_outputs
    input_rows = rows % batch
    for block in range(n_blocks):
        start = block * block_rows
        stop = tl.minimum(start + block_rows, n_inputs)
        # Per-cell accumulators, summed over the inputs once per block: no cross-thread reduction in the loop.
        acc = tl.zeros([BLOCK_R, BLOCK_J, BLOCK_G], dtype=ACC_DTYPE)
        # Groups overlapping [start, stop); inputs of a neighbouring block are masked out below.
        for first_group in range(start // 4, (stop + 3) // 4, BLOCK_G):
            groups = first_group + tl.arange(0, BLOCK_G)
            w0, w1, w2, w3 = _words(rows, outputs, groups, key_0, key_1)
            base = 4 * groups
            acc = _forward_part(acc, w0, inputs_ptr, weights_ptr, thresholds_ptr, input_rows, row_ok, outputs,
                                output_ok, base, (base >= start) & (base < stop), n_inputs)
            acc = _forward_part(acc, w1, inputs_ptr, weights_ptr, thresholds_ptr, input_rows, row_ok, outputs,
                                output_ok, base + 1, (base + 1 >= start) & (base + 1 < stop), n_inputs)
            acc = _forward_part(acc, w2, inputs_ptr, weights_ptr, thresholds_ptr, input_rows, row_ok, outputs,
                                output_ok, base + 2, (base + 2 >= start) & (base + 2 < stop), n_inputs)
            acc = _forward_part(acc, w3, inputs_ptr, weights_ptr, thresholds_ptr, input_rows, row_ok, outputs,
                                output_ok, base + 3, (base + 3 >= start) & (base + 3 < stop), n_inputs)
        destination = out_ptr + rows[:, None] * (n_blocks * n_outputs) + block * n_outputs + outputs[None, :]
        tl.store(destination, tl.sum(acc, axis=2), mask=row_ok[:, None] & output_ok[None, :])


@triton.jit
def _grad_input_part(acc, word, grad_ptr, weights_ptr, thresholds_ptr, rows, row_ok, outputs, output_ok, columns,
                     n_inputs, n_outputs, n_blocks, block_rows):
    """acc (R, J, G) += m W dy for the inputs ``columns`` (summed over the outputs J at the end)."""
    column_ok = columns < n_inputs
    cell = outputs[:, None] * n_inputs + columns[None, :]
    cell_ok = output_ok[:, None] & column_ok[None, :]
    threshold = tl.load(thresholds_ptr + cell, mask=cell_ok, other=0).to(tl.uint32, bitcast=True)
    weight = tl.load(weights_ptr + cell, mask=cell_ok, other=0.0).to(acc.dtype)
    # dy of the row block each input belongs to: grad_out[r, i // block_rows, j].
    blocks = columns // block_rows
    gradient = tl.load(grad_ptr + rows[:, None, None] * (n_blocks * n_outputs) + blocks[None, None, :] * n_outputs
                       + outputs[None, :, None],
                       mask=row_ok[:, None, None] & cell_ok[None, :, :], other=0.0).to(acc.dtype)
    kept = word < threshold[None, :, :]
    return acc + tl.where(kept, weight[None, :, :], 0.0) * gradient


@triton.jit(do_not_specialize=["key_0", "key_1"])
def _grad_input_kernel(grad_ptr, weights_ptr, thresholds_ptr, out_ptr, n_rows, n_outputs, n_inputs, n_blocks,
                       block_rows, key_0, key_1, ACC_DTYPE: tl.constexpr, BLOCK_R: tl.constexpr,
                       BLOCK_J: tl.constexpr, BLOCK_G: tl.constexpr):
    rows = tl.program_id(0) * BLOCK_R + tl.arange(0, BLOCK_R)
    groups = tl.program_id(1) * BLOCK_G + tl.arange(0, BLOCK_G)
    row_ok = rows < n_rows
    base = 4 * groups
    acc_0 = tl.zeros([BLOCK_R, BLOCK_J, BLOCK_G], dtype=ACC_DTYPE)
    acc_1 = tl.zeros([BLOCK_R, BLOCK_J, BLOCK_G], dtype=ACC_DTYPE)
    acc_2 = tl.zeros([BLOCK_R, BLOCK_J, BLOCK_G], dtype=ACC_DTYPE)
    acc_3 = tl.zeros([BLOCK_R, BLOCK_J, BLOCK_G], dtype=ACC_DTYPE)
    for first_output in range(0, n_outputs, BLOCK_J):
        outputs = first_output + tl.arange(0, BLOCK_J)
        output_ok = outputs < n_outputs
        w0, w1, w2, w3 = _words(rows, outputs, groups, key_0, key_1)
        acc_0 = _grad_input_part(acc_0, w0, grad_ptr, weights_ptr, thresholds_ptr, rows, row_ok, outputs, output_ok,
                                 base, n_inputs, n_outputs, n_blocks, block_rows)
        acc_1 = _grad_input_part(acc_1, w1, grad_ptr, weights_ptr, thresholds_ptr, rows, row_ok, outputs, output_ok,
                                 base + 1, n_inputs, n_outputs, n_blocks, block_rows)
        acc_2 = _grad_input_part(acc_2, w2, grad_ptr, weights_ptr, thresholds_ptr, rows, row_ok, outputs, output_ok,
                                 base + 2, n_inputs, n_outputs, n_blocks, block_rows)
        acc_3 = _grad_input_part(acc_3, w3, grad_ptr, weights_ptr, thresholds_ptr, rows, row_ok, outputs, output_ok,
                                 base + 3, n_inputs, n_outputs, n_blocks, block_rows)
    row_offsets = rows[:, None] * n_inputs + base[None, :]
    tl.store(out_ptr + row_offsets, tl.sum(acc_0, axis=1), mask=row_ok[:, None] & (base < n_inputs)[None, :])
    tl.store(out_ptr + row_offsets + 1, tl.sum(acc_1, axis=1), mask=row_ok[:, None] & (base + 1 < n_inputs)[None, :])
    tl.store(out_ptr + row_offsets + 2, tl.sum(acc_2, axis=1), mask=row_ok[:, None] & (base + 2 < n_inputs)[None, :])
    tl.store(out_ptr + row_offsets + 3, tl.sum(acc_3, axis=1), mask=row_ok[:, None] & (base + 3 < n_inputs)[None, :])


@triton.jit
def _grad_weight_part(acc, word, grad_ptr, inputs_ptr, thresholds_ptr, rows, input_rows, row_ok, outputs, output_ok,
                      columns, n_inputs, n_outputs, n_blocks, block_rows):
    """acc (R, J, G) += m x dy for the cells (outputs, ``columns``) (summed over the rows R at the end)."""
    column_ok = columns < n_inputs
    cell_ok = output_ok[:, None] & column_ok[None, :]
    threshold = tl.load(thresholds_ptr + outputs[:, None] * n_inputs + columns[None, :], mask=cell_ok,
                        other=0).to(tl.uint32, bitcast=True)
    x = tl.load(inputs_ptr + input_rows[:, None] * n_inputs + columns[None, :],
                mask=row_ok[:, None] & column_ok[None, :], other=0.0).to(acc.dtype)
    blocks = columns // block_rows
    gradient = tl.load(grad_ptr + rows[:, None, None] * (n_blocks * n_outputs) + blocks[None, None, :] * n_outputs
                       + outputs[None, :, None],
                       mask=row_ok[:, None, None] & cell_ok[None, :, :], other=0.0).to(acc.dtype)
    kept = word < threshold[None, :, :]
    return acc + tl.where(kept, x[:, None, :], 0.0) * gradient


@triton.jit(do_not_specialize=["key_0", "key_1"])
def _grad_weight_kernel(grad_ptr, inputs_ptr, thresholds_ptr, out_ptr, batch, n_rows, n_outputs, n_inputs, n_blocks,
                        block_rows, key_0, key_1, ACC_DTYPE: tl.constexpr, BLOCK_R: tl.constexpr,
                        BLOCK_J: tl.constexpr, BLOCK_G: tl.constexpr):
    outputs = tl.program_id(0) * BLOCK_J + tl.arange(0, BLOCK_J)
    groups = tl.program_id(1) * BLOCK_G + tl.arange(0, BLOCK_G)
    output_ok = outputs < n_outputs
    base = 4 * groups
    acc_0 = tl.zeros([BLOCK_R, BLOCK_J, BLOCK_G], dtype=ACC_DTYPE)
    acc_1 = tl.zeros([BLOCK_R, BLOCK_J, BLOCK_G], dtype=ACC_DTYPE)
    acc_2 = tl.zeros([BLOCK_R, BLOCK_J, BLOCK_G], dtype=ACC_DTYPE)
    acc_3 = tl.zeros([BLOCK_R, BLOCK_J, BLOCK_G], dtype=ACC_DTYPE)
    # One program sums all rows of its cells in a fixed order: deterministic, no atomics.
    for first_row in range(0, n_rows, BLOCK_R):
        rows = first_row + tl.arange(0, BLOCK_R)
        row_ok = rows < n_rows
        input_rows = rows % batch
        w0, w1, w2, w3 = _words(rows, outputs, groups, key_0, key_1)
        acc_0 = _grad_weight_part(acc_0, w0, grad_ptr, inputs_ptr, thresholds_ptr, rows, input_rows, row_ok, outputs,
                                  output_ok, base, n_inputs, n_outputs, n_blocks, block_rows)
        acc_1 = _grad_weight_part(acc_1, w1, grad_ptr, inputs_ptr, thresholds_ptr, rows, input_rows, row_ok, outputs,
                                  output_ok, base + 1, n_inputs, n_outputs, n_blocks, block_rows)
        acc_2 = _grad_weight_part(acc_2, w2, grad_ptr, inputs_ptr, thresholds_ptr, rows, input_rows, row_ok, outputs,
                                  output_ok, base + 2, n_inputs, n_outputs, n_blocks, block_rows)
        acc_3 = _grad_weight_part(acc_3, w3, grad_ptr, inputs_ptr, thresholds_ptr, rows, input_rows, row_ok, outputs,
                                  output_ok, base + 3, n_inputs, n_outputs, n_blocks, block_rows)
    cells = outputs[:, None] * n_inputs + base[None, :]
    tl.store(out_ptr + cells, tl.sum(acc_0, axis=0), mask=output_ok[:, None] & (base < n_inputs)[None, :])
    tl.store(out_ptr + cells + 1, tl.sum(acc_1, axis=0), mask=output_ok[:, None] & (base + 1 < n_inputs)[None, :])
    tl.store(out_ptr + cells + 2, tl.sum(acc_2, axis=0), mask=output_ok[:, None] & (base + 2 < n_inputs)[None, :])
    tl.store(out_ptr + cells + 3, tl.sum(acc_3, axis=0), mask=output_ok[:, None] & (base + 3 < n_inputs)[None, :])


@triton.jit(do_not_specialize=["key_0", "key_1"])
def _mask_kernel(thresholds_ptr, out_ptr, n_rows, n_outputs, n_inputs, key_0, key_1, BLOCK_R: tl.constexpr,
                 BLOCK_J: tl.constexpr, BLOCK_G: tl.constexpr):
    rows = tl.program_id(0) * BLOCK_R + tl.arange(0, BLOCK_R)
    outputs = tl.program_id(1) * BLOCK_J + tl.arange(0, BLOCK_J)
    groups = tl.program_id(2) * BLOCK_G + tl.arange(0, BLOCK_G)
    words = _words(rows, outputs, groups, key_0, key_1)
    row_ok = rows < n_rows
    output_ok = outputs < n_outputs
    for q in tl.static_range(4):
        columns = 4 * groups + q
        cell_ok = output_ok[:, None] & (columns < n_inputs)[None, :]
        threshold = tl.load(thresholds_ptr + outputs[:, None] * n_inputs + columns[None, :], mask=cell_ok,
                            other=0).to(tl.uint32, bitcast=True)
        kept = words[q] < threshold[None, :, :]
        destination = (out_ptr + rows[:, None, None] * (n_outputs * n_inputs) + outputs[None, :, None] * n_inputs
                       + columns[None, None, :])
        tl.store(destination, kept.to(tl.int8), mask=row_ok[:, None, None] & cell_ok[None, :, :])


def _key(seed: int) -> tuple[int, int]:
    return seed & 0xFFFFFFFF, (seed >> 32) & 0xFFFFFFFF


def _accumulator(dtype: torch.dtype):
    return tl.float64 if dtype == torch.float64 else tl.float32


def _compute_dtype(dtype: torch.dtype) -> torch.dtype:
    return torch.float64 if dtype == torch.float64 else torch.float32


def keep_masks_triton(thresholds: torch.Tensor, seed: int, n_rows: int) -> torch.Tensor:
    """The masks (n_rows, m, n) bool of the Philox stream, made by the Triton kernel (tests, inspection).

    Args:
        thresholds: (m, n) int32 thresholds (``keep_thresholds``).
        seed: mask stream seed, an integer in [0, 2^64).
        n_rows: rows (input rows x samples, sample-major) to make.
    """
    _check(thresholds=thresholds, seed=seed)
    check_device(thresholds.device, "keep_masks_triton")
    thresholds = thresholds.contiguous()
    n_outputs, n_inputs = thresholds.shape
    _check_size("keep_masks_triton: masks", (n_rows, n_outputs, n_inputs))
    out = torch.empty((n_rows, n_outputs, n_inputs), dtype=torch.int8, device=thresholds.device)
    grid = (triton.cdiv(n_rows, _BLOCK_ROWS), triton.cdiv(n_outputs, _BLOCK_OUTPUTS),
            triton.cdiv(triton.cdiv(n_inputs, 4), _BLOCK_GROUPS))
    if out.numel():
        _mask_kernel[grid](thresholds, out, n_rows, n_outputs, n_inputs, *_key(seed), BLOCK_R=_BLOCK_ROWS,
                           BLOCK_J=_BLOCK_OUTPUTS, BLOCK_G=_BLOCK_GROUPS)
    return out.bool()


_INDEX_LIMIT = 2 ** 31   # the kernels index with 32-bit integers


def _check_size(what: str, shape: tuple) -> None:
    if math.prod(shape) >= _INDEX_LIMIT or (shape and shape[0] >= _INDEX_LIMIT):
        raise ValueError(f"{what}: {' x '.join(str(size) for size in shape)} elements exceed the Triton kernels' "
                         "32-bit indexing (2^31); split the batch or the samples into smaller calls")


def _check(*, thresholds: torch.Tensor, seed) -> None:
    if thresholds.dim() != 2 or thresholds.dtype != torch.int32:
        raise ValueError("thresholds: expected (m, n) int32 thresholds (use keep_thresholds)")
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2 ** 64:
        raise ValueError(f"seed: expected an integer in [0, 2^64) (e.g. from draw_seed), got {seed!r}")


class _TritonMaskedMVM(torch.autograd.Function):
    @staticmethod
    def forward(ctx, inputs, weights, thresholds, seed, n_samples, block_rows):
        batch, n_inputs = inputs.shape
        n_outputs = weights.shape[0]
        n_rows = batch * n_samples
        n_blocks = math.ceil(n_inputs / block_rows)
        dtype = _compute_dtype(inputs.dtype)
        x = inputs.detach().to(dtype).contiguous()
        w = weights.detach().to(dtype).contiguous()
        thresholds = thresholds.contiguous()
        out = torch.zeros((n_rows, n_blocks, n_outputs), dtype=dtype, device=inputs.device)
        if out.numel() and n_inputs:
            grid = (triton.cdiv(n_rows, _BLOCK_ROWS), triton.cdiv(n_outputs, _BLOCK_OUTPUTS))
            _forward_kernel[grid](x, w, thresholds, out, batch, n_rows, n_outputs, n_inputs, n_blocks, block_rows,
                                  *_key(seed), ACC_DTYPE=_accumulator(dtype), BLOCK_R=_BLOCK_ROWS,
                                  BLOCK_J=_BLOCK_OUTPUTS, BLOCK_G=_BLOCK_GROUPS)
        ctx.save_for_backward(x, w, thresholds)
        ctx.settings = (seed, n_samples, block_rows, inputs.dtype, weights.dtype)
        return out.to(inputs.dtype)

    @staticmethod
    def backward(ctx, grad_out):
        x, w, thresholds = ctx.saved_tensors
        seed, n_samples, block_rows, input_dtype, weight_dtype = ctx.settings
        batch, n_inputs = x.shape
        n_outputs = w.shape[0]
        n_rows = batch * n_samples
        n_blocks = grad_out.shape[1]
        grad = grad_out.detach().to(x.dtype).contiguous()
        accumulator = _accumulator(x.dtype)
        grad_inputs = grad_weights = None
        n_groups = triton.cdiv(n_inputs, 4)
        if ctx.needs_input_grad[0]:
            grad_rows = torch.zeros((n_rows, n_inputs), dtype=x.dtype, device=x.device)
            if grad_rows.numel() and n_outputs:
                _grad_input_kernel[(triton.cdiv(n_rows, _BLOCK_ROWS), triton.cdiv(n_groups, _BLOCK_GROUPS))](
                    grad, w, thresholds, grad_rows, n_rows, n_outputs, n_inputs, n_blocks, block_rows, *_key(seed),
                    ACC_DTYPE=accumulator, BLOCK_R=_BLOCK_ROWS, BLOCK_J=_BLOCK_OUTPUTS, BLOCK_G=_BLOCK_GROUPS)
            grad_inputs = grad_rows.reshape(n_samples, batch, n_inputs).sum(dim=0).to(input_dtype)
        if ctx.needs_input_grad[1]:
            grad_weights = torch.zeros((n_outputs, n_inputs), dtype=x.dtype, device=x.device)
            if grad_weights.numel() and n_rows:
                grid = (triton.cdiv(n_outputs, _WEIGHT_TILE["BLOCK_J"]), triton.cdiv(n_groups, _WEIGHT_TILE["BLOCK_G"]))
                _grad_weight_kernel[grid](grad, x, thresholds, grad_weights, batch, n_rows, n_outputs, n_inputs,
                                          n_blocks, block_rows, *_key(seed), ACC_DTYPE=accumulator, **_WEIGHT_TILE)
            grad_weights = grad_weights.to(weight_dtype)
        return grad_inputs, grad_weights, None, None, None, None


def masked_mvm_triton(inputs: torch.Tensor, weights: torch.Tensor, thresholds: torch.Tensor, *, seed: int,
                      n_samples: int = 1, block_rows: int | None = None) -> torch.Tensor:
    """Masked MVM with a fresh mask per row, sample, output and input (Triton; CUDA, or the interpreter).

    Same contract as :func:`cim_emu.crossbar.kernels.masked_mvm.masked_mvm` and the same mask stream as its
    ``NUMBA`` and ``TORCH_PHILOX`` backends; differentiable (the backward pass replays the masks).

    Args:
        inputs: (batch, n) inputs, floating point.
        weights: (m, n) weights (values of the kept cells).
        thresholds: (m, n) int32 thresholds from ``keep_thresholds``.
        seed: mask stream seed in [0, 2^64).
        n_samples: mask samples per input row; output rows are sample-major (r = t batch + b).
        block_rows: inputs per partial sum (a physical array's rows); None = one block.

    Returns:
        (n_samples * batch, n_blocks, m) partial sums, in the inputs' dtype.
    """
    if inputs.dim() != 2 or weights.dim() != 2 or weights.shape[1] != inputs.shape[1]:
        raise ValueError(f"masked_mvm_triton: inputs (batch, n) and weights (m, n) must agree in n; got "
                         f"{tuple(inputs.shape)} and {tuple(weights.shape)}")
    _check(thresholds=thresholds, seed=seed)
    if thresholds.shape != weights.shape:
        raise ValueError("thresholds: expected int32 thresholds shaped like the weights (use keep_thresholds)")
    if not inputs.is_floating_point():
        raise ValueError(f"inputs: expected a floating-point tensor, got {inputs.dtype}")
    if isinstance(n_samples, bool) or not isinstance(n_samples, int) or n_samples < 1:
        raise ValueError(f"n_samples: must be an integer >= 1, got {n_samples!r}")
    if len({inputs.device, weights.device, thresholds.device}) != 1:
        raise ValueError(f"masked_mvm_triton: inputs, weights and thresholds must share a device, got "
                         f"{inputs.device}, {weights.device} and {thresholds.device}")
    check_device(inputs.device, "masked_mvm_triton")
    block_rows = inputs.shape[1] if block_rows is None else int(block_rows)
    block_rows = max(1, min(block_rows, max(1, inputs.shape[1])))
    n_rows, (n_outputs, n_inputs) = n_samples * inputs.shape[0], weights.shape
    # The largest arrays a call indexes: partial sums (forward), row gradients (backward), inputs and weights.
    for what, shape in (("partial sums", (n_rows, math.ceil(n_inputs / block_rows), n_outputs)),
                        ("input-gradient rows", (n_rows, n_inputs)), ("weights", (n_outputs, n_inputs))):
        _check_size(f"masked_mvm_triton: {what}", shape)
    return _TritonMaskedMVM.apply(inputs, weights, thresholds, seed, n_samples, block_rows)
