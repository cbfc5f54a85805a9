"""The Triton MC-dropconnect MVM against the CPU (numba) kernel: the same masks bit for bit, the same sums
and gradients to floating-point rounding."""

from __future__ import annotations

import pytest
import torch

pytest.importorskip("triton")

from cim_emu.crossbar.kernels.masked_mvm import MaskBackend, keep_masks, keep_thresholds, masked_mvm  # noqa: E402
from cim_emu.crossbar.kernels.triton import keep_masks_triton, masked_mvm_triton  # noqa: E402

pytestmark = pytest.mark.triton

# Seeds past 2^32 exercise the high key word; shapes that are no multiple of the tiles (16 x 16 x 4 * 8).
SEEDS = [0, 0xDEADBEEF, 2**40 + 12345, 2**64 - 1]


def _problem(n_outputs, n_inputs, batch, dtype, seed=3):
    generator = torch.Generator().manual_seed(seed)
    probabilities = torch.rand((n_outputs, n_inputs), generator=generator, dtype=torch.float64)
    # Cells at P = 0 and P = 1 as well: thresholds 0 and 2^32 - 1 (the unsigned comparison's edges).
    probabilities[0, :3] = torch.tensor([0.0, 1.0, 0.5], dtype=torch.float64)
    inputs = torch.randn((batch, n_inputs), generator=generator, dtype=dtype)
    weights = torch.randn((n_outputs, n_inputs), generator=generator, dtype=dtype)
    return inputs, weights, keep_thresholds(probabilities)


@pytest.mark.parametrize("seed", SEEDS)
def test_masks_are_bit_identical_to_the_cpu_kernel(seed, device):
    _, _, thresholds = _problem(19, 37, 1, torch.float32)
    expected = keep_masks(thresholds, seed, 21, backend=MaskBackend.NUMBA)
    got = keep_masks_triton(thresholds.to(device), seed, 21)
    assert torch.equal(got.cpu(), expected)


@pytest.mark.parametrize(("dtype", "tolerance"), [(torch.float32, 2e-5), (torch.float64, 1e-12)])
@pytest.mark.parametrize("block_rows", [None, 7])
def test_forward_matches_the_cpu_kernel(dtype, tolerance, block_rows, device):
    inputs, weights, thresholds = _problem(18, 37, 3, dtype)
    seed = 2**40 + 12345
    expected = masked_mvm(inputs, weights, thresholds, seed=seed, n_samples=2, block_rows=block_rows,
                          backend=MaskBackend.NUMBA)
    got = masked_mvm_triton(inputs.to(device), weights.to(device), thresholds.to(device), seed=seed, n_samples=2,
                            block_rows=block_rows)
    assert got.shape == expected.shape and got.dtype == dtype
    # Sums of up to 37 terms of size ~1: the two summation orders differ by a few ulps of the sum.
    assert torch.allclose(got.cpu(), expected, rtol=0, atol=tolerance * inputs.shape[1] ** 0.5)


def test_backward_replays_the_masks_like_the_cpu_kernel(device):
    inputs, weights, thresholds = _problem(17, 21, 3, torch.float64)
    seed = 0xDEADBEEF
    leaves_cpu = [inputs.clone().requires_grad_(), weights.clone().requires_grad_()]
    leaves_device = [inputs.to(device).requires_grad_(), weights.to(device).requires_grad_()]
    expected = masked_mvm(*leaves_cpu, thresholds, seed=seed, n_samples=2, block_rows=7, backend=MaskBackend.NUMBA)
    got = masked_mvm_triton(*leaves_device, thresholds.to(device), seed=seed, n_samples=2, block_rows=7)
    upstream = torch.randn(expected.shape, generator=torch.Generator().manual_seed(9), dtype=torch.float64)
    expected.backward(upstream)
    got.backward(upstream.to(device))
    for cpu_leaf, device_leaf in zip(leaves_cpu, leaves_device, strict=True):
        assert torch.allclose(device_leaf.grad.cpu(), cpu_leaf.grad, rtol=0, atol=1e-11)


def test_gradient_is_that_of_the_masked_product(device):
    # Independent of the CPU kernel: with the masks made explicit, y = sum_i m W x per block, and autograd of
    # that dense expression is the gradient the kernel must give.
    inputs, weights, thresholds = _problem(5, 11, 2, torch.float64)
    seed = 77
    masks = keep_masks_triton(thresholds.to(device), seed, 2).to(torch.float64)
    x = inputs.to(device).requires_grad_()
    w = weights.to(device).requires_grad_()
    x_dense = inputs.to(device).requires_grad_()
    w_dense = weights.to(device).requires_grad_()
    got = masked_mvm_triton(x, w, thresholds.to(device), seed=seed, block_rows=4)
    products = masks * w_dense[None] * x_dense[:, None, :]
    dense = torch.stack([products[..., start:start + 4].sum(-1) for start in range(0, 11, 4)], dim=1)
    assert torch.allclose(got, dense, rtol=0, atol=1e-12)
    upstream = torch.randn(got.shape, generator=torch.Generator().manual_seed(4), dtype=torch.float64).to(device)
    got.backward(upstream)
    dense.backward(upstream)
    assert torch.allclose(x.grad, x_dense.grad, rtol=0, atol=1e-12)
    assert torch.allclose(w.grad, w_dense.grad, rtol=0, atol=1e-12)


def test_the_public_masked_mvm_dispatches_to_the_triton_backend(device):
    # MaskBackend.TRITON through cim_emu's masked_mvm / keep_masks: what CUDA tensors get by default.
    inputs, weights, thresholds = _problem(6, 10, 2, torch.float64)
    arguments = (inputs.to(device), weights.to(device), thresholds.to(device))
    got = masked_mvm(*arguments, seed=31, n_samples=3, block_rows=4, backend=MaskBackend.TRITON)
    expected = masked_mvm(inputs, weights, thresholds, seed=31, n_samples=3, block_rows=4, backend=MaskBackend.NUMBA)
    assert torch.allclose(got.cpu(), expected, rtol=0, atol=1e-12)
    masks = keep_masks(thresholds.to(device), 31, 6, backend=MaskBackend.TRITON)
    assert torch.equal(masks.cpu(), keep_masks(thresholds, 31, 6))


def test_same_seed_same_result_new_seed_new_masks(device):
    inputs, weights, thresholds = _problem(9, 13, 2, torch.float32)
    arguments = (inputs.to(device), weights.to(device), thresholds.to(device))
    first = masked_mvm_triton(*arguments, seed=5)
    assert torch.equal(first, masked_mvm_triton(*arguments, seed=5))
    assert not torch.equal(first, masked_mvm_triton(*arguments, seed=6))


def test_bad_arguments_are_refused_with_the_fix(device):
    inputs, weights, thresholds = _problem(4, 8, 2, torch.float32)
    inputs, weights, thresholds = inputs.to(device), weights.to(device), thresholds.to(device)
    with pytest.raises(ValueError, match="keep_thresholds"):
        masked_mvm_triton(inputs, weights, thresholds.to(torch.int64), seed=1)
    with pytest.raises(ValueError, match="agree in n"):
        masked_mvm_triton(inputs[:, :5], weights, thresholds, seed=1)
    with pytest.raises(ValueError, match="seed"):
        masked_mvm_triton(inputs, weights, thresholds, seed=-1)
    with pytest.raises(ValueError, match="n_samples"):
        masked_mvm_triton(inputs, weights, thresholds, seed=1, n_samples=0)
    with pytest.raises(ValueError, match="2\\^31"):
        masked_mvm_triton(inputs, weights, thresholds, seed=1, n_samples=2**30)   # 2^31 rows: refused up front


@pytest.mark.slow
def test_larger_layer_matches_the_cpu_kernel(device):
    # Several tiles in every direction, three row blocks, 40 rows: the interpreter takes tens of seconds.
    inputs, weights, thresholds = _problem(70, 300, 20, torch.float32)
    seed = 123456789
    expected = masked_mvm(inputs, weights, thresholds, seed=seed, n_samples=2, block_rows=128,
                          backend=MaskBackend.NUMBA)
    got = masked_mvm_triton(inputs.to(device), weights.to(device), thresholds.to(device), seed=seed, n_samples=2,
                            block_rows=128)
    assert torch.allclose(got.cpu(), expected, rtol=0, atol=2e-5 * 300 ** 0.5)
    assert torch.equal(keep_masks_triton(thresholds.to(device), seed, 40).cpu(), keep_masks(thresholds, seed, 40))
