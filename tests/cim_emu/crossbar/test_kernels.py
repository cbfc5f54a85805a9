"""The Philox generator and the exact masked MVM: reference values, statistics, contracts."""

from __future__ import annotations

import math

import pytest
import torch
from scipy import stats

from cim_emu.crossbar.kernels import (
    MaskBackend,
    draw_seed,
    keep_masks,
    keep_thresholds,
    masked_mvm,
    threshold_probabilities,
)

# Philox itself (Random123 known answers, torch/numba twins) is tested in tests/devices/rng/test_philox.py.


def _reference(inputs, weights, masks, n_samples, block_rows):
    rows = inputs.repeat(n_samples, 1)
    blocks = []
    for start in range(0, inputs.shape[1], block_rows):
        part = slice(start, start + block_rows)
        blocks.append(torch.einsum("rji,ji,ri->rj", masks[..., part].to(inputs.dtype), weights[:, part], rows[:, part]))
    return torch.stack(blocks, dim=1)


# TRITON runs on CUDA tensors (its interpreter tests are in tests/cim_emu/crossbar/triton).
CPU_BACKENDS = [backend for backend in MaskBackend if backend is not MaskBackend.TRITON]


@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_masked_mvm_equals_explicit_masks(backend, torch_generator):
    inputs = torch.randn(5, 23, generator=torch_generator, dtype=torch.float64)
    weights = torch.randn(7, 23, generator=torch_generator, dtype=torch.float64)
    thresholds = keep_thresholds(torch.rand(7, 23, generator=torch_generator, dtype=torch.float64))
    out = masked_mvm(inputs, weights, thresholds, seed=99, n_samples=3, block_rows=6, backend=backend)
    masks = keep_masks(thresholds, 99, 15, backend=backend)
    assert out.shape == (15, 4, 7)
    torch.testing.assert_close(out, _reference(inputs, weights, masks, 3, 6), rtol=1e-12, atol=1e-12)


def test_numba_and_torch_philox_make_identical_masks():
    thresholds = keep_thresholds(torch.rand(33, 41, generator=torch.Generator().manual_seed(3), dtype=torch.float64))
    fast = keep_masks(thresholds, 2 ** 62 + 12345, 9, backend=MaskBackend.NUMBA)
    reference = keep_masks(thresholds, 2 ** 62 + 12345, 9, backend=MaskBackend.TORCH_PHILOX)
    assert torch.equal(fast, reference)


def test_fused_kernel_result_does_not_depend_on_thread_count():
    generator = torch.Generator().manual_seed(5)
    inputs, weights = torch.randn(512, 96, generator=generator), torch.randn(128, 96, generator=generator)
    thresholds = keep_thresholds(torch.full((128, 96), 0.37, dtype=torch.float64))
    previous = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        serial = masked_mvm(inputs, weights, thresholds, seed=11, n_samples=100)
        torch.set_num_threads(2)
        parallel = masked_mvm(inputs, weights, thresholds, seed=11, n_samples=100)
    finally:
        torch.set_num_threads(previous)
    assert torch.equal(serial, parallel)


def test_kernels_leave_the_torch_thread_count_alone():
    # numba's OpenMP layer shares the runtime with torch: a kernel call must not change torch's threads.
    previous = torch.get_num_threads()
    thresholds = keep_thresholds(torch.full((64, 64), 0.5, dtype=torch.float64))
    try:
        for threads in (1, 2):
            torch.set_num_threads(threads)
            for rows in (2, 2048):   # on the calling thread, and on the thread pool
                masked_mvm(torch.ones(rows, 64), torch.ones(64, 64), thresholds, seed=1)
                assert torch.get_num_threads() == threads
    finally:
        torch.set_num_threads(previous)


@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_masked_mvm_gradients(backend):
    generator = torch.Generator().manual_seed(8)
    inputs = torch.randn(4, 9, generator=generator, dtype=torch.float64, requires_grad=True)
    weights = torch.randn(6, 9, generator=generator, dtype=torch.float64, requires_grad=True)
    thresholds = keep_thresholds(torch.full((6, 9), 0.6, dtype=torch.float64))
    # Masks are fixed by the seed, so the product is linear in each argument: finite differences are exact.
    assert torch.autograd.gradcheck(
        lambda x, w: masked_mvm(x, w, thresholds, seed=21, n_samples=3, block_rows=4, backend=backend),
        (inputs, weights))


def _decoded_keep_counts(thresholds: torch.Tensor, n_rows: int, seed: int) -> torch.Tensor:
    """Per-cell keep counts read back from the fused kernel's own output.

    Inputs of 1 and weights 2^i make each output an exact binary number whose bit i is the mask of input i.
    """
    n_outputs, n_inputs = thresholds.shape
    inputs = torch.ones(n_rows, n_inputs, dtype=torch.float64)
    weights = (2.0 ** torch.arange(n_inputs, dtype=torch.float64)).expand(n_outputs, n_inputs).contiguous()
    encoded = masked_mvm(inputs, weights, thresholds, seed=seed)[:, 0].to(torch.int64)
    return torch.stack([((encoded >> bit) & 1).sum(dim=0) for bit in range(n_inputs)], dim=1)


def _binomial_check(probability: float, n_draws_target: int, seed: int) -> tuple[float, float]:
    n_outputs, n_inputs = 1024, 48
    thresholds = keep_thresholds(torch.full((n_outputs, n_inputs), probability, dtype=torch.float64))
    rows_per_call = 2048
    n_calls = math.ceil(n_draws_target / (rows_per_call * n_outputs * n_inputs))
    kept = sum(int(_decoded_keep_counts(thresholds, rows_per_call, seed + call).sum()) for call in range(n_calls))
    n_draws = n_calls * rows_per_call * n_outputs * n_inputs
    return kept / n_draws, stats.binomtest(kept, n_draws, probability).pvalue


def test_mask_probability_binomial_1e8_draws():
    probability = 0.77  # not a dyadic fraction: exercises the 32-bit threshold
    estimate, p_value = _binomial_check(probability, 10 ** 8, seed=1000)
    standard_error = math.sqrt(probability * (1 - probability) / 10 ** 8)
    assert p_value > 1e-3
    assert abs(estimate - probability) < 5 * standard_error


def test_mask_probability_exact_to_1e4_on_1e9_draws():
    # ~1e9 draws (8 s on one core): 5 standard errors = 7.2e-5 < 1e-4, so a bias of 1e-4 cannot pass.
    probability = 0.3
    estimate, p_value = _binomial_check(probability, 10 ** 9, seed=2000)
    assert p_value > 1e-3
    assert abs(estimate - probability) < 1e-4


def test_per_cell_probabilities_chi_square():
    generator = torch.Generator().manual_seed(4)
    probabilities = 0.05 + 0.9 * torch.rand(64, 48, generator=generator, dtype=torch.float64)
    thresholds = keep_thresholds(probabilities)
    n_rows = 4096  # 1.3e7 draws
    counts = _decoded_keep_counts(thresholds, n_rows, seed=77).double()
    exact = threshold_probabilities(thresholds)
    chi_square = float((((counts - n_rows * exact) ** 2) / (n_rows * exact * (1 - exact))).sum())
    assert stats.chi2.sf(chi_square, exact.numel()) > 1e-3


def test_thresholds_realise_probabilities_to_2e_minus_33():
    probabilities = torch.tensor([0.0, 1e-12, 0.3, 0.5, 0.999999, 1.0], dtype=torch.float64)
    realised = threshold_probabilities(keep_thresholds(probabilities))
    assert float(realised[0]) == 0.0 and float(realised[3]) == 0.5
    assert torch.all((realised - probabilities).abs() <= 2.0 ** -32 + 1e-18)


def test_masks_are_fresh_per_row_sample_and_call():
    thresholds = keep_thresholds(torch.full((16, 64), 0.5, dtype=torch.float64))
    masks = keep_masks(thresholds, 123, 4000).double()
    centred = masks - 0.5
    n = centred[0].numel()
    # Neighbouring rows (same input row in consecutive samples) and neighbouring outputs are uncorrelated.
    row_correlation = float((centred[1:] * centred[:-1]).mean() / 0.25)
    output_correlation = float((centred[:, 1:] * centred[:, :-1]).mean() / 0.25)
    limit = 5 / math.sqrt(n * 3999)
    assert abs(row_correlation) < limit and abs(output_correlation) < limit
    generator = torch.Generator().manual_seed(0)
    assert draw_seed(generator) != draw_seed(generator)
    assert not torch.equal(keep_masks(thresholds, 1, 4), keep_masks(thresholds, 2, 4))
    assert torch.equal(keep_masks(thresholds, 1, 4), keep_masks(thresholds, 1, 4))


def test_bad_probabilities_and_shapes_are_rejected():
    with pytest.raises(ValueError, match=r"keep_probabilities: entry \(0, 1\) is 1.5"):
        keep_thresholds(torch.tensor([[0.2, 1.5]]))
    with pytest.raises(ValueError, match="keep_probabilities"):
        keep_thresholds(torch.tensor([[float("nan")]]))
    with pytest.raises(ValueError, match="must agree in n"):
        masked_mvm(torch.ones(2, 3), torch.ones(4, 5), keep_thresholds(torch.ones(4, 5)), seed=1)
    with pytest.raises(ValueError, match="n_samples"):
        masked_mvm(torch.ones(2, 3), torch.ones(4, 3), keep_thresholds(torch.ones(4, 3)), seed=1, n_samples=0)


@pytest.mark.gpu
@pytest.mark.parametrize("backend", [MaskBackend.TORCH, MaskBackend.TORCH_PHILOX])
def test_masked_mvm_on_cuda(backend):
    generator = torch.Generator(device="cuda").manual_seed(6)
    inputs = torch.randn(5, 23, generator=generator, device="cuda", dtype=torch.float64)
    weights = torch.randn(7, 23, generator=generator, device="cuda", dtype=torch.float64)
    thresholds = keep_thresholds(torch.rand(7, 23, generator=generator, device="cuda", dtype=torch.float64))
    out = masked_mvm(inputs, weights, thresholds, seed=99, n_samples=3, block_rows=6, backend=backend)
    masks = keep_masks(thresholds, 99, 15, backend=backend)
    torch.testing.assert_close(out, _reference(inputs, weights, masks, 3, 6), rtol=1e-12, atol=1e-12)
    if backend is MaskBackend.TORCH_PHILOX:
        # The Philox stream is integer arithmetic: the same bits on every device.
        assert torch.equal(masks.cpu(), keep_masks(thresholds.cpu(), 99, 15, backend=MaskBackend.NUMBA))
    probabilities = torch.full((256, 256), 0.3, dtype=torch.float64, device="cuda")
    kept = keep_masks(keep_thresholds(probabilities), 5, 400, backend=backend).double().mean().item()
    assert abs(kept - 0.3) < 5 * math.sqrt(0.21 / (400 * 256 * 256))
