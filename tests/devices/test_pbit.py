"""P-bit compact model: shape in voltage and pulse width, per-device variation, bitstream statistics."""

from __future__ import annotations

import dataclasses
import math

import pytest
import torch
from scipy import stats

import devices


@pytest.fixture
def card():
    return devices.default_card()


def test_probability_is_erf_shaped_in_voltage(card):
    # Above ~2.8 V the faster precession moves the first peak away from 700 ps and P dips slightly.
    voltages = torch.linspace(0.0, 2.5, 251, dtype=torch.float64)
    probabilities = devices.switching_probability(card.p_bit, voltages, card.p_bit.pulse_width_s)
    assert torch.all((probabilities >= 0) & (probabilities <= 1))
    assert torch.all(torch.diff(probabilities) >= -1e-12)  # monotone at the first-peak width
    assert float(probabilities[0]) < 1e-3 and float(probabilities[-1]) > 0.97


def test_probability_oscillates_and_dephases_in_width(card):
    pbit = dataclasses.replace(card.p_bit)
    widths = torch.linspace(1e-12, 20e-9, 20001, dtype=torch.float64)
    probabilities = devices.switching_probability(pbit, 2.5, widths)
    # Maxima near odd half-periods, minima near whole periods, converging to half the engaged fraction.
    peak = devices.first_peak_width_s(pbit, voltage_V=2.5)
    period = 2 * pbit.half_period_s / (1 + pbit.precession_slope_per_V * (2.5 - pbit.reference_voltage_V))
    assert abs(peak - period / 2) < 0.1 * period
    engaged = float(torch.special.ndtr(torch.tensor((2.5 - pbit.v50_V) / pbit.sigma_pulse_V)))
    assert float(probabilities[-1]) == pytest.approx(engaged / 2, abs=0.01)
    assert float(devices.switching_probability(pbit, 2.5, peak)) > float(
        devices.switching_probability(pbit, 2.5, peak + period / 2))


def test_device_offsets_shift_the_curve(card, torch_generator):
    offsets = devices.sample_v50_offsets(card.p_bit, 50000, generator=torch_generator, dtype=torch.float64)
    assert stats.kstest(offsets.numpy() / card.p_bit.sigma_v50_device_V, "norm").pvalue > 0.01
    shifted = devices.voltage_at_probability(card.p_bit, 0.5, v50_offset_V=0.1)
    # The timing factor is ~1 near the operating point, so the curve moves by the offset (to ~1 mV).
    assert shifted == pytest.approx(devices.voltage_at_probability(card.p_bit, 0.5) + 0.1, abs=2e-3)


def test_unreachable_probability_is_a_clear_error(card):
    with pytest.raises(ValueError, match="not reached"):
        # A 10 ps pulse is far too short for the magnetisation to leave its hemisphere.
        devices.voltage_at_probability(card.p_bit, 0.9, pulse_width_s=1e-11)


@pytest.mark.parametrize("voltage", [1.3, 1.5, 1.9])
def test_reset_mode_bits_are_binomial_at_the_configured_probability(card, voltage):
    generator = torch.Generator().manual_seed(11)
    n_bits = 200000
    result = devices.generate_bitstream(card, n_bits, mode=devices.WriteMode.RESET, generator=generator,
                                        voltage_V=voltage, device_variation=False)
    probability = float(result.probabilities[0])
    ones = int(result.bits.sum())
    assert stats.binomtest(ones, n_bits, probability).pvalue > 1e-3
    # Independent bits: lag-1 autocorrelation consistent with zero within 5 standard errors.
    bits = result.bits[0].double()
    centred = bits - bits.mean()
    lag1 = float((centred[1:] * centred[:-1]).mean() / centred.var())
    assert abs(lag1) < 5 / math.sqrt(n_bits)


@pytest.mark.parametrize("voltage", [1.2, 1.8])
def test_toggle_mode_autocorrelation_matches_markov_chain(card, voltage):
    generator = torch.Generator().manual_seed(12)
    n_bits = 400000
    result = devices.generate_bitstream(card, n_bits, mode=devices.WriteMode.TOGGLE, generator=generator,
                                        voltage_V=voltage, device_variation=False)
    probability = float(result.probabilities[0])
    expected = 1 - 2 * probability
    bits = result.bits[0].double()
    centred = bits - bits.mean()
    lag1 = float((centred[1:] * centred[:-1]).mean() / centred.var())
    # Standard error of the lag-1 autocorrelation of an AR(1) chain: sqrt((1 - rho^2) / n).
    assert abs(lag1 - expected) < 5 * math.sqrt((1 - expected ** 2) / n_bits)
    assert abs(float(bits.mean()) - 0.5) < 5 * 0.5 * math.sqrt((1 + expected) / (1 - expected) / n_bits)


def test_toggle_chain_continues_across_chunks(card, monkeypatch):
    import devices.bitstream as bitstream

    chunk = 64
    monkeypatch.setattr(bitstream, "_CHUNK_BITS", chunk)
    result = devices.generate_bitstream(card, 200 * chunk + 1, mode=devices.WriteMode.TOGGLE, voltage_V=1.0,
                                        generator=torch.Generator().manual_seed(3), device_variation=False)
    bits = result.bits[0]
    probability = float(result.probabilities[0])
    assert probability < 0.2
    # The state must carry over a chunk edge: flips there happen with P, not 1/2 as for a restarted chain.
    edges = torch.arange(chunk, bits.numel(), chunk)
    flips = int((bits[edges] != bits[edges - 1]).sum())
    assert stats.binomtest(flips, edges.numel(), probability).pvalue > 1e-3


def test_same_seed_same_bitstream(card):
    first = devices.generate_bitstream(card, 5000, generator=torch.Generator().manual_seed(5), n_devices=4,
                                       mode=devices.WriteMode.TOGGLE)
    second = devices.generate_bitstream(card, 5000, generator=torch.Generator().manual_seed(5), n_devices=4,
                                        mode=devices.WriteMode.TOGGLE)
    assert torch.equal(first.bits, second.bits)
    assert torch.equal(first.probabilities, second.probabilities)


def test_device_variation_spreads_the_bias(card):
    result = devices.generate_bitstream(card, 20000, generator=torch.Generator().manual_seed(6), n_devices=64)
    means = result.bits.double().mean(1)
    expected = result.probabilities
    # Each device's mean follows its own probability...
    z = (means - expected) / torch.sqrt(expected * (1 - expected) / 20000)
    assert float(z.abs().max()) < 5
    # ...and the probabilities differ between devices as the threshold spread says.
    assert float(expected.std()) > 0.05


@pytest.mark.gpu
def test_bitstream_on_cuda(card):
    generator = torch.Generator(device="cuda").manual_seed(4)
    result = devices.generate_bitstream(card, 100000, generator=generator, device_variation=False)
    assert result.bits.device.type == "cuda"
    ones = int(result.bits.sum())
    assert stats.binomtest(ones, 100000, float(result.probabilities[0])).pvalue > 1e-3
    again = devices.generate_bitstream(card, 100000, generator=torch.Generator(device="cuda").manual_seed(4),
                                       device_variation=False)
    assert torch.equal(result.bits, again.bits)


def test_lane_thresholds_are_exact_at_the_edges(monkeypatch):
    import devices.bitstream as bitstream

    card = devices.default_card()
    for probability, expected in ((0.0, 0), (1.0, 4000)):
        monkeypatch.setattr(bitstream, "switching_probability",
                            lambda *args, p=probability, **kwargs: torch.full((1,), p, dtype=torch.float64))
        result = devices.generate_bitstream(card, 4000, generator=torch.Generator().manual_seed(1),
                                            device_variation=False)
        assert int(result.bits.sum()) == expected


def test_conductance_path_and_analytic_misread_path_agree_in_law():
    """With a tiny margin, read errors happen; both read paths must give the same error rate."""
    card = devices.default_card()
    noisy = dataclasses.replace(card, data_bit=dataclasses.replace(card.data_bit, read_noise_ln=0.15))
    n_bits = 200000
    sampled = devices.generate_bitstream(noisy, n_bits, generator=torch.Generator().manual_seed(2),
                                         device_variation=False, with_conductance=True)
    # Same seed: the same device (its conductances are drawn before the read paths diverge).
    analytic = devices.generate_bitstream(noisy, n_bits, generator=torch.Generator().manual_seed(2),
                                          device_variation=False)
    assert sampled.read_errors > 100 and analytic.read_errors > 100
    # Two binomial counts with the same rate: their difference within 5 standard errors.
    rate = (sampled.read_errors + analytic.read_errors) / (2 * n_bits)
    assert abs(sampled.read_errors - analytic.read_errors) < 5 * math.sqrt(2 * n_bits * rate * (1 - rate))


def test_trimming_puts_every_device_at_one_half(card):
    generator = torch.Generator().manual_seed(8)
    n_bits, n_devices = 100000, 16
    result = devices.generate_bitstream(card, n_bits, generator=generator, n_devices=n_devices, trim_to_half=True)
    assert torch.allclose(result.probabilities, torch.full((n_devices,), 0.5, dtype=torch.float64), atol=1e-9)
    ones = result.bits.double().sum(1)
    z = (ones - n_bits / 2) / math.sqrt(n_bits / 4)
    assert float(z.abs().max()) < 5
    offsets = devices.sample_v50_offsets(card.p_bit, 5, generator=torch.Generator().manual_seed(9),
                                         dtype=torch.float64)
    voltages = devices.trimmed_voltages(card.p_bit, offsets, 0.3)
    for offset, voltage in zip(offsets.tolist(), voltages.tolist(), strict=True):
        assert voltage == pytest.approx(devices.voltage_at_probability(card.p_bit, 0.3, v50_offset_V=offset),
                                        abs=1e-9)


def test_asking_for_conductances_does_not_change_the_bits(card, monkeypatch):
    import devices.bitstream as bitstream

    monkeypatch.setattr(bitstream, "_CHUNK_BITS", 1024)  # several chunks
    plain = devices.generate_bitstream(card, 10000, n_devices=2, generator=torch.Generator().manual_seed(4))
    traced = devices.generate_bitstream(card, 10000, n_devices=2, generator=torch.Generator().manual_seed(4),
                                        with_conductance=True)
    assert torch.equal(plain.bits, traced.bits)
    assert traced.conductances_S is not None
