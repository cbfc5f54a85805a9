"""Checking sampled states against an exact law, and measuring the bias of each hardware non-ideality.

* :func:`independent_samples`: the final states of many independent chains after a burn-in: samples with no
  autocorrelation at all, so a chi-square test applies as it stands (the burn-in's own convergence can be
  checked exactly with :func:`cim_emu.sampling.exact.evolve_distribution`).
* :func:`chi_square_test`: Pearson's test of state counts against probabilities, sparse states pooled.
* :func:`nonideality_bias`: the hardware sampler with one non-ideality at a time, against exact enumeration;
  the ideal sampler's error at the same sample size is the statistical floor.
"""

from __future__ import annotations

import dataclasses

import torch

from cim_emu.crossbar.config import CrossbarConfig
from cim_emu.rng import SeedStream, as_seed_stream
from cim_emu.sampling.exact import boltzmann_distribution, kl_divergence, moments, state_indices
from cim_emu.sampling.gibbs import GibbsSampler, HardwareMode, IdealMode, UpdateOrder
from cim_emu.sampling.model import IsingModel
from cim_emu.sampling.pbit_law import PBitUpdateLaw

__all__ = ["ChiSquareResult", "chi_square_test", "independent_samples", "BiasRow", "nonideality_bias",
           "NONIDEALITY_MODES"]


@dataclasses.dataclass(frozen=True)
class ChiSquareResult:
    """Pearson chi-square of counts against probabilities.

    Attributes:
        statistic: sum (O - E)^2 / E over the bins.
        degrees_of_freedom: bins - 1.
        p_value: P(chi2_dof >= statistic).
        n_bins: bins after pooling.
    """

    statistic: float
    degrees_of_freedom: int
    p_value: float
    n_bins: int


def chi_square_test(indices: torch.Tensor, probabilities: torch.Tensor, *,
                    min_expected: float = 5.0) -> ChiSquareResult:
    """Test independent state samples against a law; states with expected count < ``min_expected`` are pooled.

    Args:
        indices: (N,) int64 state indices of independent samples.
        probabilities: (K,) float64 law over state indices.
        min_expected: smallest expected count of a bin of its own (Cochran's rule).
    """
    from scipy.stats import chi2

    n_samples = int(indices.numel())
    observed = torch.bincount(indices.flatten(), minlength=probabilities.numel()).to(torch.float64)
    expected = probabilities.to(torch.float64) * n_samples
    large = expected >= min_expected
    observed_bins = torch.cat([observed[large], observed[~large].sum().reshape(1)])
    expected_bins = torch.cat([expected[large], expected[~large].sum().reshape(1)])
    if float(expected_bins[-1]) < min_expected:
        # Fold a pooled bin that is itself too small into the smallest large bin.
        smallest = int(torch.argmin(expected_bins[:-1]))
        observed_bins[smallest] += observed_bins[-1]
        expected_bins[smallest] += expected_bins[-1]
        observed_bins, expected_bins = observed_bins[:-1], expected_bins[:-1]
    statistic = float(((observed_bins - expected_bins) ** 2 / expected_bins).sum())
    dof = int(observed_bins.numel()) - 1
    return ChiSquareResult(statistic=statistic, degrees_of_freedom=dof, p_value=float(chi2.sf(statistic, dof)),
                           n_bins=int(observed_bins.numel()))


def independent_samples(sampler: GibbsSampler, beta: float, *, n_chains: int, burn_in: int,
                        seed: int | SeedStream) -> torch.Tensor:
    """(n_chains, n) int8 final states of ``n_chains`` independent chains after ``burn_in`` sweeps."""
    result = sampler.run(beta, n_sweeps=burn_in, n_chains=n_chains, seed=seed, correlations=False)
    return result.final_spins


def _default_adc_only() -> CrossbarConfig:
    return CrossbarConfig.ideal(dac_bits=8, adc_bits=8, adc_range_cells=16.0)


#: The ablation of :func:`nonideality_bias`: name -> mode (None = ideal).
NONIDEALITY_MODES: dict[str, IdealMode | HardwareMode] = {
    "ideal (statistical floor)": IdealMode(),
    "P(V) shape only": HardwareMode(crossbar=CrossbarConfig.ideal(), law=PBitUpdateLaw(device_variation=False),
                                    calibrate=False),
    "p-bit threshold variation, untrimmed": HardwareMode(crossbar=CrossbarConfig.ideal(),
                                                         law=PBitUpdateLaw(trim=False), calibrate=False),
    "p-bit threshold variation, trimmed": HardwareMode(crossbar=CrossbarConfig.ideal(), law=PBitUpdateLaw(),
                                                       calibrate=False),
    "4-bit couplings": HardwareMode(crossbar=CrossbarConfig.ideal(weight_bits=4),
                                    law=PBitUpdateLaw(device_variation=False), calibrate=False),
    "read noise": HardwareMode(crossbar=CrossbarConfig.ideal(read_noise=True),
                               law=PBitUpdateLaw(device_variation=False), calibrate=False),
    "8-bit ADC, +-16 cells": HardwareMode(crossbar=_default_adc_only(), law=PBitUpdateLaw(device_variation=False),
                                         calibrate=False),
    "conductance variation, calibrated": HardwareMode(
        crossbar=CrossbarConfig.ideal(weight_bits=4, device_variation=True),
        law=PBitUpdateLaw(device_variation=False), calibrate=True),
    "conductance variation, uncalibrated": HardwareMode(
        crossbar=CrossbarConfig.ideal(weight_bits=4, device_variation=True),
        law=PBitUpdateLaw(device_variation=False), calibrate=False),
    "all (default hardware)": HardwareMode(),
}


@dataclasses.dataclass(frozen=True)
class BiasRow:
    """Deviation of one sampler configuration from the exact Boltzmann law.

    Attributes:
        name: the configuration.
        max_mean_error: max_i |<m_i> - exact|.
        max_correlation_error: max_ij |<m_i m_j> - exact|.
        kl_nats: plug-in KL(empirical || exact); positive even for exact sampling (about (K - 1) / (2 N) for K
            well-populated states): compare with the ideal row, the statistical floor.
        n_samples: independent samples used.
    """

    name: str
    max_mean_error: float
    max_correlation_error: float
    kl_nats: float
    n_samples: int

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def nonideality_bias(model: IsingModel, beta: float, *, seed: int | SeedStream, n_chains: int = 20000,
                     burn_in: int = 40, modes: dict | None = None,
                     order: UpdateOrder = UpdateOrder.BLOCK) -> list[BiasRow]:
    """Sample ``model`` (<= 20 spins) in each configuration of ``modes`` and compare with enumeration.

    Every configuration uses the same seeds, so the rows differ by the non-ideality, not by the draws.
    """
    stream = as_seed_stream(seed)
    exact = boltzmann_distribution(model, beta)
    exact_moments = moments(exact, model.n_spins)
    rows = []
    for name, mode in (NONIDEALITY_MODES if modes is None else modes).items():
        sampler = GibbsSampler(model, mode=mode, order=order, seed=stream.child("hardware"))
        spins = independent_samples(sampler, beta, n_chains=n_chains, burn_in=burn_in, seed=stream.child("run"))
        values = spins.to(torch.float64)
        mean = values.mean(dim=0)
        correlation = values.T @ values / n_chains
        empirical = torch.bincount(state_indices(spins), minlength=exact.numel()).to(torch.float64) / n_chains
        rows.append(BiasRow(
            name=name,
            max_mean_error=float((mean - exact_moments.mean_spin).abs().max()),
            max_correlation_error=float((correlation - exact_moments.pair_correlation).abs().max()),
            kl_nats=kl_divergence(empirical, exact),
            n_samples=n_chains,
        ))
    return rows
