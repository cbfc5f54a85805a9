"""Tiles: the ideal tile is x @ W.T, converters, partitioning, read noise, variation, IR drop, counters."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import torch

import devices
from cim_emu import CrossbarConfig, CrossbarLinear, CrossbarTile, ReadNoiseModel, TileLayout, track_ops
from cim_emu.crossbar.converters import adc_quantize, dac_quantize, input_scale
from cim_emu.crossbar.ir_drop import first_order_conductance, solve_crossbar_currents
from cim_emu.crossbar.mapping import quantize_weights, slice_codes


@pytest.fixture(scope="module")
def card():
    return devices.default_card()


def _grid_weights(generator, out_features, in_features, weight_bits):
    """Weights exactly on the tile's grid: scale_j * integer / (2^b - 1), each row reaching its scale."""
    levels = 2 ** weight_bits - 1
    codes = torch.randint(-levels, levels + 1, (out_features, in_features), generator=generator).double()
    codes[:, 0] = levels
    scale = 0.1 + torch.rand(out_features, 1, generator=generator, dtype=torch.float64)
    return scale * codes / levels


@pytest.mark.parametrize("weight_bits, array_rows, array_cols", [(None, 256, 256), (None, 7, 5), (1, 16, 9),
                                                                 (4, 13, 11)])
def test_ideal_tile_equals_matrix_product(card, torch_generator, weight_bits, array_rows, array_cols):
    config = CrossbarConfig.ideal(weight_bits=weight_bits, array_rows=array_rows, array_cols=array_cols)
    if weight_bits is None:
        weight = torch.randn(19, 37, generator=torch_generator, dtype=torch.float64)
    else:
        weight = _grid_weights(torch_generator, 19, 37, weight_bits)
    tile = CrossbarTile.program(weight, config=config, card=card, generator=None)
    inputs = torch.randn(6, 37, generator=torch_generator, dtype=torch.float64)
    expected = inputs @ weight.T
    torch.testing.assert_close(tile(inputs), expected, rtol=1e-12, atol=1e-12 * float(expected.abs().max()))


def test_tile_and_training_path_compute_the_same_function(card, torch_generator):
    # Finite converters, ideal devices: the emulated analog chain equals the hardware-aware float path.
    config = CrossbarConfig(weight_bits=3, dac_bits=None, adc_bits=6, adc_range_cells=4.0, array_rows=10,
                            array_cols=8, read_noise=False, device_variation=False)
    layer = CrossbarLinear(29, 13, config=config, card=card, generator=torch_generator, dtype=torch.float64)
    inputs = torch.randn(40, 29, generator=torch_generator, dtype=torch.float64)
    float_path = layer(inputs)
    layer.program(generator=None).eval()
    torch.testing.assert_close(layer(inputs), float_path, rtol=1e-10, atol=1e-10)


def test_converters_quantise_and_clip():
    values = torch.tensor([-2.0, -1.0, -0.004, 0.004, 0.5, 1.0, 3.0])
    assert torch.equal(dac_quantize(values, 2), torch.tensor([-1.0, -1.0, 0.0, 0.0, 0.0, 1.0, 1.0]))
    assert torch.allclose(dac_quantize(values, 8), torch.round(values.clamp(-1, 1) * 127) / 127)
    assert torch.equal(adc_quantize(values, None, 1.0), values.clamp(-1, 1))
    assert torch.allclose(adc_quantize(values, 4, 2.0), torch.round(values.clamp(-2, 2) / (2 / 7)) * (2 / 7))
    rows = torch.tensor([[0.0, 0.0], [2.0, -4.0]])
    assert torch.equal(input_scale(rows, None), torch.tensor([[1.0], [4.0]]))
    assert torch.equal(input_scale(rows, 0.5), torch.tensor([[0.5], [0.5]]))
    # Straight-through rounding: the gradient of the rounding is one, of the clipping zero.
    x = torch.tensor([0.3, 2.0], requires_grad=True)
    dac_quantize(x, 3, straight_through=True).sum().backward()
    assert torch.equal(x.grad, torch.tensor([1.0, 0.0]))


def test_bit_slices_recombine_to_the_codes(torch_generator):
    weight = torch.randn(8, 30, generator=torch_generator)
    codes, scale, levels = quantize_weights(weight, 5)
    assert levels == 31 and torch.equal(codes.abs().amax(dim=1), torch.full((8,), 31.0))
    slices = slice_codes(codes, 5)
    assert set(torch.unique(slices).tolist()) <= {-1, 0, 1}
    recombined = sum(2 ** k * slices[k].double() for k in range(5))
    assert torch.equal(recombined, codes.double())
    assert torch.allclose(scale[:, None] * codes / levels, weight, atol=float(scale.max()) / 62 + 1e-7)


def _many_reads(tile, inputs, n_reads, seed):
    generator = torch.Generator().manual_seed(seed)
    return torch.stack([tile(inputs, generator=generator) for _ in range(n_reads)])


def test_column_read_noise_matches_per_cell_reference(card):
    # A large read noise makes the statistics visible; the fast model must reproduce the per-cell draws.
    noisy_card = dataclasses.replace(card, data_bit=dataclasses.replace(card.data_bit, read_noise_ln=0.2))
    weight = _grid_weights(torch.Generator().manual_seed(1), 6, 40, 1).float()
    inputs = torch.randn(3, 40, generator=torch.Generator().manual_seed(2))
    base = CrossbarConfig.ideal(weight_bits=1, read_noise=True, device_variation=True, array_rows=16)
    program = torch.Generator().manual_seed(3)
    column = CrossbarTile.program(weight, config=base, card=noisy_card, generator=program)
    per_cell = CrossbarTile(40, 6, config=dataclasses.replace(base, read_noise_model=ReadNoiseModel.PER_CELL),
                            card=noisy_card)
    per_cell.load_state_dict(column.state_dict())
    n_reads = 3000
    fast, reference = _many_reads(column, inputs, n_reads, 4), _many_reads(per_cell, inputs, n_reads, 5)
    # Means agree within 5 standard errors, variances within 5 standard errors of a variance estimate.
    standard_error = reference.std(dim=0) / math.sqrt(n_reads)
    assert torch.all((fast.mean(dim=0) - reference.mean(dim=0)).abs() < 5 * math.sqrt(2) * standard_error)
    ratio = fast.var(dim=0) / reference.var(dim=0)
    assert torch.all((ratio - 1).abs() < 5 * math.sqrt(4 / n_reads))
    # And both have the analytic variance sum_i v_i^2 Var(G_i), Var(G e^-e) = G^2 e^(s^2) (e^(s^2) - 1).
    sigma2 = noisy_card.data_bit.read_noise_ln ** 2
    magnitude = inputs.abs().amax(dim=1, keepdim=True).double()
    volts = column.full_scale_V * inputs.double() / magnitude
    cell_variance = (column.conductance_plus_S[0].double() ** 2 + column.conductance_minus_S[0].double() ** 2) \
        * math.exp(sigma2) * math.expm1(sigma2)
    analytic = (volts ** 2 @ cell_variance.T) * (magnitude * column.weight_scale.double() / column.unit_current_A) ** 2
    assert torch.all((reference.double().var(dim=0) / analytic - 1).abs() < 5 * math.sqrt(2 / n_reads))


def test_programming_variation_follows_the_card(card):
    # One word line per array: 256 arrays of 64 parallel-state devices (weights all +1: pairs (P, AP)).
    config = CrossbarConfig(weight_bits=1, array_rows=1, array_cols=64, read_noise=False)
    weight = torch.ones(64, 256)
    tile = CrossbarTile.program(weight, config=config, card=card, generator=torch.Generator().manual_seed(9))
    log_conductance = torch.log(tile.conductance_plus_S[0].double())  # (64 devices, 256 arrays)
    device_sigma, array_sigma = card.data_bit.sigma_ln_r_device, card.data_bit.sigma_ln_r_array
    # Within arrays the spread is the device-to-device sigma; between array means, the array-to-array one
    # (plus the device spread averaged over 64 devices). Tolerances: 5 standard errors of a std estimate.
    within = (log_conductance - log_conductance.mean(dim=0)).square().sum() / (63 * 256)
    assert abs(math.sqrt(float(within)) - device_sigma) < 5 * device_sigma / math.sqrt(2 * 63 * 256)
    between = math.sqrt(array_sigma ** 2 + device_sigma ** 2 / 64)
    assert abs(float(log_conductance.mean(dim=0).std()) - between) < 5 * between / math.sqrt(2 * 255)
    assert torch.equal(tile.conductance_plus_S, CrossbarTile.program(
        weight, config=config, card=card, generator=torch.Generator().manual_seed(9)).conductance_plus_S)


def test_first_order_ir_drop_matches_nodal_solution_to_second_order():
    rng = np.random.default_rng(0)
    conductance = rng.uniform(6e-6, 1.2e-5, (12, 20))
    voltages = rng.uniform(-0.2, 0.2, 12)
    ideal = voltages @ conductance
    errors = []
    for resistance in (0.5, 5.0):
        exact = solve_crossbar_currents(conductance, voltages, resistance)
        first = voltages @ first_order_conductance(torch.tensor(conductance), resistance).numpy()
        assert np.abs(exact - ideal).max() > 10 * np.abs(first - exact).max()
        errors.append(np.abs(first - exact).max())
    # The neglected terms are second order: 10x the wire resistance, ~100x the error.
    assert 50 < errors[1] / errors[0] < 200


def test_ir_drop_tile_uses_the_first_order_conductances(card, torch_generator):
    config = CrossbarConfig.ideal(weight_bits=1, ir_drop=True, wire_resistance_per_cell_ohm=2.0, array_rows=8,
                                  array_cols=6)
    weight = _grid_weights(torch_generator, 6, 8, 1)
    tile = CrossbarTile.program(weight, config=config, card=card, generator=None)
    layout = TileLayout.of(8, 6, config)
    physical = layout.physical_arrays(tile.conductance_plus_S.double(), tile.conductance_minus_S.double(),
                                      tile.conductance_antiparallel_S)[0, 0].numpy()
    inputs = torch.randn(1, 8, generator=torch_generator, dtype=torch.float64)
    volts = tile.full_scale_V * inputs[0].numpy() / float(inputs.abs().max())
    currents = solve_crossbar_currents(physical, volts, 2.0)
    exact = (currents[0::2] - currents[1::2]) / tile.unit_current_A * float(inputs.abs().max())
    exact = exact * tile.weight_scale.numpy()
    ideal = (inputs @ weight.T)[0].numpy()
    emulated = tile(inputs)[0].numpy()
    assert np.abs(exact - ideal).max() > 5 * np.abs(emulated - exact).max()


def test_ir_drop_outside_first_order_range_is_refused(card):
    config = CrossbarConfig(ir_drop=True, wire_resistance_per_cell_ohm=5.0)
    with pytest.raises(ValueError, match="wire_resistance_per_cell_ohm.*first-order"):
        CrossbarTile.program(torch.ones(256, 256), config=config, card=card, generator=torch.Generator())


def test_counters_of_a_partitioned_bit_sliced_layer(card, torch_generator):
    config = CrossbarConfig(weight_bits=2, array_rows=128, array_cols=64)
    layer = CrossbarLinear(300, 70, config=config, card=card, generator=torch_generator)
    with track_ops() as programming:
        layer.program(generator=torch_generator)
    layer.eval()
    with track_ops() as counts:
        layer(torch.randn(5, 300, generator=torch_generator), generator=torch_generator)
    columns = 140  # 70 outputs x 2 slices; 3 row blocks x 3 column blocks = 9 arrays
    assert programming.cell_writes == 2 * columns * 300
    assert counts.mvm_calls == 5 * 9
    assert counts.cell_reads == 5 * 2 * columns * 300
    assert counts.dac_conversions == 5 * 300 * 3
    assert counts.adc_conversions == 5 * columns * 3
    assert counts.digital_adds == 5 * (columns * 2 + 70 * 1 + 70)  # row blocks, slices, bias
    assert counts.pbit_pulses == 0 and counts.trng_bits_generated == 0


def test_weights_with_nan_are_rejected_by_position(card):
    weight = torch.zeros(3, 4)
    weight[1, 2] = float("inf")
    with pytest.raises(ValueError, match=r"weight: entry \(1, 2\) is inf"):
        CrossbarTile.program(weight, config=CrossbarConfig(), card=card, generator=torch.Generator())
    tile = CrossbarTile.program(torch.ones(3, 4), config=CrossbarConfig(read_noise=False), card=card,
                                generator=torch.Generator())
    with pytest.raises(ValueError, match=r"inputs: expected shape \(rows, 4\)"):
        tile(torch.ones(2, 5))


@pytest.mark.gpu
def test_ideal_tile_on_cuda(card):
    generator = torch.Generator(device="cuda").manual_seed(1)
    weight = torch.randn(19, 37, generator=generator, device="cuda", dtype=torch.float64)
    tile = CrossbarTile.program(weight, config=CrossbarConfig.ideal(array_rows=7), card=card, generator=None)
    inputs = torch.randn(6, 37, generator=generator, device="cuda", dtype=torch.float64)
    torch.testing.assert_close(tile(inputs), inputs @ weight.T, rtol=1e-12, atol=1e-11)
    noisy = CrossbarTile.program(weight.float(), config=CrossbarConfig(), card=card, generator=generator)
    first = noisy(inputs.float(), generator=torch.Generator(device="cuda").manual_seed(2))
    second = noisy(inputs.float(), generator=torch.Generator(device="cuda").manual_seed(2))
    assert first.device.type == "cuda" and torch.equal(first, second)
