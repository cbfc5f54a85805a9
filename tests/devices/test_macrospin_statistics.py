"""Statistical validation of the sLLG solver: Boltzmann equilibrium, dt convergence, independent cross-check."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.integrate
import scipy.special
import scipy.stats
import torch

from devices.macrospin import (
    BOLTZMANN_J_PER_K,
    MacrospinParams,
    SolverConfig,
    simulate_switching,
    simulate_switching_numpy,
    thermal_states,
)

ALPHA = 1e-3  # significance level of the distribution tests (fixed seeds; the p-values are deterministic)


def _boltzmann_mz_cdf(params: MacrospinParams, lower: float = -1.0):
    """CDF of m_z under p(m) ~ exp(-M_s V E(m) / k_B T) on the sphere, restricted to m_z >= lower.

    Integrating the azimuth out of exp(a m_z^2 / 2 + b m_x) with m_x = sqrt(1 - m_z^2) cos(phi) gives the
    marginal density exp(a m_z^2 / 2) I_0(b sqrt(1 - m_z^2)), a = M_s V B_k0 / k_B T, b = M_s V B_x / k_B T.
    """
    beta_moment = params.magnetic_moment_A_m2 / (BOLTZMANN_J_PER_K * params.temperature_K)
    a = beta_moment * params.effective_anisotropy_field_T
    b = beta_moment * params.bias_field_T
    grid = np.linspace(lower, 1.0, 200001)
    # log-density, shifted by its maximum to stay finite for deep wells (I_0 via the scaled i0e).
    radial = b * np.sqrt(np.clip(1 - grid**2, 0, None))
    log_density = 0.5 * a * grid**2 + radial + np.log(scipy.special.i0e(radial))
    density = np.exp(log_density - log_density.max())
    cdf = scipy.integrate.cumulative_trapezoid(density, grid, initial=0.0)
    cdf /= cdf[-1]
    return lambda x: np.interp(x, grid, cdf)


def test_equilibrium_over_both_wells_follows_boltzmann():
    # A small, hot, strongly damped layer (Delta ~ 1.4) hops between the wells many times within 6 ns, so the
    # whole m_z distribution, both wells and the barrier region with the bias field, is sampled.
    params = MacrospinParams.from_effective_anisotropy(
        effective_anisotropy_field_T=0.18, free_layer_diameter_m=12e-9, damping=0.5, pulse_jitter_V=0.0
    )
    states = thermal_states(params, 6000, generator=torch.Generator().manual_seed(1), duration_s=6e-9,
                            config=SolverConfig(time_step_s=0.25e-12, thermalise_time_s=0.0))
    m_z = states[:, 2].numpy()
    assert 0.3 < np.mean(m_z < 0) < 0.7  # both wells populated
    assert scipy.stats.kstest(m_z, _boltzmann_mz_cdf(params)).pvalue > ALPHA


def test_thermalised_start_state_is_boltzmann_in_its_well():
    # The paper device (Delta ~ 35) after the solver's default thermalisation: the harmonic start plus
    # 1 ns of sLLG gives the Boltzmann law of the +z well (no hop over the barrier in that time).
    params = MacrospinParams().thermal_only()
    states = thermal_states(params, 6000, generator=torch.Generator().manual_seed(2),
                            duration_s=SolverConfig().thermalise_time_s)
    m_z = states[:, 2].numpy()
    assert np.all(m_z > 0)
    cdf = _boltzmann_mz_cdf(params, lower=0.0)
    assert scipy.stats.kstest(m_z, cdf).pvalue > ALPHA


def _switched_fraction(params, voltage, width, n, seed, time_step_s):
    generator = torch.Generator().manual_seed(seed)
    outcome = simulate_switching(params, torch.full((n,), voltage), width, generator=generator,
                                 config=SolverConfig(time_step_s=time_step_s))
    return float(outcome.switched.double().mean()), int(outcome.undecided.sum())


def test_halving_the_time_step_changes_p_by_less_than_its_binomial_error():
    # Thermal-only device at the steepest point of P(V) (V50 at 700 ps): the most dt-sensitive place.
    params = MacrospinParams().thermal_only()
    n = 6000
    coarse, open_coarse = _switched_fraction(params, 1.50, 700e-12, n, 3, 1e-12)
    fine, open_fine = _switched_fraction(params, 1.50, 700e-12, n, 4, 0.5e-12)
    standard_error = math.sqrt(coarse * (1 - coarse) / n + fine * (1 - fine) / n)
    # Two-sided test at alpha = 1e-3 (z < 3.29) of "no dt bias"; with n = 6000 this bounds the bias to ~0.03.
    assert abs(coarse - fine) < 3.29 * standard_error
    assert 0.2 < coarse < 0.8 and open_coarse == 0 and open_fine == 0


def test_fast_path_and_plain_numpy_agree_statistically():
    # Independent implementations (different noise streams): the switched fractions agree within
    # binomial errors at a point on each flank of the thermal-only curve.
    params = MacrospinParams().thermal_only()
    n = 1500
    for voltage in (1.46, 1.54):
        fast, _ = _switched_fraction(params, voltage, 700e-12, n, 5, 1e-12)
        plain = simulate_switching_numpy(params, np.full(n, voltage), 700e-12, rng=np.random.default_rng(6),
                                         relax_time_s=3e-9).mean()
        standard_error = math.sqrt(fast * (1 - fast) / n + plain * (1 - plain) / n)
        assert abs(fast - plain) < 3.29 * standard_error


@pytest.mark.slow
def test_dt_convergence_with_a_large_sample():
    params = MacrospinParams().thermal_only()
    n = 40000
    coarse, _ = _switched_fraction(params, 1.52, 700e-12, n, 7, 1e-12)
    fine, _ = _switched_fraction(params, 1.52, 700e-12, n, 8, 0.25e-12)
    assert abs(coarse - fine) < 3.29 * math.sqrt(coarse * (1 - coarse) / n + fine * (1 - fine) / n)
