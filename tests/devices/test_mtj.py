"""Data-bit MTJ: resistance law, variation statistics, read noise, retention."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import stats

import devices


@pytest.fixture
def data_bit():
    return devices.default_card().data_bit


def test_resistance_and_tmr_law(data_bit):
    r_p = devices.resistance_parallel_ohm(data_bit)
    assert r_p == pytest.approx(data_bit.resistance_area_ohm_m2 / (math.pi * (data_bit.diameter_m / 2) ** 2))
    assert devices.tmr_at_bias(data_bit, 0.0) == pytest.approx(data_bit.tmr0)
    assert devices.tmr_at_bias(data_bit, data_bit.tmr_half_bias_V) == pytest.approx(data_bit.tmr0 / 2)
    g_p, g_ap = devices.conductance_levels(data_bit)
    assert g_p / g_ap == pytest.approx(1 + devices.tmr_at_bias(data_bit, data_bit.read_voltage_V))


def test_device_to_device_spread_is_lognormal(data_bit, torch_generator):
    n = 20000
    conductance = devices.sample_conductances(data_bit, torch.ones(n, dtype=torch.bool), generator=torch_generator,
                                              dtype=torch.float64)
    log_r = -torch.log(conductance).numpy()
    # One array: its offset is common, so the within-array spread is the device spread alone.
    standardized = (log_r - log_r.mean()) / data_bit.sigma_ln_r_device
    assert stats.kstest(standardized, "norm").pvalue > 0.01
    standard_error = data_bit.sigma_ln_r_device / math.sqrt(2 * (n - 1))
    assert abs(log_r.std(ddof=1) - data_bit.sigma_ln_r_device) < 5 * standard_error


def test_array_to_array_spread(data_bit, torch_generator):
    n_arrays, n_devices = 400, 50
    index = torch.arange(n_arrays).repeat_interleave(n_devices)
    conductance = devices.sample_conductances(data_bit, torch.ones(index.numel(), dtype=torch.bool),
                                              generator=torch_generator, array_index=index, dtype=torch.float64)
    array_means = (-torch.log(conductance)).reshape(n_arrays, n_devices).mean(1).numpy()
    expected = math.sqrt(data_bit.sigma_ln_r_array ** 2 + data_bit.sigma_ln_r_device ** 2 / n_devices)
    standard_error = expected / math.sqrt(2 * (n_arrays - 1))
    assert abs(array_means.std(ddof=1) - expected) < 5 * standard_error


def test_read_noise_statistics(data_bit, torch_generator):
    base = torch.full((50000,), 1e-5, dtype=torch.float64)
    read = devices.apply_read_noise(data_bit, base, generator=torch_generator)
    log_ratio = torch.log(read / base).numpy()
    standard_error = data_bit.read_noise_ln / math.sqrt(log_ratio.size)
    assert abs(log_ratio.mean()) < 5 * standard_error
    assert abs(log_ratio.std() - data_bit.read_noise_ln) < 5 * data_bit.read_noise_ln / math.sqrt(2 * log_ratio.size)


def test_same_seed_same_devices(data_bit):
    states = torch.rand(64, generator=torch.Generator().manual_seed(1)) < 0.5
    first = devices.sample_conductances(data_bit, states, generator=torch.Generator().manual_seed(7))
    second = devices.sample_conductances(data_bit, states, generator=torch.Generator().manual_seed(7))
    assert torch.equal(first, second)


def test_stochastic_functions_refuse_without_generator(data_bit):
    with pytest.raises(ValueError, match="generator"):
        devices.apply_read_noise(data_bit, torch.ones(3), generator=None)


def test_retention_neel_brown(data_bit):
    tau = devices.retention_time_s(data_bit)
    assert tau == pytest.approx(data_bit.attempt_time_s * math.exp(data_bit.thermal_stability))
    assert devices.retention_failure_probability(data_bit, tau) == pytest.approx(1 - math.exp(-1))
    hotter = devices.retention_time_s(data_bit, temperature_K=400.0)
    assert hotter < tau
    ten_years = 10 * 365.25 * 86400
    assert devices.retention_failure_probability(data_bit, ten_years) < 1e-3
    assert np.isfinite(devices.thermal_stability_at(data_bit, 350.0))
