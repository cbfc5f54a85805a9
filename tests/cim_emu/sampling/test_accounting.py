"""Energy per flip in situ vs ex situ, from a hardware run's counters."""

from __future__ import annotations

import numpy as np
import pytest

from cim_emu.energy import price_op_counts
from cim_emu.sampling import HardwareMode, IsingModel, sample_ising
from cim_emu.sampling.accounting import ex_situ_counts, flip_costs


def test_flip_costs_price_the_counters():
    model = IsingModel.random(32, density=0.3, generator=np.random.default_rng(0))
    result = sample_ising(model, 1.0, n_sweeps=3, seed=0, n_chains=2, mode=HardwareMode())
    costs = flip_costs(result.op_counts)
    assert costs.n_flips == result.n_flips
    priced = price_op_counts(result.op_counts)
    assert costs.in_situ.energy_per_flip_J == pytest.approx(priced.energy_J / result.n_flips)
    assert costs.in_situ.flips_per_ns == pytest.approx(result.n_flips / (priced.latency_s * 1e9))
    ex = ex_situ_counts(result.op_counts, comparator_bits=8)
    assert ex["pbit_pulses"] == 0 and ex["trng_bits_generated"] == 8 * result.n_flips
    assert ex["adc_conversions"] == result.op_counts["adc_conversions"]   # the same MVMs
    # Table II's logic: a p-bit pulse is cheaper and faster than 8 TRNG bits made, sampled and moved.
    assert costs.energy_ratio > 1 and costs.throughput_ratio > 1
    assert sum(costs.in_situ.energy_breakdown_J.values()) == pytest.approx(costs.in_situ.energy_per_flip_J)


def test_ideal_runs_have_no_flip_energy():
    model = IsingModel.random(8, generator=np.random.default_rng(0))
    result = sample_ising(model, 1.0, n_sweeps=2, seed=0)
    with pytest.raises(ValueError, match="hardware-mode run"):
        flip_costs(result.op_counts)
