"""CrossbarLinear: the float path, read noise on the tile, column calibration."""

from __future__ import annotations

import dataclasses

import pytest
import torch

import devices
from cim_emu import CrossbarConfig, CrossbarLinear, hardware_aware_linear


@pytest.fixture(scope="module")
def card():
    return devices.default_card()


def test_ideal_float_path_is_torch_linear(torch_generator):
    inputs = torch.randn(9, 17, generator=torch_generator, dtype=torch.float64)
    weight = torch.randn(5, 17, generator=torch_generator, dtype=torch.float64)
    torch.testing.assert_close(hardware_aware_linear(inputs, weight, CrossbarConfig.ideal()),
                               torch.nn.functional.linear(inputs, weight), rtol=1e-13, atol=1e-13)


def test_tile_with_read_noise_needs_a_generator_and_varies(card, torch_generator):
    layer = CrossbarLinear(30, 4, card=card, generator=torch_generator)
    inputs = torch.randn(3, 30, generator=torch_generator)
    assert torch.equal(layer(inputs), layer(inputs))  # the float path is deterministic
    layer.program(generator=torch_generator).eval()
    with pytest.raises(ValueError, match="a tile with read noise is stochastic"):
        layer(inputs)
    with torch.no_grad():
        reads = torch.stack([layer(inputs, generator=torch_generator) for _ in range(50)])
    assert float(reads.std(dim=0).max()) > 0


def test_column_calibration_removes_array_to_array_gain(card, torch_generator):
    # Only array-to-array variation (no device spread, no read noise): a per-column gain and offset
    # leaves only the converters' rounding. One row block, three column blocks with different gains.
    arrays_only = dataclasses.replace(card, data_bit=dataclasses.replace(
        card.data_bit, sigma_ln_r_device=0.0, sigma_tmr_device=0.0))
    config = CrossbarConfig(array_rows=96, array_cols=8, read_noise=False, adc_bits=None, adc_range_cells=None)
    layer = CrossbarLinear(96, 24, config=config, card=arrays_only, generator=torch_generator)
    inputs = torch.randn(400, 96, generator=torch_generator)
    with torch.no_grad():
        ideal = hardware_aware_linear(inputs, layer.weight, config)
        layer.program(generator=torch.Generator().manual_seed(3)).eval()
        before = (layer(inputs) - layer.bias - ideal).square().mean()
        layer.calibrate(inputs[:200])
        after = (layer(inputs[200:]) - layer.bias - ideal[200:]).square().mean()
    assert float(before) > 1e-4 * float(ideal.square().mean())
    assert float(after) < 1e-6 * float(before)
    with pytest.raises(ValueError, match="calibrate: program the layer first"):
        CrossbarLinear(4, 2, card=card).calibrate(torch.ones(3, 4))
