"""Differential pairs: ternary states, their separation, the probabilistic pair."""

from __future__ import annotations

import math

import pytest
import torch
from scipy import stats

import devices


@pytest.mark.parametrize("state_index", [0, 1, 2])
def test_pair_statistics_match_monte_carlo(state_index):
    data_bit = devices.default_card().data_bit
    analytic = devices.pair_state_statistics(data_bit)
    state = devices.PAIR_STATES[state_index]
    generator = torch.Generator().manual_seed(21 + state_index)
    n = 40000
    weights = torch.full((n,), state)
    programmed = devices.ternary_pair_conductance(data_bit, weights, generator=generator)
    # The analytic spread includes one read of each device; emulate it with a relative read noise on each side.
    pair = devices.sample_device_conductances(data_bit, (2, n), generator=generator, dtype=torch.float64)
    plus = torch.where(weights == 1, pair.parallel_S[0], pair.antiparallel_S[0])
    minus = torch.where(weights == -1, pair.parallel_S[1], pair.antiparallel_S[1])
    read = (devices.apply_read_noise(data_bit, plus, generator=generator)
            - devices.apply_read_noise(data_bit, minus, generator=generator))
    mean, std = analytic.mean_S[state_index], analytic.std_S[state_index]
    # The single array's common offset scales every device by the same factor; remove it by comparing
    # means relative to the array's median G_P.
    scale = float(pair.parallel_S.median()) / devices.conductance_levels(data_bit)[0]
    assert abs(float(read.mean()) / scale - mean) < 5 * std / math.sqrt(n)
    excess_kurtosis = float(stats.kurtosis(read.numpy()))
    standard_error_of_std = std * math.sqrt((2 + excess_kurtosis) / (4 * n))
    scale_error = 1.2533 * data_bit.sigma_ln_r_device / math.sqrt(n)  # standard error of a median, relative
    assert abs(float(read.std()) / scale - std) < 5 * (standard_error_of_std + scale_error * std)
    assert torch.all(torch.sign(programmed) == torch.sign(torch.tensor(float(state)))) or state == 0


def test_default_pair_margin_is_six_sigma():
    assert devices.pair_state_statistics(devices.default_card().data_bit).margin_sigma >= 6.0


def test_ternary_rejects_other_values(torch_generator):
    with pytest.raises(ValueError, match="only -1, 0 and \\+1"):
        devices.ternary_pair_conductance(devices.default_card().data_bit, torch.tensor([2]), generator=torch_generator)


def test_probabilistic_pair_keeps_or_drops_the_weight():
    g_p, g_ap = torch.tensor(10e-6), torch.tensor(6e-6)
    data_parallel = torch.tensor([True, True, False, False])
    switched = torch.tensor([False, True, False, True])
    pair = devices.probabilistic_pair_conductance(data_parallel, switched, (g_p, g_ap), (g_p, g_ap))
    assert torch.allclose(pair, torch.tensor([0.0, 4e-6, 0.0, -4e-6]))


def test_endurance_default_is_flat_over_1e12_cycles():
    endurance = devices.default_card().endurance
    assert devices.conductance_drift(endurance, 1e12) < 0.01
    assert devices.broken_fraction(endurance, 1e12) < 1e-4
    assert devices.endurance_cycles(endurance) > 1e12
    # Degradation grows with cycles.
    assert devices.conductance_drift(endurance, 1e15) > devices.conductance_drift(endurance, 1e12)
