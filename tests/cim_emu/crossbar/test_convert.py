"""cim_emu.convert / program / calibrate: a user's torch model on crossbar tiles."""

from __future__ import annotations

import io

import pytest
import torch
from torch import nn

import cim_emu
from cim_emu import (
    CrossbarConfig,
    CrossbarConv2d,
    CrossbarLinear,
    MCDropConnectConv2d,
    MCDropConnectLinear,
    PBitActivation,
    generator_scope,
)


def _generator(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


class UserNet(nn.Module):
    """A user's model with its own forward: convs with stride/padding/dilation, a norm, a linear head."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(3, 6, 3, padding=1), nn.ReLU(),
                                      nn.Conv2d(6, 8, 3, stride=2, dilation=2, padding=2), nn.BatchNorm2d(8),
                                      nn.Tanh())
        self.head = nn.Linear(8 * 4 * 4, 5)

    def forward(self, inputs):
        return self.head(self.features(inputs).flatten(1))


def _user_net(seed: int = 0) -> UserNet:
    generator = _generator(seed)
    net = UserNet()
    with torch.no_grad():
        for parameter in net.parameters():
            parameter.copy_(torch.rand(parameter.shape, generator=generator) * 0.6 - 0.3)
        net.features[3].running_mean.copy_(torch.rand(8, generator=generator) * 0.1)
        net.features[3].running_var.copy_(1 + torch.rand(8, generator=generator))
    return net.eval()


def test_ideal_conversion_reproduces_the_float_model():
    model = _user_net()
    inputs = torch.randn(4, 3, 8, 8, generator=_generator(1))
    expected = model(inputs)
    converted = cim_emu.convert(model, config=CrossbarConfig.ideal())
    cim_emu.program(converted, generator=_generator(2)).eval()
    assert isinstance(converted.features[0], CrossbarConv2d) and isinstance(converted.head, CrossbarLinear)
    assert all(layer.programmed for layer in (converted.features[0], converted.features[2], converted.head))
    torch.testing.assert_close(converted(inputs), expected, rtol=1e-5, atol=1e-5)
    # The original is untouched.
    assert isinstance(model.head, nn.Linear)


def test_state_dict_round_trip_of_a_programmed_model():
    config = CrossbarConfig(weight_bits=3)
    converted = cim_emu.convert(_user_net(), config=config)
    cim_emu.program(converted, generator=_generator(3)).eval()
    buffer = io.BytesIO()
    torch.save(converted.state_dict(), buffer)
    buffer.seek(0)
    restored = cim_emu.convert(_user_net(seed=9), config=config)
    restored.load_state_dict(torch.load(buffer, weights_only=True))
    restored.eval()
    inputs = torch.randn(3, 3, 8, 8, generator=_generator(4))
    with generator_scope(_generator(5)):
        expected = converted(inputs)
    with generator_scope(_generator(5)):
        torch.testing.assert_close(restored(inputs), expected, rtol=0, atol=0)


def test_report_lists_unsupported_and_keeps_shipped_layers():
    shipped = CrossbarLinear(4, 4, generator=_generator(0))
    model = nn.Sequential(nn.Conv2d(4, 4, 3, groups=2), nn.BatchNorm2d(4), nn.Flatten(), nn.Linear(4, 4), shipped)
    converted, report = cim_emu.convert(model, report=True)
    assert report.converted == (("3", "CrossbarLinear"),)
    unsupported = {name: reason for name, _, reason in report.unsupported}
    assert set(unsupported) == {"0", "1"} and "groups=2" in unsupported["0"]
    assert type(converted[0]) is nn.Conv2d and type(converted[1]) is nn.BatchNorm2d
    assert type(converted[4]) is CrossbarLinear
    torch.testing.assert_close(converted[4].weight, shipped.weight)
    assert report.to_dict()["converted"] == [["3", "CrossbarLinear"]]


def test_mc_dropconnect_predicate_chooses_layers_by_name():
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Flatten(), nn.Linear(2 * 4 * 4, 3))
    converted = cim_emu.convert(model, mc_dropconnect=lambda name: name == "0")
    assert isinstance(converted[0], MCDropConnectConv2d) and isinstance(converted[2], CrossbarLinear)
    everything = cim_emu.convert(model, mc_dropconnect=True)
    assert isinstance(everything[0], MCDropConnectConv2d) and isinstance(everything[2], MCDropConnectLinear)
    inputs = torch.rand(2, 1, 6, 6, generator=_generator(0))
    with generator_scope(_generator(1)):
        first = everything(inputs)
    with generator_scope(_generator(1)):
        again = everything(inputs)
    with generator_scope(_generator(2)):
        other = everything(inputs)
    torch.testing.assert_close(first, again, rtol=0, atol=0)
    assert not torch.equal(first, other)
    with pytest.raises(ValueError, match="generator"):
        everything(inputs)


def test_bad_input_names_the_module_or_parameter():
    with pytest.raises(ValueError, match="no nn.Linear or nn.Conv2d"):
        cim_emu.convert(nn.Sequential(nn.ReLU(), nn.BatchNorm1d(3)))

    def broken(name):
        raise KeyError("oops")

    model = nn.Sequential(nn.Linear(3, 3), nn.Linear(3, 2))
    with pytest.raises(ValueError, match="predicate raised KeyError.*module '0'"):
        cim_emu.convert(model, mc_dropconnect=broken)
    with pytest.raises(ValueError, match="returned 'yes' for module '0'"):
        cim_emu.convert(model, mc_dropconnect=lambda name: "yes")
    with torch.no_grad():
        model[1].weight[1, 2] = float("nan")
    with pytest.raises(ValueError, match=r"1\.weight: entry \(1, 2\) is nan"):
        cim_emu.convert(model)
    with pytest.raises(ValueError, match="0: config.weight_bits"):
        cim_emu.convert(nn.Sequential(nn.Linear(3, 3)), config=CrossbarConfig(weight_bits=4), mc_dropconnect=True)
    with pytest.raises(ValueError, match="program"):
        cim_emu.calibrate(cim_emu.convert(nn.Sequential(nn.Linear(3, 3))), torch.zeros(2, 3))


def test_calibration_brings_a_varied_model_closer_to_the_float_model():
    model = _user_net()
    config = CrossbarConfig(weight_bits=4, read_noise=False)
    converted = cim_emu.convert(model, config=config)
    cim_emu.program(converted, generator=_generator(6)).eval()
    calibration = [torch.randn(16, 3, 8, 8, generator=_generator(7)) for _ in range(2)]
    held_out = torch.randn(16, 3, 8, 8, generator=_generator(8))
    target = model(held_out)
    before = (converted(held_out) - target).abs().mean()
    cim_emu.calibrate(converted, calibration)
    after = (converted(held_out) - target).abs().mean()
    assert float(after.detach()) < float(before.detach())
    assert converted.training is False


def test_program_draws_pbit_variation_and_scope_reaches_pbits():
    model = nn.Sequential(nn.Linear(4, 6), PBitActivation(6), nn.Linear(6, 2))
    converted = cim_emu.convert(model, config=CrossbarConfig(read_noise=False))
    cim_emu.program(converted, generator=_generator(0)).eval()
    assert converted[1].programmed and bool(converted[1].v50_offsets_V.abs().sum() > 0)
    inputs = torch.randn(3, 4, generator=_generator(1))
    with generator_scope(_generator(2)):
        outputs = converted(inputs)
    assert outputs.shape == (3, 2)
    with pytest.raises(ValueError, match="generator"):
        converted(inputs)
