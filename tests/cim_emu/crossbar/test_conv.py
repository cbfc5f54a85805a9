"""CrossbarConv2d and MCDropConnectConv2d: im2col onto the linear crossbar layers."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from cim_emu import CrossbarConfig, CrossbarConv2d, CrossbarLinear, MCDropConnectConv2d, track_ops
from cim_emu.crossbar.layers import conv as conv_module


def _generator(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize("stride, padding, dilation", [(1, 0, 1), (2, 1, 1), (1, 2, 2), ((2, 1), (0, 1), (1, 2))])
def test_ideal_tile_equals_conv2d(stride, padding, dilation):
    layer = CrossbarConv2d(3, 5, (3, 2), stride=stride, padding=padding, dilation=dilation,
                           config=CrossbarConfig.ideal(), generator=_generator(0))
    inputs = torch.randn(2, 3, 9, 8, generator=_generator(1))
    expected = F.conv2d(inputs, layer.weight.detach(), layer.bias.detach(), stride=stride, padding=padding,
                        dilation=dilation)
    # The float path (before program) and the programmed ideal tile both compute the exact convolution.
    torch.testing.assert_close(layer(inputs), expected, rtol=1e-5, atol=1e-5)
    layer.program(generator=None).eval()
    torch.testing.assert_close(layer(inputs), expected, rtol=1e-5, atol=1e-5)


def test_conv_equals_its_linear_layer_on_patches():
    """Same physics: the conv output is the linear layer's output on the unfolded patches, noise included."""
    config = CrossbarConfig(weight_bits=2)
    layer = CrossbarConv2d(2, 4, 3, padding=1, config=config, generator=_generator(0))
    layer.program(generator=_generator(1)).eval()
    inputs = torch.rand(3, 2, 6, 6, generator=_generator(2))
    outputs = layer(inputs, generator=_generator(3))
    patches = F.unfold(inputs, 3, padding=1).transpose(1, 2).reshape(-1, 18)
    reference = layer.linear(patches, generator=_generator(3)).reshape(3, 36, 4).transpose(1, 2).reshape(3, 4, 6, 6)
    torch.testing.assert_close(outputs, reference, rtol=0, atol=0)


def test_counters_are_those_of_one_mvm_per_output_pixel():
    layer = CrossbarConv2d(2, 4, 3, stride=2, config=CrossbarConfig(), generator=_generator(0))
    linear = CrossbarLinear(18, 4, config=CrossbarConfig(), generator=_generator(0))
    inputs = torch.rand(2, 2, 7, 7, generator=_generator(1))
    with track_ops() as conv_counts:
        layer(inputs)
    with track_ops() as linear_counts:
        linear(torch.rand(2 * 9, 18, generator=_generator(1)))
    assert conv_counts.to_dict() == linear_counts.to_dict()
    assert conv_counts.mvm_calls > 0 and conv_counts.adc_conversions > 0


@pytest.mark.parametrize("programmed", [False, True])
def test_chunking_bounds_memory_and_keeps_results(monkeypatch, programmed):
    """Both the unfolding path (float path here) and the tile's patch-major path chunk by images."""
    layer = CrossbarConv2d(2, 3, 3, padding=1, config=CrossbarConfig(read_noise=False), generator=_generator(0))
    if programmed:
        layer.program(generator=_generator(2)).eval()
        assert layer.tile.convolves_images(torch.zeros(1, 2, 6, 6))
    inputs = torch.rand(5, 2, 6, 6, generator=_generator(1))
    whole = layer(inputs)
    seen = []
    target = (type(layer.tile), "convolve") if programmed else (conv_module.F, "unfold")
    original = getattr(*target)

    def spy(*args, **kwargs):
        seen.append(args[1 if programmed else 0].shape[0])
        return original(*args, **kwargs)

    # A budget of two images' patches: three chunks (2, 2, 1), identical outputs.
    monkeypatch.setattr(conv_module, "_CHUNK_ELEMENTS", 2 * 36 * 18)
    monkeypatch.setattr(*target, spy)
    torch.testing.assert_close(layer(inputs), whole, rtol=0, atol=0)
    assert seen == [2, 2, 1]


def test_gradients_flow_to_weight_and_input():
    layer = CrossbarConv2d(2, 3, 3, config=CrossbarConfig(), generator=_generator(0))
    inputs = torch.rand(2, 2, 5, 5, generator=_generator(1), requires_grad=True)
    layer(inputs).square().sum().backward()
    assert layer.linear.weight.grad is not None and bool(layer.linear.weight.grad.abs().sum() > 0)
    assert bool(inputs.grad.abs().sum() > 0)


def test_bad_input_is_refused_with_the_field_named():
    with pytest.raises(ValueError, match="groups"):
        CrossbarConv2d(4, 4, 3, groups=2)
    with pytest.raises(ValueError, match="kernel_size"):
        CrossbarConv2d(4, 4, 0)
    with pytest.raises(ValueError, match="padding"):
        CrossbarConv2d(4, 4, 3, padding=-1)
    layer = CrossbarConv2d(2, 4, 3)
    with pytest.raises(ValueError, match="in_channels"):
        layer(torch.zeros(1, 3, 5, 5))
    with pytest.raises(ValueError, match="smaller than the dilated kernel"):
        layer(torch.zeros(1, 2, 2, 2))


def test_mc_conv_samples_shape_and_mean():
    """Each output pixel of each sample gets fresh masks; the sample mean approaches expected_output."""
    config = CrossbarConfig(weight_bits=1, read_noise=False, adc_bits=None, adc_range_cells=None, dac_bits=None)
    layer = MCDropConnectConv2d(2, 3, 3, padding=1, config=config, generator=_generator(0))
    inputs = torch.rand(2, 2, 4, 4, generator=_generator(1))
    n_samples = 400
    samples = layer(inputs, generator=_generator(2), n_samples=n_samples)
    assert samples.shape == (n_samples, 2, 3, 4, 4)
    assert layer(inputs, generator=_generator(2)).shape == (2, 3, 4, 4)
    expected = layer.expected_output(inputs)
    standard_error = samples.std(dim=0) / n_samples ** 0.5
    assert bool(((samples.mean(dim=0) - expected).abs() <= 5 * standard_error + 1e-6).all())
    with pytest.raises(ValueError, match="generator"):
        layer(inputs)
    with pytest.raises(ValueError, match="n_samples"):
        layer(inputs, generator=_generator(3), n_samples=0)


def test_state_dict_round_trip_of_programmed_conv():
    config = CrossbarConfig(weight_bits=2)
    layer = CrossbarConv2d(2, 4, 3, config=config, generator=_generator(0)).program(generator=_generator(1)).eval()
    copy = CrossbarConv2d(2, 4, 3, config=config, generator=_generator(5))
    copy.load_state_dict(layer.state_dict())
    copy.eval()
    inputs = torch.rand(2, 2, 5, 5, generator=_generator(2))
    torch.testing.assert_close(copy(inputs, generator=_generator(3)), layer(inputs, generator=_generator(3)),
                               rtol=0, atol=0)


@pytest.mark.parametrize("cpu_path", ["int8", "float32"])
@pytest.mark.parametrize("weight_bits, array_rows, dtype, geometry", [
    (1, 256, torch.float32, (1, 1, 1)),
    (2, 16, torch.float32, (2, 0, 1)),
    (3, 16, torch.float32, ((2, 1), (0, 2), (1, 2))),
    (2, 16, torch.float64, (1, 1, 1)),
    (1, 16, torch.float32, (1, 4, 1)),     # whole output columns and rows in the zero padding
])
def test_patch_major_tile_path_is_bit_identical_to_the_linear_layer(monkeypatch, cpu_path, weight_bits, array_rows,
                                                                    dtype, geometry):
    """The programmed no-noise conv (DAC codes written from the images, one GEMM per row block and image) gives
    the linear layer's outputs on the unfolded patches bit for bit, several row blocks and slices included."""
    from cim_emu.crossbar.kernels import dispatch

    monkeypatch.setenv(dispatch.CPU_PATH_ENV, cpu_path)
    stride, padding, dilation = geometry
    config = CrossbarConfig(weight_bits=weight_bits, read_noise=False, array_rows=array_rows)
    layer = CrossbarConv2d(5, 7, 3, stride=stride, padding=padding, dilation=dilation, config=config,
                           generator=_generator(0), dtype=dtype).program(generator=_generator(1)).eval()
    inputs = torch.randn(3, 5, 11, 10, generator=_generator(2), dtype=dtype)
    inputs[0, :, :5, :5] = 0     # all-zero patches take the pre-scale 1
    # float32 tiles take the patch-major path; float64 tiles (the exact reference) keep the unfolding path.
    assert layer.tile.convolves_images(inputs) == (dtype == torch.float32)
    with track_ops() as conv_counts:
        outputs = layer(inputs)
    patches = F.unfold(inputs, 3, padding=layer.padding, stride=layer.stride, dilation=layer.dilation)
    n_pixels = patches.shape[-1]
    with track_ops() as linear_counts:
        reference = layer.linear(patches.transpose(1, 2).reshape(-1, 45))
    reference = reference.reshape(3, n_pixels, 7).transpose(1, 2).reshape(outputs.shape)
    torch.testing.assert_close(outputs, reference, rtol=0, atol=0)
    assert conv_counts.to_dict() == linear_counts.to_dict()


def test_non_finite_and_mistyped_inputs_name_the_layer():
    layer = CrossbarConv2d(2, 4, 3, generator=_generator(0))
    for value in (float("nan"), float("inf")):
        inputs = torch.zeros(2, 2, 5, 5)
        inputs[1, 0, 2, 3] = value
        with pytest.raises(ValueError, match=r"CrossbarConv2d got .*\(1, 0, 2, 3\)"):
            layer(inputs)
    with pytest.raises(ValueError, match="CrossbarConv2d has torch.float32 weights but got a torch.float64"):
        layer(torch.zeros(1, 2, 5, 5, dtype=torch.float64))
    mc = MCDropConnectConv2d(2, 4, 3, config=CrossbarConfig(weight_bits=1), generator=_generator(0))
    with pytest.raises(ValueError, match="MCDropConnectConv2d got nan"):
        mc(torch.full((1, 2, 5, 5), float("nan")), generator=_generator(1))
