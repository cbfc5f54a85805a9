"""Gibbs samplers against exact enumeration: ideal mode is exact; the hardware law matches its own exact law."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from cim_emu.crossbar.config import CrossbarConfig
from cim_emu.rng import SeedStream
from cim_emu.sampling import (
    GeometricBeta,
    GibbsSampler,
    HardwareMode,
    IdealMode,
    IsingModel,
    LinearBeta,
    PBitUpdateLaw,
    UpdateOrder,
    boltzmann_distribution,
    chi_square_test,
    evolve_distribution,
    independent_samples,
    kl_divergence,
    law_deviation,
    moments,
    sample_ising,
    state_indices,
    stationary_distribution,
)

ALPHA = 1e-3          # chi-square significance: a fixed seed, so a failure is a real deviation
N_CHAINS = 20000      # independent chains: no autocorrelation between the samples tested
BURN_IN = 40


def _model(n_spins, density, seed):
    return IsingModel.random(n_spins, density=density, coupling_scale=1.0, field_scale=0.5,
                             generator=np.random.default_rng(seed))


def _ideal_activation(beta):
    return lambda spin, fields: torch.sigmoid(2 * beta * fields)


@pytest.mark.parametrize("n_spins, density, order, compiled", [
    (6, 1.0, UpdateOrder.SEQUENTIAL, True), (6, 1.0, UpdateOrder.BLOCK, False),
    (10, 0.3, UpdateOrder.BLOCK, True), (10, 0.3, UpdateOrder.SEQUENTIAL, False),
    (12, 1.0, UpdateOrder.BLOCK, True), (12, 1.0, UpdateOrder.SEQUENTIAL, False),
    (16, 0.2, UpdateOrder.BLOCK, True), (16, 0.2, UpdateOrder.BLOCK, False),
])
def test_ideal_mode_matches_enumeration(n_spins, density, order, compiled):
    # Dense and sparse random models; the compiled kernel and the torch block updates are both exact.
    beta = 1.0
    model = _model(n_spins, density, seed=n_spins)
    exact = boltzmann_distribution(model, beta)
    sampler = GibbsSampler(model, mode=IdealMode(), order=order, compiled=compiled)
    # The burn-in must have converged for the final states to be draws of the stationary law: check exactly.
    after_burn_in = evolve_distribution(model, _ideal_activation(beta), sampler.blocks, BURN_IN)
    assert float((after_burn_in - exact).abs().sum()) < 1e-4
    spins = independent_samples(sampler, beta, n_chains=N_CHAINS, burn_in=BURN_IN, seed=SeedStream(n_spins))
    test = chi_square_test(state_indices(spins), exact)
    assert test.p_value > ALPHA, test
    # Means within 5 standard errors of the exact ones, sqrt((1 - <m>^2) / N).
    exact_mean = moments(exact, n_spins).mean_spin
    standard_error = torch.sqrt((1 - exact_mean ** 2) / N_CHAINS)
    assert bool(((spins.double().mean(0) - exact_mean).abs() < 5 * standard_error + 1e-12).all())


def test_stationary_law_of_tanh_is_boltzmann_and_of_the_card_is_not():
    model = _model(8, 1.0, seed=4)
    blocks = [np.array([i]) for i in range(8)]
    exact = boltzmann_distribution(model, 1.0)
    assert torch.allclose(stationary_distribution(model, _ideal_activation(1.0), blocks), exact, atol=1e-12)
    sampler = GibbsSampler(model, mode=HardwareMode(crossbar=CrossbarConfig.ideal(),
                                                    law=PBitUpdateLaw(device_variation=False), calibrate=False))
    hardware = stationary_distribution(model, lambda i, f: sampler.pbits.up_probability(
        torch.full(f.shape, i), f, 1.0), blocks)
    assert 1e-4 < kl_divergence(hardware, exact) < 0.05


def test_hardware_law_sampler_matches_its_exact_stationary_law():
    # With an ideal crossbar the hardware sampler's only approximation is P(V): the sampled states must follow
    # the exact stationary law of that activation (this checks the voltage map and the flip draws).
    beta = 1.0
    model = _model(8, 0.6, seed=7)
    mode = HardwareMode(crossbar=CrossbarConfig.ideal(), law=PBitUpdateLaw(trim=False), calibrate=False)
    sampler = GibbsSampler(model, mode=mode, order=UpdateOrder.BLOCK, seed=SeedStream(1))
    order = sampler.inverse_permutation

    def activation(spin, fields):
        position = int(order[spin])
        return sampler.pbits.up_probability(torch.full(fields.shape, position), fields, beta)

    law = stationary_distribution(model, activation, sampler.blocks)
    spins = independent_samples(sampler, beta, n_chains=N_CHAINS, burn_in=BURN_IN, seed=SeedStream(2))
    assert chi_square_test(state_indices(spins), law).p_value > ALPHA
    # ...and untrimmed threshold variation is a real bias against Boltzmann (many standard errors).
    assert chi_square_test(state_indices(spins), boltzmann_distribution(model, beta)).p_value < 1e-12


def test_law_deviation_of_the_default_card():
    import devices

    deviation = law_deviation(devices.default_card())
    # Minimax probit-logistic constant: |Phi(x / 1.702) - sigmoid(x)| <= 0.0095, plus the timing cap.
    assert 0.009 < deviation.max_abs_difference < 0.0100
    assert 0.0 < deviation.floor_probability < 1e-3 and 0.999 < deviation.ceiling_probability < 1.0
    assert deviation.log_odds_at_3 > 6.0   # probit tails: more certain than Boltzmann far from zero
    assert deviation.slope_ratio == pytest.approx(2 / 1.702 / math.sqrt(2 * math.pi) * 2 * deviation.timing_cap,
                                                  rel=1e-3)


def test_same_seed_same_samples_and_streams_are_separate():
    model = _model(12, 0.5, seed=1)
    first = sample_ising(model, 0.8, n_sweeps=20, seed=5, n_chains=4, keep_samples=True)
    torch.set_num_threads(2)
    try:
        second = sample_ising(model, 0.8, n_sweeps=20, seed=5, n_chains=4, keep_samples=True)
    finally:
        torch.set_num_threads(1)
    assert torch.equal(first.samples, second.samples)
    other = sample_ising(model, 0.8, n_sweeps=20, seed=6, n_chains=4, keep_samples=True)
    assert not torch.equal(first.samples, other.samples)


def test_hardware_counters_and_energies():
    model = _model(10, 0.5, seed=2)
    result = sample_ising(model, LinearBeta(0.1, 2.0), n_sweeps=5, seed=0, n_chains=3, mode=HardwareMode(),
                          energies=True)
    counts = result.op_counts
    assert counts["pbit_pulses"] == result.n_flips == 5 * 3 * 10
    assert counts["pbit_resets"] == result.n_flips
    assert counts["mvm_calls"] == 5 * 3 * result.n_blocks   # one MVM per chain and block (tile)
    assert torch.allclose(result.energies[-1], model.energy(result.final_spins.double()))
    assert torch.allclose(result.best_energy, result.energies.min(dim=0).values)
    assert torch.allclose(model.energy(result.best_spins.double()), result.best_energy)


def test_annealing_finds_the_ground_state_of_a_small_model():
    model = _model(12, 1.0, seed=9)
    energies = model.energy(torch.tensor(np.array(np.meshgrid(*[[-1, 1]] * 12)).reshape(12, -1).T, dtype=torch.float64))
    result = sample_ising(model, GeometricBeta(0.1, 10.0), n_sweeps=200, seed=0, n_chains=8, energies=True,
                          correlations=False)
    assert float(result.best_energy.min()) == pytest.approx(float(energies.min()), abs=1e-9)


@pytest.mark.parametrize("kwargs, message", [
    (dict(n_sweeps=0), "n_sweeps"),
    (dict(n_sweeps=5, burn_in=5), "burn_in"),
    (dict(n_sweeps=5, n_chains=0), "n_chains"),
    (dict(n_sweeps=5, initial=torch.zeros(1, 4)), "initial"),
])
def test_bad_run_arguments(kwargs, message):
    sampler = GibbsSampler(_model(4, 1.0, seed=0))
    with pytest.raises(ValueError, match=message):
        sampler.run(1.0, seed=0, **kwargs)


def test_negative_beta_and_huge_runs_are_refused():
    sampler = GibbsSampler(_model(4, 1.0, seed=0))
    with pytest.raises(ValueError, match="beta"):
        sampler.run(-1.0, n_sweeps=2, seed=0)
    with pytest.raises(ValueError, match="beta"):
        sampler.run(float("nan"), n_sweeps=2, seed=0)
    with pytest.raises(ValueError, match="allow_large"):
        sampler.run(1.0, n_sweeps=10**9, n_chains=100, seed=0)
