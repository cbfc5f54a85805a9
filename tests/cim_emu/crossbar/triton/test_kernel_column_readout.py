"""The Triton column readout against the CPU kernel: the same normals (to the CPU's polynomial accuracy) and
the same noisy, converted, block-summed outputs to float32 rounding."""

from __future__ import annotations

import pytest
import torch

pytest.importorskip("triton")

from cim_emu.crossbar.kernels.column_noise import column_normals, noisy_column_readout  # noqa: E402
from cim_emu.crossbar.kernels.triton import column_normals_triton, noisy_column_readout_triton  # noqa: E402

pytestmark = pytest.mark.triton


@pytest.mark.parametrize(("n_blocks", "n_rows", "n_columns", "seed"), [(1, 3, 7, 0), (2, 9, 300, 2**33 + 7)])
def test_normals_match_the_cpu_stream(n_blocks, n_rows, n_columns, seed, device):
    # 300 columns: a full chunk of 256 and a short one of 44 (G = 11), where the column layout changes.
    got = column_normals_triton(seed, n_blocks, n_rows, n_columns, device=device).cpu()
    # The CPU's polynomial log and sine agree with libm to 1e-13 (devices/rng/philox_numba.py).
    assert torch.allclose(got, column_normals(seed, n_blocks, n_rows, n_columns), rtol=0, atol=1e-12)


def _currents(n_blocks, n_rows, n_columns, variance_rows, dtype, variance_dtype):
    generator = torch.Generator().manual_seed(11)
    currents = torch.randn((n_blocks, n_rows, n_columns), generator=generator, dtype=dtype)
    variance = (0.05 * torch.rand((n_blocks, variance_rows, n_columns), generator=generator)).to(variance_dtype)
    return currents, variance


@pytest.mark.parametrize(("full_scale", "step"), [(None, None), (1.5, 1.5 / 127)])
@pytest.mark.parametrize(("dtype", "variance_dtype"), [(torch.float32, torch.bfloat16), (torch.float64, torch.float64)])
def test_readout_matches_the_cpu_kernel(full_scale, step, dtype, variance_dtype, device):
    # Two row blocks, samples sharing a variance row (6 rows over 3 variance rows), a short last chunk.
    currents, variance = _currents(2, 6, 260, 3, dtype, variance_dtype)
    seed = 0xC0FFEE
    expected = noisy_column_readout(currents, variance, seed=seed, full_scale=full_scale, step=step, unit=0.25)
    got = noisy_column_readout_triton(currents.to(device), variance.to(device), seed=seed, full_scale=full_scale,
                                      step=step, unit=0.25)
    assert got.dtype == dtype and got.shape == (6, 260)
    # Outputs ~ 2 blocks x |I| <= 1.5 / 0.25: float32 rounds each term and the sum, the order is the same.
    tolerance = 1e-5 if dtype == torch.float32 else 1e-12
    assert torch.allclose(got.cpu(), expected, rtol=0, atol=tolerance)


def test_readout_noise_is_the_stream_of_its_seed(device):
    # Without an ADC the result is (I + sqrt(Var) z) summed over blocks / unit, z the stream's normals.
    currents, variance = _currents(2, 4, 9, 4, torch.float64, torch.float64)
    seed = 99
    z = column_normals(seed, 2, 4, 9)
    expected = (currents + variance.sqrt() * z).sum(dim=0) / 0.5
    got = noisy_column_readout_triton(currents.to(device), variance.to(device), seed=seed, full_scale=None, step=None,
                                      unit=0.5)
    assert torch.allclose(got.cpu(), expected, rtol=0, atol=1e-12)


def test_rounding_is_half_to_even_on_the_adc_grid(device):
    # Zero variance: the output is the ADC of the currents alone; exact halves must round to even like np.rint.
    currents = torch.tensor([[[0.5, 1.5, 2.5, -0.5, -1.5, 3.0, 126.7, 200.0]]], dtype=torch.float64)
    variance = torch.zeros_like(currents)
    got = noisy_column_readout_triton(currents.to(device), variance.to(device), seed=1, full_scale=127.0, step=1.0,
                                      unit=1.0)
    assert got.cpu().tolist() == [[0.0, 2.0, 2.0, -0.0, -2.0, 3.0, 127.0, 127.0]]


def test_bad_arguments_are_refused_with_the_fix(device):
    currents, variance = _currents(2, 4, 8, 3, torch.float32, torch.float32)
    currents, variance = currents.to(device), variance.to(device)
    with pytest.raises(ValueError, match="rows dividing"):
        noisy_column_readout_triton(currents, variance, seed=1, full_scale=None, step=None, unit=1.0)
    with pytest.raises(ValueError, match="needs a full scale"):
        noisy_column_readout_triton(currents, variance[:, :2], seed=1, full_scale=None, step=0.1, unit=1.0)
    with pytest.raises(ValueError, match="unit"):
        noisy_column_readout_triton(currents, variance[:, :2], seed=1, full_scale=None, step=None, unit=float("nan"))
    with pytest.raises(ValueError, match="seed"):
        noisy_column_readout_triton(currents, variance[:, :2], seed=2**64, full_scale=None, step=None, unit=1.0)
    with pytest.raises(ValueError, match="float32 or float64"):
        noisy_column_readout_triton(currents.to(torch.int32), variance[:, :2], seed=1, full_scale=None, step=None,
                                    unit=1.0)


@pytest.mark.slow
def test_larger_readout_matches_the_cpu_kernel(device):
    currents, variance = _currents(4, 40, 700, 20, torch.float32, torch.bfloat16)
    expected = noisy_column_readout(currents, variance, seed=5, full_scale=2.0, step=2.0 / 127, unit=0.5)
    got = noisy_column_readout_triton(currents.to(device), variance.to(device), seed=5, full_scale=2.0,
                                      step=2.0 / 127, unit=0.5)
    assert torch.allclose(got.cpu(), expected, rtol=0, atol=2e-5)
