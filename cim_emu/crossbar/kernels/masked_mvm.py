"""Exact per-cell MC-dropconnect matrix-vector products: y_rbj = sum_{i in block b} m_rji W_ji x_ri.

Every (row r, output j, input i) gets its own Bernoulli mask bit m_rji with probability P_ji, fresh for
every input row and every sample, as the in-situ p-bits of a probabilistic differential pair give. The
mask stream is defined once, by a counter-based generator (Philox4x32-10, see ``philox.py``):

    u_rji = Philox4x32-10(counter = (i >> 2, j, r mod 2^32, r >> 32), key = (seed mod 2^32, seed >> 32))[i mod 4]
    m_rji = 1  if  u_rji < t_ji,   t_ji = min(round(P_ji 2^32), 2^32 - 1)

so the keep probability is t_ji / 2^32: exact to 2^-33 (P = 1 gives 1 - 2^-32). ``seed`` is drawn from the
caller's ``torch.Generator`` at every call, so masks are fresh per call and bit-reproducible per seed.

Backends (same mathematics, see :class:`MaskBackend`): a fused numba CPU kernel (the random words are
made in registers and consumed at once: no mask ever reaches memory), the same stream in torch integer
ops for any device (slow; the reference the numba kernel is tested against bit for bit), and a torch
path drawing from the device's native generator (fast random bits on CUDA; masks made chunk by chunk).
Gradients (hardware-aware training) regenerate the same masks in the backward pass.
"""

from __future__ import annotations

import enum
import math

import numba
import numpy as np
import torch

from cim_emu.crossbar.kernels.philox import philox4x32_numba, philox4x32_torch
from devices._numba_threads import run_numba_kernel
from devices.rng import draw_seed  # the one Philox key draw (devices.rng.draw_key), under this module's old name

__all__ = ["MaskBackend", "default_backend", "keep_thresholds", "threshold_probabilities", "masked_mvm",
           "keep_masks", "draw_seed"]

_TWO_32 = 2 ** 32
_PARALLEL_WORK = 1 << 22    # cell-samples below which a kernel runs on the calling thread only
_GRAD_CHUNKS = 16          # fixed row chunks of the weight-gradient kernel (thread-count independent)
_CHUNK_ELEMENTS = 1 << 24   # cells per mask chunk in the torch backends (bounded memory, fixed replay order)


class MaskBackend(enum.Enum):
    """Implementation of the masked MVM.

    ``NUMBA``: fused CPU kernel over the Philox stream, threads over rows (the CPU default).
    ``TORCH_PHILOX``: the identical Philox stream in torch integer ops, any device (reference; slow).
    ``TORCH``: masks from the device's native torch generator (``torch.rand``), chunk by chunk (the CUDA
    default without triton); reproducible per seed on one device, but a different stream from the Philox backends.
    ``TRITON``: fused Triton kernel over the Philox stream (the CUDA default with triton installed;
    :mod:`cim_emu.crossbar.kernels.triton`).
    """

    NUMBA = "numba"
    TORCH_PHILOX = "torch-philox"
    TORCH = "torch"
    TRITON = "triton"


def default_backend(device: torch.device) -> MaskBackend:
    """NUMBA on CPU; TRITON on CUDA with triton installed (else TORCH, after a one-time warning); TORCH elsewhere."""
    if torch.device(device).type == "cpu":
        return MaskBackend.NUMBA
    from cim_emu.crossbar.kernels.triton import use_triton

    return MaskBackend.TRITON if use_triton(device) else MaskBackend.TORCH


def keep_thresholds(keep_probabilities: torch.Tensor) -> torch.Tensor:
    """32-bit comparison thresholds round(P 2^32) (capped at 2^32 - 1), as int32 bit patterns.

    Raises:
        ValueError: probabilities outside [0, 1] or not finite, naming the first bad cell.
    """
    probabilities = keep_probabilities.detach().to(torch.float64)
    bad = ~((probabilities >= 0) & (probabilities <= 1))
    if bool(bad.any()):
        index = tuple(int(i) for i in torch.nonzero(bad)[0])
        raise ValueError(f"keep_probabilities: entry {index} is {float(probabilities[index])}; probabilities must "
                         "lie in [0, 1] (check the write pulse and the p-bit card)")
    thresholds = torch.round(probabilities * _TWO_32).clamp(max=_TWO_32 - 1).to(torch.int64)
    # int32 holds the unsigned 32-bit pattern (values >= 2^31 wrap negative); numpy views it as uint32.
    return torch.where(thresholds >= 2 ** 31, thresholds - _TWO_32, thresholds).to(torch.int32)


def threshold_probabilities(thresholds: torch.Tensor) -> torch.Tensor:
    """The exact keep probabilities t / 2^32 (float64) that the thresholds realise."""
    return (thresholds.to(torch.int64) & 0xFFFFFFFF).to(torch.float64) / _TWO_32


# ----------------------------------------------------------------------------------------------- numba kernels
@numba.njit(inline="always", cache=True)
def _draw_row(uniforms, n_groups, output, row_low, row_high, key_0, key_1):
    # Four 32-bit words per Philox call fill four consecutive inputs.
    for group in range(n_groups):
        u0, u1, u2, u3 = philox4x32_numba(np.uint32(group), np.uint32(output), row_low, row_high, key_0, key_1)
        uniforms[4 * group] = u0
        uniforms[4 * group + 1] = u1
        uniforms[4 * group + 2] = u2
        uniforms[4 * group + 3] = u3


def _forward_kernel(inputs, weights, thresholds, n_samples, key_0, key_1, row_offset, block_rows, out):
    batch, n_inputs = inputs.shape
    n_outputs = weights.shape[0]
    n_blocks = out.shape[1]
    n_groups = (n_inputs + 3) // 4
    zero = inputs.dtype.type(0)
    for row in numba.prange(batch * n_samples):
        x = inputs[row % batch]
        global_row = row_offset + row
        row_low = np.uint32(global_row & 0xFFFFFFFF)
        row_high = np.uint32(global_row >> 32)
        uniforms = np.empty(4 * n_groups, dtype=np.uint32)
        for output in range(n_outputs):
            _draw_row(uniforms, n_groups, output, row_low, row_high, key_0, key_1)
            for block in range(n_blocks):
                start = block * block_rows
                stop = min(start + block_rows, n_inputs)
                # Zero-based loops over slices vectorise (LLVM); a loop starting at `start` does not.
                weight = weights[output, start:stop]
                threshold = thresholds[output, start:stop]
                block_inputs = x[start:stop]
                block_uniforms = uniforms[start:stop]
                total = zero
                for k in range(stop - start):
                    total += weight[k] * block_inputs[k] if block_uniforms[k] < threshold[k] else zero
                out[row, block, output] = total


def _grad_input_kernel(grad_out, weights, thresholds, key_0, key_1, row_offset, block_rows, grad_rows):
    n_rows, n_blocks, _ = grad_out.shape
    n_outputs, n_inputs = weights.shape
    n_groups = (n_inputs + 3) // 4
    zero = weights.dtype.type(0)
    for row in numba.prange(n_rows):
        global_row = row_offset + row
        row_low = np.uint32(global_row & 0xFFFFFFFF)
        row_high = np.uint32(global_row >> 32)
        uniforms = np.empty(4 * n_groups, dtype=np.uint32)
        for output in range(n_outputs):
            _draw_row(uniforms, n_groups, output, row_low, row_high, key_0, key_1)
            for block in range(n_blocks):
                start = block * block_rows
                stop = min(start + block_rows, n_inputs)
                gradient = grad_out[row, block, output]
                weight = weights[output, start:stop]
                threshold = thresholds[output, start:stop]
                block_uniforms = uniforms[start:stop]
                accumulator = grad_rows[row, start:stop]
                for k in range(stop - start):
                    accumulator[k] += gradient * weight[k] if block_uniforms[k] < threshold[k] else zero


def _grad_weight_kernel(grad_out, inputs, thresholds, key_0, key_1, row_offset, block_rows, partial_grads):
    # Rows are split into a fixed number of chunks, each with its own accumulator: the sum order (and so
    # the result) does not depend on the thread count, and a layer with one output still uses every core.
    n_rows, n_blocks, _ = grad_out.shape
    batch, n_inputs = inputs.shape
    n_outputs = thresholds.shape[0]
    n_chunks = partial_grads.shape[0]
    n_groups = (n_inputs + 3) // 4
    zero = inputs.dtype.type(0)
    rows_per_chunk = (n_rows + n_chunks - 1) // n_chunks
    for chunk in numba.prange(n_chunks):
        uniforms = np.empty(4 * n_groups, dtype=np.uint32)
        for row in range(chunk * rows_per_chunk, min((chunk + 1) * rows_per_chunk, n_rows)):
            global_row = row_offset + row
            row_low = np.uint32(global_row & 0xFFFFFFFF)
            row_high = np.uint32(global_row >> 32)
            x = inputs[row % batch]
            for output in range(n_outputs):
                _draw_row(uniforms, n_groups, output, row_low, row_high, key_0, key_1)
                for block in range(n_blocks):
                    start = block * block_rows
                    stop = min(start + block_rows, n_inputs)
                    gradient = grad_out[row, block, output]
                    threshold = thresholds[output, start:stop]
                    block_inputs = x[start:stop]
                    block_uniforms = uniforms[start:stop]
                    accumulator = partial_grads[chunk, output, start:stop]
                    for k in range(stop - start):
                        accumulator[k] += gradient * block_inputs[k] if block_uniforms[k] < threshold[k] else zero


def _mask_kernel(n_rows, thresholds, key_0, key_1, row_offset, out):
    n_outputs, n_inputs = thresholds.shape
    n_groups = (n_inputs + 3) // 4
    for row in numba.prange(n_rows):
        global_row = row_offset + row
        uniforms = np.empty(4 * n_groups, dtype=np.uint32)
        for output in range(n_outputs):
            _draw_row(uniforms, n_groups, output, np.uint32(global_row & 0xFFFFFFFF), np.uint32(global_row >> 32),
                      key_0, key_1)
            for i in range(n_inputs):
                out[row, output, i] = uniforms[i] < thresholds[output, i]



def _compile(function, *, fastmath: bool = True, error_model: str = "python"):
    """The one compiled (parallel) variant of a row kernel; :func:`_run` sets its thread count per call.

    One variant, not a serial and a parallel one: the two are compiled apart, and LLVM may vectorise a row's
    sums differently in each (fastmath lets it reassociate), so results would depend on the thread count.
    (numba's disk cache also ignores compile flags: a second variant of one function loads the first's.)
    """
    return numba.njit(parallel=True, fastmath=fastmath, error_model=error_model, cache=True)(function)


_FORWARD = _compile(_forward_kernel)
_GRAD_INPUT = _compile(_grad_input_kernel)
_GRAD_WEIGHT = _compile(_grad_weight_kernel)
_MASK = _compile(_mask_kernel, fastmath=False)


def _run(kernel, work: int, *args) -> None:
    # Small jobs, or a caller limited to one thread (torch.set_num_threads(1)), run on the calling thread;
    # big ones use up to torch's thread count. Each row is computed by the same code whatever the thread
    # count, so the results are identical.
    run_numba_kernel(kernel, *args, parallel=work >= _PARALLEL_WORK)


def _key(seed: int) -> tuple[np.uint32, np.uint32]:
    return np.uint32(seed & 0xFFFFFFFF), np.uint32((seed >> 32) & 0xFFFFFFFF)


def _numpy(tensor: torch.Tensor, dtype) -> np.ndarray:
    return np.ascontiguousarray(tensor.detach().to(dtype).numpy())


# ----------------------------------------------------------------------------------------------- torch masks
def _chunk_rows(n_outputs: int, n_inputs: int) -> int:
    return max(1, _CHUNK_ELEMENTS // max(1, n_outputs * n_inputs))


def _philox_masks(thresholds: torch.Tensor, seed: int, row_start: int, n_rows: int) -> torch.Tensor:
    n_outputs, n_inputs = thresholds.shape
    device = thresholds.device
    n_groups = (n_inputs + 3) // 4
    rows = torch.arange(row_start, row_start + n_rows, device=device, dtype=torch.int64)
    shape = (n_rows, n_outputs, n_groups)
    counter = (torch.arange(n_groups, device=device, dtype=torch.int64).expand(shape),
               torch.arange(n_outputs, device=device, dtype=torch.int64)[:, None].expand(shape),
               (rows & 0xFFFFFFFF)[:, None, None].expand(shape),
               (rows >> 32)[:, None, None].expand(shape))
    words = torch.stack(philox4x32_torch(counter, (seed & 0xFFFFFFFF, (seed >> 32) & 0xFFFFFFFF)), dim=-1)
    uniforms = words.reshape(n_rows, n_outputs, 4 * n_groups)[..., :n_inputs]
    return uniforms < (thresholds.to(torch.int64) & 0xFFFFFFFF)


def _native_mask_chunks(thresholds: torch.Tensor, seed: int, n_rows: int):
    n_outputs, n_inputs = thresholds.shape
    device = thresholds.device
    generator = torch.Generator(device=device).manual_seed(seed)
    probabilities = threshold_probabilities(thresholds).to(torch.float32)
    chunk = _chunk_rows(n_outputs, n_inputs)
    for start in range(0, n_rows, chunk):
        stop = min(start + chunk, n_rows)
        uniforms = torch.rand((stop - start, n_outputs, n_inputs), generator=generator, device=device)
        yield start, uniforms < probabilities


def _mask_chunks(backend: MaskBackend, thresholds: torch.Tensor, seed: int, n_rows: int):
    if backend is MaskBackend.TORCH:
        yield from _native_mask_chunks(thresholds, seed, n_rows)
        return
    chunk = _chunk_rows(*thresholds.shape)
    for start in range(0, n_rows, chunk):
        stop = min(start + chunk, n_rows)
        if backend is MaskBackend.TORCH_PHILOX:
            yield start, _philox_masks(thresholds, seed, start, stop - start)
        else:
            out = np.empty((stop - start, *thresholds.shape), dtype=np.bool_)
            _run(_MASK, out.size, stop - start, _numpy(thresholds, torch.int32).view(np.uint32), *_key(seed), start,
                 out)
            yield start, torch.from_numpy(out)


def keep_masks(thresholds: torch.Tensor, seed: int, n_rows: int, *,
               backend: MaskBackend = MaskBackend.NUMBA) -> torch.Tensor:
    """The masks (n_rows, m, n) bool that :func:`masked_mvm` uses for a seed (for tests and inspection)."""
    backend = MaskBackend(backend)
    if backend is MaskBackend.NUMBA and thresholds.device.type != "cpu":
        raise ValueError("backend: NUMBA runs on CPU tensors; use MaskBackend.TORCH_PHILOX for the same stream "
                         "on another device")
    if backend is MaskBackend.TRITON:
        from cim_emu.crossbar.kernels.triton import keep_masks_triton

        return keep_masks_triton(thresholds, int(seed), n_rows)
    return torch.cat([mask for _, mask in _mask_chunks(backend, thresholds, seed, n_rows)])


def _block_index(n_inputs: int, block_rows: int, device) -> torch.Tensor:
    return torch.arange(n_inputs, device=device) // block_rows


def _torch_forward(inputs, weights, thresholds, seed, n_samples, block_rows, n_blocks, backend):
    batch, n_inputs = inputs.shape
    n_rows = batch * n_samples
    out = inputs.new_zeros((n_rows, n_blocks, weights.shape[0]))
    for start, mask in _mask_chunks(backend, thresholds, seed, n_rows):
        rows = torch.arange(start, start + mask.shape[0], device=inputs.device) % batch
        contributions = mask.to(inputs.dtype) * weights * inputs[rows][:, None, :]
        for block in range(n_blocks):
            columns = slice(block * block_rows, min((block + 1) * block_rows, n_inputs))
            out[start:start + mask.shape[0], block] = contributions[:, :, columns].sum(dim=-1)
    return out


def _torch_backward(grad_out, inputs, weights, thresholds, seed, n_samples, block_rows, backend):
    batch, n_inputs = inputs.shape
    n_rows = batch * n_samples
    block_index = _block_index(n_inputs, block_rows, inputs.device)
    grad_rows = inputs.new_zeros((n_rows, n_inputs))
    grad_weight = torch.zeros_like(weights)
    for start, mask in _mask_chunks(backend, thresholds, seed, n_rows):
        stop = start + mask.shape[0]
        rows = torch.arange(start, stop, device=inputs.device) % batch
        # grad per (row, output, input): the gradient of the block that input i belongs to.
        spread = grad_out[start:stop][:, block_index, :].transpose(1, 2) * mask.to(inputs.dtype)
        grad_rows[start:stop] = (spread * weights).sum(dim=1)
        grad_weight += torch.einsum("rmi,ri->mi", spread, inputs[rows])
    return grad_rows, grad_weight


def _kernel_dtype(dtype: torch.dtype) -> torch.dtype:
    # The numba kernels are compiled for float32 and float64; other inputs compute in float32.
    return torch.float64 if dtype == torch.float64 else torch.float32


class _MaskedMVM(torch.autograd.Function):
    @staticmethod
    def forward(ctx, inputs, weights, thresholds, seed, n_samples, block_rows, backend):
        batch, n_inputs = inputs.shape
        n_outputs = weights.shape[0]
        n_blocks = math.ceil(n_inputs / block_rows)
        weights = weights.to(inputs.dtype)
        if backend is MaskBackend.NUMBA:
            dtype = _kernel_dtype(inputs.dtype)
            out = np.empty((batch * n_samples, n_blocks, n_outputs), dtype=_numpy(inputs[:0], dtype).dtype)
            _run(_FORWARD, batch * n_samples * n_outputs * n_inputs, _numpy(inputs, dtype), _numpy(weights, dtype),
                 _numpy(thresholds, torch.int32).view(np.uint32), n_samples, *_key(seed), 0, block_rows, out)
            result = torch.from_numpy(out).to(inputs.dtype)
        else:
            result = _torch_forward(inputs, weights, thresholds, seed, n_samples, block_rows, n_blocks, backend)
        ctx.save_for_backward(inputs, weights, thresholds)
        ctx.settings = (seed, n_samples, block_rows, backend)
        return result

    @staticmethod
    def backward(ctx, grad_out):
        inputs, weights, thresholds = ctx.saved_tensors
        seed, n_samples, block_rows, backend = ctx.settings
        batch, n_inputs = inputs.shape
        n_outputs = weights.shape[0]
        grad_out = grad_out.contiguous()
        if backend is MaskBackend.NUMBA:
            dtype = _kernel_dtype(inputs.dtype)
            grad_np = _numpy(grad_out, dtype)
            uint_thresholds = _numpy(thresholds, torch.int32).view(np.uint32)
            work = grad_np.shape[0] * n_outputs * n_inputs
            grad_rows = np.zeros((grad_np.shape[0], n_inputs), dtype=grad_np.dtype)
            partial_grads = np.zeros((_GRAD_CHUNKS, n_outputs, n_inputs), dtype=grad_np.dtype)
            if ctx.needs_input_grad[0]:
                _run(_GRAD_INPUT, work, grad_np, _numpy(weights, dtype), uint_thresholds, *_key(seed), 0, block_rows,
                     grad_rows)
            if ctx.needs_input_grad[1]:
                _run(_GRAD_WEIGHT, work, grad_np, _numpy(inputs, dtype), uint_thresholds, *_key(seed), 0, block_rows,
                     partial_grads)
            grad_rows = torch.from_numpy(grad_rows).to(inputs.dtype)
            grad_weight = torch.from_numpy(partial_grads.sum(axis=0)).to(weights.dtype)
        else:
            grad_rows, grad_weight = _torch_backward(grad_out, inputs, weights, thresholds, seed, n_samples,
                                                     block_rows, backend)
        grad_inputs = grad_rows.reshape(n_samples, batch, n_inputs).sum(dim=0) if ctx.needs_input_grad[0] else None
        return grad_inputs, (grad_weight if ctx.needs_input_grad[1] else None), None, None, None, None, None


def masked_mvm(inputs: torch.Tensor, weights: torch.Tensor, thresholds: torch.Tensor, *, seed: int,
               n_samples: int = 1, block_rows: int | None = None, backend: MaskBackend | None = None) -> torch.Tensor:
    """Masked MVM with an independent mask per row, sample, output and input; differentiable.

    Args:
        inputs: (batch, n) inputs (float32 or float64).
        weights: (m, n) weights (values of the kept cells).
        thresholds: (m, n) int32 thresholds from :func:`keep_thresholds`.
        seed: mask stream seed (see :func:`draw_seed`).
        n_samples: independent mask samples per input row; output rows are sample-major (r = t batch + b).
        block_rows: inputs per partial sum (a physical array's rows); None = one block.
        backend: see :class:`MaskBackend`; None = :func:`default_backend` of the inputs' device.

    Returns:
        (n_samples * batch, n_blocks, m) partial sums; sum over dim 1 for the full product.
    """
    if inputs.dim() != 2 or weights.dim() != 2 or weights.shape[1] != inputs.shape[1]:
        raise ValueError(f"masked_mvm: inputs (batch, n) and weights (m, n) must agree in n; got "
                         f"{tuple(inputs.shape)} and {tuple(weights.shape)}")
    if thresholds.shape != weights.shape or thresholds.dtype != torch.int32:
        raise ValueError("thresholds: expected int32 thresholds shaped like the weights (use keep_thresholds)")
    if isinstance(n_samples, bool) or not isinstance(n_samples, int) or n_samples < 1:
        raise ValueError(f"n_samples: must be an integer >= 1, got {n_samples!r}")
    backend = default_backend(inputs.device) if backend is None else MaskBackend(backend)
    if backend is MaskBackend.NUMBA and inputs.device.type != "cpu":
        raise ValueError("backend: NUMBA runs on CPU tensors; use MaskBackend.TORCH or TORCH_PHILOX on "
                         f"{inputs.device}")
    block_rows = inputs.shape[1] if block_rows is None else int(block_rows)
    block_rows = max(1, min(block_rows, max(1, inputs.shape[1])))
    if backend is MaskBackend.TRITON:
        from cim_emu.crossbar.kernels.triton import masked_mvm_triton

        return masked_mvm_triton(inputs, weights, thresholds, seed=int(seed), n_samples=n_samples,
                                 block_rows=block_rows)
    return _MaskedMVM.apply(inputs, weights, thresholds, int(seed), n_samples, block_rows, backend)
