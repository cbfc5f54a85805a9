"""The device layer on CUDA: same assertions as on the CPU (skipped without CUDA)."""

from __future__ import annotations

import math

import pytest
import torch

import devices

pytestmark = pytest.mark.gpu


def test_conductances_on_cuda():
    data_bit = devices.default_card().data_bit
    generator = torch.Generator(device="cuda").manual_seed(1)
    states = torch.ones(20000, dtype=torch.bool, device="cuda")
    conductance = devices.sample_conductances(data_bit, states, generator=generator, dtype=torch.float64)
    assert conductance.device.type == "cuda"
    log_r = -torch.log(conductance)
    standard_error = data_bit.sigma_ln_r_device / math.sqrt(2 * (log_r.numel() - 1))
    assert abs(float(log_r.std()) - data_bit.sigma_ln_r_device) < 5 * standard_error
    again = devices.sample_conductances(data_bit, states, generator=torch.Generator(device="cuda").manual_seed(1),
                                        dtype=torch.float64)
    assert torch.equal(conductance, again)


def test_switching_probability_on_cuda_matches_cpu():
    pbit = devices.default_card().p_bit
    voltages = torch.linspace(0.5, 2.5, 101, dtype=torch.float64)
    cpu = devices.switching_probability(pbit, voltages, pbit.pulse_width_s)
    cuda = devices.switching_probability(pbit, voltages.cuda(), pbit.pulse_width_s)
    assert cuda.device.type == "cuda"
    torch.testing.assert_close(cuda.cpu(), cpu, rtol=1e-12, atol=1e-14)
