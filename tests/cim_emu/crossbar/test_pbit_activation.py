"""PBitActivation: binary neurons firing with the card's switching law P(V(x))."""

from __future__ import annotations

import math

import pytest
import torch

import devices
from cim_emu import PBitActivation, track_ops
from cim_emu.crossbar.layers.pbit import default_gain_V


def _generator(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_median_device_fires_half_the_time_at_zero_and_has_sigmoid_slope():
    neuron = PBitActivation(1)
    zero = torch.zeros(1, 1, dtype=torch.float64, requires_grad=True)
    probability = neuron.probability(zero)
    assert float(probability.detach()) == pytest.approx(0.5, abs=1e-9)
    probability.sum().backward()
    # The default gain matches the logistic sigmoid's slope at 0.
    assert float(zero.grad) == pytest.approx(0.25, rel=1e-6)
    assert neuron.gain_V == pytest.approx(default_gain_V(devices.default_card()))


def test_probability_is_the_card_law_at_the_driver_voltage():
    card = devices.default_card()
    neuron = PBitActivation(3, card=card)
    inputs = torch.tensor([[-20.0, 0.3, 20.0]], dtype=torch.float64)
    voltage = torch.clamp(neuron.bias_V + neuron.gain_V * inputs, 0.0, 2 * neuron.bias_V)
    expected = devices.switching_probability(card.p_bit, voltage, card.p_bit.pulse_width_s)
    torch.testing.assert_close(neuron.probability(inputs), expected)
    # Saturation at both ends of the driver range.
    assert float(neuron.probability(inputs)[0, 0]) < 1e-3 and float(neuron.probability(inputs)[0, 2]) > 0.99


def test_firing_frequency_matches_probability_binomially():
    neuron = PBitActivation(4).program(generator=_generator(0))
    inputs = torch.tensor([[-3.0, -0.5, 0.5, 3.0]])
    n_samples = 20000
    bits = neuron(inputs, generator=_generator(1), n_samples=n_samples)
    assert set(torch.unique(bits).tolist()) <= {0.0, 1.0}
    probability = neuron.probability(inputs).double()[0]
    frequency = bits.double().mean(dim=0)[0]
    standard_error = torch.sqrt(probability * (1 - probability) / n_samples)
    assert bool(((frequency - probability).abs() <= 5 * standard_error + 1e-12).all())


def test_device_variation_has_the_card_spread():
    card = devices.default_card()
    n_features = 4000
    neuron = PBitActivation(n_features, card=card).program(generator=_generator(2))
    offsets = neuron.v50_offsets_V
    sigma = card.p_bit.sigma_v50_device_V
    # Standard errors of the mean and of the standard deviation of n normal draws.
    assert abs(float(offsets.mean())) <= 5 * sigma / math.sqrt(n_features)
    assert abs(float(offsets.std()) - sigma) <= 5 * sigma / math.sqrt(2 * n_features)
    # Neurons at x = 0 then fire with their own probability, not 1/2.
    spread = neuron.probability(torch.zeros(1, n_features, dtype=torch.float64))
    assert float(spread.std()) > 0.01


def test_straight_through_gradient_is_that_of_the_probability():
    neuron = PBitActivation(5).program(generator=_generator(3))
    inputs = torch.linspace(-2, 2, 10, dtype=torch.float64).reshape(2, 5).requires_grad_(True)
    neuron(inputs, generator=_generator(4)).sum().backward()
    reference_inputs = inputs.detach().clone().requires_grad_(True)
    neuron.probability(reference_inputs).sum().backward()
    torch.testing.assert_close(inputs.grad, reference_inputs.grad)


def test_samples_shape_counters_and_seed_reproducibility():
    neuron = PBitActivation(3)
    inputs = torch.zeros(2, 3, 4, 4)
    with track_ops() as counts:
        samples = neuron(inputs, generator=_generator(5), n_samples=7)
    assert samples.shape == (7, 2, 3, 4, 4)
    assert counts.pbit_pulses == samples.numel() and counts.pbit_resets == samples.numel()
    assert neuron(inputs, generator=_generator(5)).shape == (2, 3, 4, 4)
    torch.testing.assert_close(neuron(inputs, generator=_generator(6), n_samples=7),
                               neuron(inputs, generator=_generator(6), n_samples=7), rtol=0, atol=0)


def test_bad_input_is_refused():
    neuron = PBitActivation(3)
    with pytest.raises(ValueError, match="generator"):
        neuron(torch.zeros(1, 3))
    with pytest.raises(ValueError, match="NaN"):
        neuron(torch.tensor([[0.0, float("nan"), 0.0]]), generator=_generator(0))
    with pytest.raises(ValueError, match="n_samples"):
        neuron(torch.zeros(1, 3), generator=_generator(0), n_samples=0)
    with pytest.raises(ValueError, match="n_features"):
        neuron(torch.zeros(1, 4), generator=_generator(0))
    with pytest.raises(ValueError, match="gain_V"):
        PBitActivation(3, gain_V=-1.0)
    with pytest.raises(ValueError, match="n_features"):
        PBitActivation(0)


def test_state_dict_round_trip_keeps_the_devices():
    neuron = PBitActivation(6, gain_V=0.3).program(generator=_generator(7))
    copy = PBitActivation(6)
    copy.load_state_dict(neuron.state_dict())
    assert copy.programmed and copy.gain_V == pytest.approx(0.3)
    inputs = torch.randn(4, 6, generator=_generator(8))
    torch.testing.assert_close(copy(inputs, generator=_generator(9)), neuron(inputs, generator=_generator(9)),
                               rtol=0, atol=0)
