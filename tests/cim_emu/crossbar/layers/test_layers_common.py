"""One contract checker run over every crossbar layer: shapes, generators, state_dict, training, bad input."""

from __future__ import annotations

import dataclasses
import io

import pytest
import torch

import devices
from cim_emu import CrossbarConfig, CrossbarLinear, MCDropConnectLinear, PBitActivation, TRNGGaussianNoise

LAYERS = [CrossbarLinear, MCDropConnectLinear]
# PBitActivation shares the part of the contract that does not need weights: generators, state_dict, bad input.
ALL = [*LAYERS, PBitActivation]
CONFIG = CrossbarConfig(array_rows=8, array_cols=4)


def _make(kind, seed=0, **kwargs):
    if kind is PBitActivation:
        kwargs.pop("config", None)  # a p-bit neuron has no tile: the card is its whole hardware
        return PBitActivation(11, **kwargs)
    return kind(11, 6, config=kwargs.pop("config", CONFIG), generator=torch.Generator().manual_seed(seed), **kwargs)


def _run(layer, inputs, seed):
    return layer(inputs, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("kind", LAYERS)
def test_shapes_on_both_paths(kind, torch_generator):
    layer = _make(kind)
    inputs = torch.randn(2, 3, 11, generator=torch_generator)
    assert _run(layer, inputs, 1).shape == (2, 3, 6)
    layer.program(generator=torch_generator).eval()
    assert _run(layer, inputs, 1).shape == (2, 3, 6)
    assert _run(layer, torch.randn(11, generator=torch_generator), 1).shape == (6,)


@pytest.mark.parametrize("kind", ALL)
def test_same_seed_same_outputs_on_both_paths(kind, torch_generator):
    layer = _make(kind)
    inputs = torch.randn(7, 11, generator=torch_generator)
    for _ in range(2):
        assert torch.equal(_run(layer, inputs, 3), _run(layer, inputs, 3))
        layer.program(generator=torch.Generator().manual_seed(4)).eval()


@pytest.mark.parametrize("kind", ALL)
@pytest.mark.parametrize("programmed", [False, True])
def test_state_dict_round_trip_reproduces_outputs(kind, programmed, torch_generator):
    card = devices.default_card()
    card = dataclasses.replace(card, data_bit=dataclasses.replace(card.data_bit, read_noise_ln=0.03))
    layer = _make(kind, card=card)
    if programmed:
        layer.program(generator=torch_generator)
    layer.eval()
    buffer = io.BytesIO()
    torch.save(layer.state_dict(), buffer)
    buffer.seek(0)
    # A fresh layer with another config, card and initialisation: the saved state restores all of them.
    restored = _make(kind, seed=9, config=CrossbarConfig())
    restored.load_state_dict(torch.load(buffer))
    restored.eval()
    assert restored.programmed == programmed
    assert getattr(restored, "config", None) == getattr(layer, "config", None) and restored.card == card
    inputs = torch.randn(5, 11, generator=torch_generator)
    assert torch.equal(_run(restored, inputs, 7), _run(layer, inputs, 7))


@pytest.mark.parametrize("kind", LAYERS)
def test_training_path_learns_a_linear_map(kind):
    generator = torch.Generator().manual_seed(5)
    # A ternary teacher: representable by the layer, so the loss can fall far below its start.
    teacher = torch.randint(-1, 2, (6, 11), generator=generator).float()
    layer = _make(kind)
    optimizer = torch.optim.Adam(layer.parameters(), lr=2e-2)
    losses = []
    for _ in range(150):
        inputs = torch.randn(64, 11, generator=generator)
        target = inputs @ teacher.T
        if kind is MCDropConnectLinear:
            prediction = layer(inputs, generator=generator, n_samples=16).mean(dim=0)
        else:
            prediction = layer(inputs)
        loss = torch.mean((prediction - target) ** 2)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert layer.weight.grad is not None and layer.bias.grad is not None
    assert sum(losses[-10:]) < 0.25 * sum(losses[:10])


@pytest.mark.parametrize("kind", LAYERS)
def test_stale_tile_is_refused_after_the_weights_change(kind, torch_generator):
    layer = _make(kind)
    layer.program(generator=torch_generator).eval()
    layer.double()  # moving or casting keeps the tile current
    _run(layer, torch.randn(2, 11, generator=torch_generator, dtype=torch.float64), 1)
    with torch.no_grad():
        layer.weight.add_(0.1)
    with pytest.raises(ValueError, match="weight: changed since program"):
        _run(layer, torch.randn(2, 11, generator=torch_generator, dtype=torch.float64), 1)


@pytest.mark.parametrize("kind", LAYERS)
def test_bad_input_gets_a_clear_error(kind, torch_generator):
    layer = _make(kind)
    with pytest.raises(ValueError, match=r"input: expected shape \(\.\.\., 11\) \(in_features\)"):
        _run(layer, torch.randn(3, 12), 1)
    with torch.no_grad():
        layer.weight[2, 3] = float("nan")
    with pytest.raises(ValueError, match=r"weight: entry \(2, 3\) is nan"):
        _run(layer, torch.randn(3, 11), 1)
    with pytest.raises(ValueError, match=r"weight: entry \(2, 3\)"):
        layer.program(generator=torch_generator)
    with pytest.raises(ValueError, match="in_features: must be an integer >= 1"):
        kind(0, 3)
    with pytest.raises(ValueError, match="card: expected a devices.DeviceCard"):
        kind(3, 3, card={"data_bit": {}})
    state = _make(kind).state_dict()
    del state["_extra_state"]["card"]["data_bit"]["read_noise_ln"]
    with pytest.raises(ValueError, match=r"missing field\(s\) \['read_noise_ln'\]"):
        _make(kind).load_state_dict(state)


@pytest.mark.parametrize("kind", ALL)
@pytest.mark.parametrize("programmed", [False, True])
def test_non_finite_and_mistyped_inputs_get_a_clear_error(kind, programmed, torch_generator):
    layer = _make(kind)
    if programmed:
        layer.program(generator=torch_generator)
    layer.eval()
    good = torch.randn(4, 11, generator=torch_generator)
    assert _run(layer, good, 1).shape[0] == 4
    for value in (float("nan"), float("inf"), float("-inf")):
        bad = good.clone()
        bad[2, 5] = value
        with pytest.raises(ValueError, match=rf"input: {kind.__name__} got .*NaN or inf"):
            _run(layer, bad, 1)
    # Finite inputs whose float32 sum overflows are accepted (the check sums first, then tests elementwise).
    assert _run(layer, torch.full((4, 11), 3e38), 1).shape[0] == 4
    # A dtype the layer does not compute in: a ValueError that says how to cast, not torch's RuntimeError.
    wrong = [torch.long] if kind is PBitActivation else [torch.float64, torch.long]
    for dtype in wrong:
        with pytest.raises(ValueError, match=rf"{kind.__name__}.*{dtype}.*x\.float\(\)"):
            _run(layer, good.to(dtype), 1)
    if kind is PBitActivation:
        with pytest.raises(ValueError, match=r"float16.*x\.float\(\)"):
            _run(layer, good.half(), 1)
    elif programmed:
        with pytest.raises(ValueError, match="NaN or inf"):  # calibration inputs are checked the same way
            layer.calibrate(torch.full((3, 11), float("nan")))


def test_trng_noise_refuses_bad_shapes_and_dtypes(torch_generator):
    noise = TRNGGaussianNoise(4)
    for shape in (-2, (3, -1), (2.5,), "ab", None):
        with pytest.raises(ValueError, match="shape: TRNGGaussianNoise needs an int or a tuple of ints >= 0"):
            noise(shape, generator=torch_generator)
    with pytest.raises(ValueError, match="give a floating dtype"):
        noise((2, 3), generator=torch_generator, dtype=torch.long)
    state = torch_generator.get_state()
    assert noise((0, 5), generator=torch_generator).shape == (0, 5)
    assert torch.equal(torch_generator.get_state(), state)  # an empty request draws nothing
    with pytest.raises(ValueError, match="n_samples: TRNGGaussianNoise.bits needs an integer >= 1"):
        noise.bits(0, generator=torch_generator)


@pytest.mark.gpu
@pytest.mark.parametrize("kind", LAYERS)
def test_layers_on_cuda(kind):
    generator = torch.Generator(device="cuda").manual_seed(1)
    layer = _make(kind).cuda()
    inputs = torch.randn(5, 11, generator=generator, device="cuda")
    first = layer(inputs, generator=torch.Generator(device="cuda").manual_seed(2))
    assert first.device.type == "cuda"
    assert torch.equal(first, layer(inputs, generator=torch.Generator(device="cuda").manual_seed(2)))
    first.sum().backward()
    assert layer.weight.grad.device.type == "cuda"
    layer.program(generator=generator).eval()
    tile_output = layer(inputs, generator=torch.Generator(device="cuda").manual_seed(3))
    assert torch.equal(tile_output, layer(inputs, generator=torch.Generator(device="cuda").manual_seed(3)))
