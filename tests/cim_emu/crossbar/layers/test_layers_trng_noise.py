"""The ex-situ baseline: standardised sums of TRNG bits, and the bits it costs."""

from __future__ import annotations

import dataclasses
import math

import pytest
import torch
from scipy import stats

import devices
from cim_emu import TRNGGaussianNoise, WritePulse, track_ops


def test_noise_has_unit_moments_and_binomial_kurtosis():
    noise = TRNGGaussianNoise(bits_per_sample=8)
    samples = noise((200000,), generator=torch.Generator().manual_seed(1)).double()
    n = samples.numel()
    assert abs(float(samples.mean())) < 5 / math.sqrt(n)
    assert abs(float(samples.var()) - 1) < 5 * math.sqrt(2 / n)
    # Excess kurtosis of a standardised Binomial(8, 1/2) is -2/8 (standard error ~ sqrt(24 / n)).
    assert noise.excess_kurtosis == pytest.approx(-0.25, abs=1e-3)  # p is 0.5 to ~1e-3 on the default card
    assert abs(stats.kurtosis(samples.numpy()) - noise.excess_kurtosis) < 5 * math.sqrt(24 / n)


def test_bits_are_counted_and_reproducible():
    noise = TRNGGaussianNoise(bits_per_sample=16)
    with track_ops() as counts:
        first = noise((32, 10), generator=torch.Generator().manual_seed(2))
    assert first.shape == (32, 10)
    assert counts.trng_bits_generated == counts.bits_moved == 320 * 16
    assert counts.digital_adds == 320 * 15 and counts.pbit_pulses == 0
    assert torch.equal(first, noise((32, 10), generator=torch.Generator().manual_seed(2)))


def test_off_centre_pulse_is_standardised_with_its_probability():
    noise = TRNGGaussianNoise(bits_per_sample=4, pulse=WritePulse(voltage_V=1.2, pulse_width_s=7e-10))
    assert 0.1 < noise.probability < 0.45
    samples = noise(100000, generator=torch.Generator().manual_seed(3)).double()
    assert abs(float(samples.mean())) < 5 / math.sqrt(1e5)


def test_bad_settings_are_rejected():
    with pytest.raises(ValueError, match="bits_per_sample: must be an integer >= 1"):
        TRNGGaussianNoise(bits_per_sample=0)
    with pytest.raises(ValueError, match="generator: TRNGGaussianNoise is stochastic"):
        TRNGGaussianNoise()(5, generator=None)
    card = devices.default_card()
    sharp = dataclasses.replace(card, p_bit=dataclasses.replace(card.p_bit, sigma_pulse_V=1e-3))
    with pytest.raises(ValueError, match="pulse: the TRNG's switching probability is 0.0"):
        TRNGGaussianNoise(card=sharp, pulse=WritePulse(voltage_V=0.5, pulse_width_s=7e-10))
