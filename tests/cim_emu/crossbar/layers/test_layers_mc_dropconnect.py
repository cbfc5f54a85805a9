"""MCDropConnectLinear: per-cell keep probabilities, fresh masks, exact mean, tile = training path."""

from __future__ import annotations

import dataclasses
import math

import pytest
import torch

import devices
from cim_emu import CrossbarConfig, MCDropConnectLinear, ReadNoiseModel, WritePulse, track_ops


@pytest.fixture(scope="module")
def card():
    return devices.default_card()


def _layer(card, config=None, seed=0, **kwargs):
    return MCDropConnectLinear(40, 9, config=config or CrossbarConfig(array_rows=16), card=card,
                               generator=torch.Generator().manual_seed(seed), **kwargs)


def test_keep_probabilities_nominal_then_deployed(card):
    pulse = WritePulse.for_keep_probability(card, 0.7)
    layer = _layer(card, pulse=pulse)
    assert torch.allclose(layer.keep_probabilities, torch.full((9, 40), 0.7, dtype=torch.float64), atol=1e-9)
    layer.program(generator=torch.Generator().manual_seed(1))
    deployed = layer.keep_probabilities
    offsets = layer.tile.v50_offsets_V.double()
    expected = devices.switching_probability(card.p_bit, pulse.voltage_V, pulse.pulse_width_s, v50_offset_V=offsets)
    assert torch.allclose(deployed, expected)
    assert float(deployed.std()) > 0.01  # the p-bits of Fig. 13 differ
    # Zero weights are never pulsed: their cells realise probability 0.
    zero = layer.tile.codes == 0
    assert bool(zero.any()) and float(layer.tile.deployed_keep_probabilities[zero].max()) == 0.0


def test_generator_is_required_and_masks_are_fresh(card, torch_generator):
    layer = _layer(card)
    inputs = torch.randn(1, 40, generator=torch_generator).expand(64, 40)
    with pytest.raises(ValueError, match="generator: MCDropConnectLinear is stochastic"):
        layer(inputs)
    outputs = layer(inputs, generator=torch_generator)
    # Identical input rows get different masks, and so do samples and calls.
    assert torch.unique(outputs, dim=0).shape[0] > 32
    samples = layer(inputs[:2], generator=torch_generator, n_samples=5)
    assert samples.shape == (5, 2, 9) and not torch.equal(samples[0], samples[1])
    with pytest.raises(ValueError, match="n_samples: must be an integer >= 1"):
        layer(inputs, generator=torch_generator, n_samples=0)


@pytest.mark.parametrize("programmed", [False, True])
def test_expected_output_is_the_mean_over_masks(card, programmed):
    config = CrossbarConfig(array_rows=16, adc_bits=None, adc_range_cells=None)
    layer = _layer(card, config=config)
    if programmed:
        layer.program(generator=torch.Generator().manual_seed(2))
    layer.eval()
    inputs = torch.randn(4, 40, generator=torch.Generator().manual_seed(3), dtype=torch.float32)
    n_samples = 20000
    samples = layer(inputs, generator=torch.Generator().manual_seed(4), n_samples=n_samples).double()
    standard_error = samples.std(dim=0) / math.sqrt(n_samples)
    assert torch.all((samples.mean(dim=0) - layer.expected_output(inputs).double()).abs() < 5 * standard_error)


def test_tile_equals_training_path_with_ideal_devices(card, torch_generator):
    # Same generator state -> same mask seed: the emulated tile and the float path agree to rounding.
    config = CrossbarConfig(array_rows=16, dac_bits=None, adc_bits=7, adc_range_cells=6.0, read_noise=False,
                            device_variation=False)
    layer = _layer(card, config=config).double()
    inputs = torch.randn(30, 40, generator=torch_generator, dtype=torch.float64)
    float_path = layer(inputs, generator=torch.Generator().manual_seed(5), n_samples=3)
    layer.program(generator=None).eval()
    tile = layer(inputs, generator=torch.Generator().manual_seed(5), n_samples=3)
    torch.testing.assert_close(tile, float_path, rtol=1e-10, atol=1e-10)


def test_column_read_noise_has_the_per_cell_mean_and_variance(card):
    noisy = dataclasses.replace(card, data_bit=dataclasses.replace(card.data_bit, read_noise_ln=0.2))
    config = CrossbarConfig(array_rows=16, adc_bits=None, adc_range_cells=None, dac_bits=None)
    layer = _layer(noisy, config=config).program(generator=torch.Generator().manual_seed(6)).eval()
    reference = _layer(noisy, config=dataclasses.replace(config, read_noise_model=ReadNoiseModel.PER_CELL))
    reference.load_state_dict(layer.state_dict())
    reference.eval()
    inputs = torch.randn(2, 40, generator=torch.Generator().manual_seed(7))
    n_samples = 8000
    fast = layer(inputs, generator=torch.Generator().manual_seed(8), n_samples=n_samples).double()
    exact = reference(inputs, generator=torch.Generator().manual_seed(9), n_samples=n_samples).double()
    standard_error = exact.std(dim=0) / math.sqrt(n_samples)
    assert torch.all((fast.mean(dim=0) - exact.mean(dim=0)).abs() < 5 * math.sqrt(2) * standard_error)
    # The masks' spread and the read noise together: marginal variances agree (the mask-averaged read
    # variance is exactly the expected conditional variance).
    ratio = fast.var(dim=0) / exact.var(dim=0)
    assert torch.all((ratio - 1).abs() < 5 * math.sqrt(4 / n_samples))


def test_counters_count_pulses_resets_and_reads(card, torch_generator):
    layer = _layer(card)
    layer.program(generator=torch_generator).eval()
    pulsed = int(torch.count_nonzero(layer.tile.codes))
    with track_ops() as counts:
        layer(torch.randn(3, 40, generator=torch_generator), generator=torch_generator, n_samples=4)
    assert counts.pbit_pulses == counts.pbit_resets == 12 * pulsed
    assert counts.mvm_calls == 12 * 3  # three row blocks of 16 rows, one column block
    assert counts.cell_reads == 12 * 2 * 9 * 40
    assert counts.adc_conversions == 12 * 9 * 3
    assert counts.cell_writes == 0 and counts.trng_bits_generated == 0
    # A layer restored from a state_dict counts the same pulses (the tile derives its count on loading).
    restored = _layer(card)
    restored.load_state_dict(layer.state_dict())
    with track_ops() as restored_counts:
        restored.eval()(torch.randn(3, 40, generator=torch_generator), generator=torch_generator, n_samples=4)
    assert restored_counts.pbit_pulses == restored_counts.pbit_resets == 12 * pulsed


def test_multi_bit_weights_are_refused(card):
    with pytest.raises(ValueError, match="config.weight_bits: a probabilistic differential pair holds one ternary"):
        MCDropConnectLinear(4, 3, config=CrossbarConfig(weight_bits=2), card=card)
    with pytest.raises(ValueError, match="pulse: expected a WritePulse"):
        MCDropConnectLinear(4, 3, card=card, pulse=1.5)


def test_float_path_expected_output_is_differentiable(card, torch_generator):
    # A zero-mean noise layer subtracts its exact mean during training: gradients must flow through it.
    layer = _layer(card)
    inputs = torch.randn(5, 40, generator=torch_generator, requires_grad=True)
    residual = layer(inputs, generator=torch_generator, n_samples=8) - layer.expected_output(inputs)
    residual.square().mean().backward()
    assert float(layer.weight.grad.abs().sum()) > 0 and float(inputs.grad.abs().sum()) > 0
    assert layer.bias.grad.abs().max() < 1e-6  # the bias cancels in sample - mean
