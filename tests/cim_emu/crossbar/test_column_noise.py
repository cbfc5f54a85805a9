"""The fused CPU column readout (read noise, ADC, block sum) and each CPU path of the tile (int8, float32)."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import torch
from scipy import stats

import devices
from cim_emu import CrossbarConfig, CrossbarTile
from cim_emu.crossbar.kernels import column_normals, column_normals_torch, noisy_column_readout
from cim_emu.crossbar.kernels.backend import FloatBackend, IntegerBackend, torch_column_readout
from cim_emu.crossbar.kernels.dispatch import CPU_PATH_ENV

_N_NORMALS = (4, 256, 1024)   # 2^20 draws: 4 blocks, 256 rows, 4 chunks of 256 columns


@pytest.fixture(scope="module")
def normals() -> np.ndarray:
    return column_normals(20241123, *_N_NORMALS).numpy()


def test_column_normals_follow_the_standard_normal_law(normals):
    values = normals.ravel()
    n = values.size
    assert stats.kstest(values, "norm").pvalue > 1e-3
    # Moments within 5 standard errors: mean 1/sqrt(n), variance sqrt(2/n), excess kurtosis sqrt(24/n).
    assert abs(values.mean()) < 5 / math.sqrt(n)
    assert abs(values.var() - 1) < 5 * math.sqrt(2 / n)
    assert abs(stats.kurtosis(values)) < 5 * math.sqrt(24 / n)
    # Tails (the polynomial log and sine must hold out there too): binomial counts within 5 standard errors.
    for threshold in (2.0, 3.0, 4.0):
        p = 2 * stats.norm.sf(threshold)
        count = int((np.abs(values) > threshold).sum())
        assert abs(count - n * p) < 5 * math.sqrt(n * p * (1 - p)) + 1
    # The radius comes from a 24-bit uniform, (2 (w >> 8) + 1) 2^-25: |z| <= 5.89.
    assert np.abs(values).max() <= math.sqrt(-2 * math.log(2.0 ** -25)) + 1e-9


def test_column_normals_are_uncorrelated_across_columns_rows_and_blocks(normals):
    # Neighbours in every direction, the Box-Muller partners (columns g and G + g of a chunk: same radius)
    # and the two pairs of one Philox call (g and 2G + g) must be uncorrelated, |r| < 5 / sqrt(n).
    n_groups = 64
    pairs = {
        "next column": (normals[..., :-1], normals[..., 1:]),
        "next row": (normals[:, :-1], normals[:, 1:]),
        "next block": (normals[:-1], normals[1:]),
        "cos/sin partner": (normals[..., :n_groups], normals[..., n_groups:2 * n_groups]),
        "other pair": (normals[..., :n_groups], normals[..., 2 * n_groups:3 * n_groups]),
        "next chunk": (normals[..., :256], normals[..., 256:512]),
    }
    for name, (a, b) in pairs.items():
        r = np.corrcoef(a.ravel(), b.ravel())[0, 1]
        assert abs(r) < 5 / math.sqrt(a.size), name
    # Box-Muller partners are independent, not just uncorrelated: their squares are uncorrelated too.
    a, b = pairs["cos/sin partner"]
    assert abs(np.corrcoef((a ** 2).ravel(), (b ** 2).ravel())[0, 1]) < 5 / math.sqrt(a.size)


def test_column_normals_equal_their_torch_twin():
    # The numba stream (polynomial log, sine, cosine) and the torch one (libm) agree to rounding; 300 columns
    # cover a full chunk and a partial one (44 columns: 11 Philox calls).
    torch.testing.assert_close(column_normals(2 ** 63 + 5, 2, 3, 300), column_normals_torch(2 ** 63 + 5, 2, 3, 300),
                               rtol=0, atol=1e-12)


def test_column_normals_depend_on_the_seed_and_the_index_only():
    first = column_normals(7, 2, 3, 300)
    assert torch.equal(first, column_normals(7, 2, 3, 300))
    assert not torch.equal(first, column_normals(8, 2, 3, 300))
    # Indexed, not sequential: a smaller request is a corner of a larger one (same chunks of 256 columns).
    assert torch.equal(column_normals(7, 1, 2, 256), first[:1, :2, :256])


def _reference_readout(currents, variance, normals, full_scale, step, unit):
    """The readout in plain float64 torch ops, from the kernel's own normals."""
    rows = currents.shape[1]
    variance = variance.double().repeat(1, rows // variance.shape[1], 1)
    values = currents.double() + variance.sqrt() * normals
    if full_scale is not None:
        values = values.clamp(-full_scale, full_scale)
    if step is not None:
        values = torch.round(values / step) * step
    return values.sum(dim=0) / unit


@pytest.mark.parametrize("full_scale, step", [(None, None), (2.5, None), (2.5, 2.5 / 127)])
def test_readout_equals_the_plain_arithmetic_on_its_normals(full_scale, step):
    generator = torch.Generator().manual_seed(3)
    currents = torch.randn(3, 8, 300, generator=generator, dtype=torch.float64)
    variance = torch.rand(3, 4, 300, generator=generator, dtype=torch.float64)  # rows 4..7 reuse rows 0..3
    out = noisy_column_readout(currents, variance, seed=99, full_scale=full_scale, step=step, unit=0.5)
    expected = _reference_readout(currents, variance, column_normals(99, 3, 8, 300), full_scale, step, 0.5)
    torch.testing.assert_close(out, expected, rtol=1e-12, atol=1e-12)


def test_readout_reads_bfloat16_variances_and_float32_currents():
    generator = torch.Generator().manual_seed(4)
    currents = torch.randn(2, 5, 70, generator=generator)
    variance = torch.rand(2, 5, 70, generator=generator).bfloat16()
    out = noisy_column_readout(currents, variance, seed=5, full_scale=None, step=None, unit=1.0)
    assert out.dtype == torch.float32
    expected = _reference_readout(currents, variance, column_normals(5, 2, 5, 70), None, None, 1.0)
    # float32 arithmetic: a few units in the last place of values of order 1-10.
    torch.testing.assert_close(out.double(), expected, rtol=0, atol=1e-5)


def test_readout_does_not_depend_on_the_thread_count():
    generator = torch.Generator().manual_seed(6)
    currents = torch.randn(2, 512, 512, generator=generator)   # large enough for the parallel kernel
    variance = torch.rand(2, 512, 512, generator=generator)
    previous = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        serial = noisy_column_readout(currents, variance, seed=1, full_scale=3.0, step=0.1, unit=1.0)
        torch.set_num_threads(2)
        parallel = noisy_column_readout(currents, variance, seed=1, full_scale=3.0, step=0.1, unit=1.0)
    finally:
        torch.set_num_threads(previous)
    assert torch.equal(serial, parallel)


def test_readout_rejects_bad_input():
    currents, variance = torch.zeros(2, 4, 3), torch.zeros(2, 4, 3)
    with pytest.raises(ValueError, match="variance"):
        noisy_column_readout(currents, torch.zeros(2, 3, 3), seed=1, full_scale=None, step=None, unit=1.0)
    with pytest.raises(ValueError, match="currents"):
        noisy_column_readout(currents.half(), variance, seed=1, full_scale=None, step=None, unit=1.0)
    with pytest.raises(ValueError, match="full scale"):
        noisy_column_readout(currents, variance, seed=1, full_scale=None, step=0.1, unit=1.0)
    with pytest.raises(ValueError, match="seed"):
        noisy_column_readout(currents, variance, seed=-1, full_scale=None, step=None, unit=1.0)


# ------------------------------------------------------------------------------------- integer Kirchhoff sum
@pytest.fixture(scope="module")
def card():
    return devices.default_card()


def _program(card, dtype=torch.float32, **settings):
    config = CrossbarConfig(weight_bits=1, array_rows=40, array_cols=24, **settings)
    weight = torch.randn(17, 90, generator=torch.Generator().manual_seed(1), dtype=dtype)
    return CrossbarTile.program(weight, config=config, card=card, generator=torch.Generator().manual_seed(2))


def _integer_operands(tile):
    backend = IntegerBackend()
    return backend, backend.prepare(tile.effective_S, tile.variance_S2, tile._volts_per_code())


def test_integer_codes_reconstruct_the_conductances(card):
    tile = _program(card)
    _, operands = _integer_operands(tile)
    n_columns = tile.layout.n_columns
    high = operands.codes[..., :n_columns].long()
    low = operands.codes[..., n_columns:].long()
    assert low.min() >= 0 and low.max() <= 127
    step = operands.step_S.double()
    reconstructed = step * (128 * high + low)
    error = (reconstructed - tile.effective_S.double()).abs()
    # Rounding to the code grid: at most half a step (plus the float32 rounding of the stored conductances).
    assert torch.all(error <= step / 2 + 1e-7 * tile.effective_S.double().abs())
    # The largest conductance of each column uses the full 15-bit range.
    assert torch.equal((128 * high + low).abs().amax(dim=(0, 1)), torch.full((n_columns,), 16383))


@pytest.mark.parametrize("path", ["int8", "float32"])
def test_each_cpu_path_matches_the_float64_sums_within_its_bound(card, path, monkeypatch):
    # Whichever path the dispatch picks, the forward pass stays within the documented bound of the float64
    # arithmetic: int8 codes within sum_i |v_i| s_c / 2 per column, float32 within float32 rounding.
    monkeypatch.setenv(CPU_PATH_ENV, path)
    tile = _program(card, read_noise=False, adc_bits=None, adc_range_cells=None)
    assert isinstance(tile.backend, IntegerBackend if path == "int8" else FloatBackend)
    inputs = torch.randn(33, 90, generator=torch.Generator().manual_seed(3))
    out = tile(inputs).double()
    exact = tile.expected_output(inputs.double()).double()   # float path of the same tile, no read noise
    volts, scale = tile._convert_inputs(inputs.double())
    digital = scale * tile.weight_scale.double() / tile.levels / tile.unit_current_A
    if path == "int8":
        # Bound: sum_i |v_i| s_c / 2 amperes per column, in output units (one slice, no calibration yet).
        step = _integer_operands(tile)[1].step_S.double()
        bound = volts.abs() @ torch.ones(90, 1, dtype=torch.float64) * step[None] / 2 * digital
        assert torch.all((out - exact).abs() <= bound + 1e-6 * exact.abs() + 1e-9)
        # And it is a real quantisation, not a copy of the float path: the error is of the order of the bound.
        assert float(((out - exact).abs() / bound).max()) > 1e-3
    else:
        # float32 GEMM: a few ulp of sum_i |v_i| |G_ic|.
        blocks = tile.layout.inputs_to_blocks(volts).abs()
        magnitude = torch.einsum("bri,bic->rc", blocks, tile.effective_S.double().abs()) * digital
        assert torch.all((out - exact).abs() <= 1e-6 * magnitude + 1e-9)


@pytest.mark.parametrize("path", ["int8", "float32"])
def test_each_cpu_path_has_the_analytic_read_noise_variance(card, path, monkeypatch):
    # The variance GEMM (bfloat16 on the int8 path, float32 otherwise) feeds the readout: 4000 reads of one
    # input row have the analytic per-column variance sum_i v_i^2 Var_i within 5 standard errors (no ADC).
    monkeypatch.setenv(CPU_PATH_ENV, path)
    noisy_card = dataclasses.replace(card, data_bit=dataclasses.replace(card.data_bit, read_noise_ln=0.2))
    tile = _program(noisy_card, adc_bits=None, adc_range_cells=None)
    inputs = torch.randn(1, 90, generator=torch.Generator().manual_seed(7)).repeat(4000, 1)
    reads = tile(inputs, generator=torch.Generator().manual_seed(8)).double()
    volts, scale = tile._convert_inputs(inputs[:1].double())
    cell_variance = tile.variance_S2.double()                          # (blocks, block rows, columns)
    variance_A2 = torch.einsum("bri,bic->c", tile.layout.inputs_to_blocks(volts).square(), cell_variance)
    analytic = variance_A2 * (scale[0] * tile.weight_scale.double() / tile.levels / tile.unit_current_A) ** 2
    n_reads = reads.shape[0]
    assert torch.all((reads.var(dim=0) / analytic - 1).abs() < 5 * math.sqrt(2 / n_reads))


@pytest.mark.parametrize("settings, dtype", [(dict(dac_bits=None), torch.float32), (dict(dac_bits=10), torch.float32),
                                             (dict(), torch.float64)])
def test_integer_sums_only_where_they_are_exact_enough(card, settings, dtype, monkeypatch):
    # No DAC (ideal inputs), a DAC finer than int8 or a float64 tile: the floating-point GEMM, even on int8.
    monkeypatch.setenv(CPU_PATH_ENV, "int8")
    assert isinstance(_program(card, dtype=dtype, **settings).backend, FloatBackend)


def test_a_tile_converted_to_float64_after_programming_takes_the_float_path(card, monkeypatch):
    monkeypatch.setenv(CPU_PATH_ENV, "int8")
    tile = _program(card, read_noise=False, adc_bits=None, adc_range_cells=None)
    inputs = torch.randn(4, 90, generator=torch.Generator().manual_seed(3))
    tile(inputs)                                   # prepares the integer operands
    tile = tile.double()
    inputs = inputs.double()
    assert isinstance(tile.backend, FloatBackend)
    # float64 arithmetic throughout: the forward pass equals the float64 mean to rounding, not to the codes.
    torch.testing.assert_close(tile(inputs), tile.expected_output(inputs), rtol=1e-12, atol=1e-15)


@pytest.mark.gpu
def test_a_tile_moved_to_cuda_after_programming_runs_there(card):
    # Programmed on the CPU, moved: CUDA takes its float backend and equals the float path.
    tile = _program(card, read_noise=False, adc_bits=None, adc_range_cells=None)
    inputs = torch.randn(5, 90, generator=torch.Generator().manual_seed(4))
    float_path = tile.expected_output(inputs)
    tile(inputs)
    cuda = tile.to("cuda")(inputs.cuda())
    assert cuda.device.type == "cuda"
    torch.testing.assert_close(cuda.cpu(), float_path, rtol=1e-5, atol=1e-5 * float(float_path.abs().max()))


@pytest.mark.parametrize("path", ["int8", "float32"])
def test_tile_reads_are_reproducible_and_fresh(card, path, monkeypatch):
    monkeypatch.setenv(CPU_PATH_ENV, path)
    tile = _program(card)
    inputs = torch.randn(5, 90, generator=torch.Generator().manual_seed(4))
    first = tile(inputs, generator=torch.Generator().manual_seed(5))
    assert torch.equal(first, tile(inputs, generator=torch.Generator().manual_seed(5)))
    assert not torch.equal(first, tile(inputs, generator=torch.Generator().manual_seed(6)))


def test_fused_and_torch_readouts_have_the_same_statistics(card):
    # The fused CPU kernel and the torch readout (other devices) draw from different streams but must give
    # the same per-column mean and variance: 20000 reads of one input row, within 5 standard errors.
    tile = _program(card, adc_range_cells=4.0)
    inputs = torch.randn(1, 90, generator=torch.Generator().manual_seed(7))
    backend = FloatBackend("float")
    operands = backend.prepare(tile.effective_S, tile.variance_S2, tile._volts_per_code())
    dac_inputs, _, _ = tile._dac_inputs(inputs)
    n_reads = 20000
    currents = backend.currents(operands, dac_inputs).repeat(1, n_reads, 1)
    variance = backend.variance(operands, dac_inputs)
    fused = backend.read_out(currents.clone(), variance, tile.readout_spec, torch.Generator().manual_seed(8))
    plain = torch_column_readout(currents.clone(), variance, tile.readout_spec, torch.Generator().manual_seed(9))
    fused, plain = fused.double(), plain.double()
    standard_error = plain.std(dim=0) / math.sqrt(n_reads)
    assert torch.all((fused.mean(dim=0) - plain.mean(dim=0)).abs() < 5 * math.sqrt(2) * standard_error)
    assert torch.all((fused.var(dim=0) / plain.var(dim=0) - 1).abs() < 5 * math.sqrt(4 / n_reads))
    # The noise spreads over several ADC levels in every column (else the test would compare constants).
    assert min(len(torch.unique(plain[:, column])) for column in range(plain.shape[1])) >= 3
