"""Deterministic physics of the sLLG kernel: precession, damping, energy, band edges, backends."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from devices.macrospin import (
    Backend,
    MacrospinParams,
    SolverConfig,
    TrialTensors,
    advance_torch,
    heun_steps_numpy,
    llg_rate,
    reduced_energy_T,
    trace_magnetisation,
)

GAMMA = 1.76085963023e11
# A noise-free, (almost) undamped device: damping must be > 0, 1e-7 shifts frequencies by 1e-14.
COLD = MacrospinParams(temperature_K=0.0, damping=1e-7, pulse_jitter_V=0.0)


def _zeeman_trials(n: int, field_T: float, damping: float) -> TrialTensors:
    """Trials in a pure field B_x (no anisotropy, no demagnetisation), at zero temperature."""
    def full(value):
        return torch.full((n,), float(value), dtype=torch.float64)

    return TrialTensors(
        anisotropy_at_zero_V_T=full(0.0), vcma_T_per_V=full(0.0), bias_T=full(field_T), damping=full(damping),
        gamma_prime=full(GAMMA / (1 + damping**2)), thermal_sigma_T=full(0.0), amplitude_V=full(0.0),
        fall_half_time_s=full(0.0), trial_index=torch.arange(n),
    )


def _advance(backend: Backend, state, trials: TrialTensors, n_steps: int, dt: float, first_step: int = 0):
    if backend is Backend.NUMBA:
        from devices.macrospin.kernel_numba import advance_numba

        state = [s.clone().contiguous() for s in state]
        advance_numba(*(s.numpy() for s in state), *(t.numpy() for t in trials[:-1]), trials.trial_index.numpy(),
                      first_step, n_steps, dt, 7, 0.0, 0.0, 0.0, 1e30, 1e30)
        return tuple(state)
    return advance_torch(*state, trials, torch.tensor(first_step), n_steps, dt, 7, 0.0, 0.0, 0.0, 1e30, 1e30)


def _upward_zero_crossings(time_s: np.ndarray, signal: np.ndarray) -> np.ndarray:
    index = np.nonzero((signal[:-1] < 0) & (signal[1:] >= 0))[0]
    return time_s[index] - signal[index] * (time_s[index + 1] - time_s[index]) / (signal[index + 1] - signal[index])


@pytest.mark.parametrize(("backend", "n_steps"), [(Backend.NUMBA, 8000), (Backend.TORCH, 2000)])
def test_zeeman_precession_and_damping_follow_the_exact_solution(backend, n_steps):
    # In a uniform field the LL equation is solved exactly: the azimuth about B advances at
    # gamma' B and tan(theta/2) decays as exp(-alpha gamma' B t), gamma' = gamma / (1 + alpha^2).
    field, damping, dt = 0.05, 0.1, 0.25e-12
    theta_0 = np.array([0.3, 1.2, 2.8])
    state = tuple(torch.tensor(v, dtype=torch.float64) for v in
                  (np.cos(theta_0), np.sin(theta_0), np.zeros(3)))
    mx, my, mz = _advance(backend, state, _zeeman_trials(3, field, damping), n_steps, dt)
    time = n_steps * dt
    rate = GAMMA / (1 + damping**2) * field
    theta = 2 * np.arctan(np.tan(theta_0 / 2) * np.exp(-damping * rate * time))
    phase = -rate * time  # precession sense of dm/dt = -gamma' m x B about +x
    expected = np.stack([np.cos(theta), np.sin(theta) * np.cos(phase), -np.sin(theta) * np.sin(phase)], 1)
    got = torch.stack([mx, my, mz], 1).numpy()
    # Heun's error after 8000 steps of gamma' B dt = 2.2e-3 rad: ~ (omega dt)^2 omega t / 6 ~ 1e-5.
    np.testing.assert_allclose(got, expected, atol=5e-5)


def test_precession_period_about_the_bias_field_at_the_compensation_voltage():
    # At V = B_k0 / kappa the effective anisotropy vanishes and m precesses about B_x alone:
    # period 2 pi / (gamma |B|), the origin of the paper's first peak at pi / (gamma B_x).
    config = SolverConfig(time_step_s=1e-12, thermalise_time_s=0.1e-9)
    trace = trace_magnetisation(COLD, COLD.compensation_voltage_V, 6e-9, generator=torch.Generator().manual_seed(0),
                                record_interval_s=2e-12, duration_s=6e-9, config=config)
    during = (trace.time_s > 0.2e-9) & (trace.time_s < 5.9e-9)
    time = trace.time_s[during].numpy()
    crossings = _upward_zero_crossings(time, trace.magnetisation[during, 0, 1].numpy())
    period = np.mean(np.diff(crossings))
    assert len(crossings) >= 3
    assert period == pytest.approx(2 * math.pi / (GAMMA * COLD.bias_field_T), rel=2e-5)
    # Precession about x keeps m_x constant, up to the damping drift d m_x / dt = alpha gamma' B (1 - m_x^2).
    m_x = trace.magnetisation[during, 0, 0].numpy()
    drift = COLD.damping * GAMMA * COLD.bias_field_T * (1 - m_x[0] ** 2) * (time[-1] - time[0])
    assert np.ptp(m_x) == pytest.approx(drift, rel=0.05)


def test_small_oscillations_in_the_well_have_the_fmr_frequency_and_decay_at_the_damping_rate():
    # Linearised LLG about the tilted rest state: stiffnesses k_1 = B_k0 (1 - h^2) and k_2 = B_k0, so
    # omega = gamma' sqrt(k_1 k_2) and the energy above the minimum decays as exp(-alpha gamma' (k_1 + k_2) t).
    params = COLD.replace(damping=0.02)
    config = SolverConfig(time_step_s=0.5e-12, thermalise_time_s=0.1e-9)
    kick_V, kick_s = 0.3, 10e-12  # a short weak pulse starts a small precession (amplitude ~ 0.01 rad)
    trace = trace_magnetisation(params, kick_V, kick_s, generator=torch.Generator().manual_seed(0),
                                record_interval_s=2e-12, duration_s=3.1e-9, config=config)
    after = trace.time_s > 0.2e-9
    time = trace.time_s[after].numpy()
    m = trace.magnetisation[after, 0].numpy()
    b_k = params.effective_anisotropy_field_T
    h = params.equilibrium_tilt
    gamma_prime = GAMMA / (1 + params.damping**2)
    crossings = _upward_zero_crossings(time, m[:, 1])
    omega = 2 * math.pi / np.mean(np.diff(crossings))
    assert omega == pytest.approx(gamma_prime * b_k * math.sqrt(1 - h**2), rel=1e-3)
    demag_x, demag_y, _ = params.demagnetising_field_coefficients_T
    anisotropy = params.interfacial_anisotropy_field_T - params.demagnetising_field_coefficients_T[2]
    energy = reduced_energy_T(m[:, 0], m[:, 1], m[:, 2], anisotropy, params.bias_field_T, demag_x, demag_y)
    minimum = reduced_energy_T(h, 0.0, math.sqrt(1 - h**2), anisotropy, params.bias_field_T, demag_x, demag_y)
    slope = np.polyfit(time, np.log(energy - minimum), 1)[0]
    assert -slope == pytest.approx(params.damping * gamma_prime * b_k * (2 - h**2), rel=0.02)


def test_energy_dissipation_identity_holds_along_a_large_orbit():
    # For the LL equation, dE/dt = -alpha gamma' M_s V |m x B|^2 at every instant (any amplitude).
    params = COLD.replace(damping=0.05)
    demag_x, demag_y, demag_z = params.demagnetising_field_coefficients_T
    anisotropy = params.interfacial_anisotropy_field_T - demag_z
    n, dt = 2, 0.2e-12
    trials = TrialTensors(
        anisotropy_at_zero_V_T=torch.full((n,), anisotropy, dtype=torch.float64),
        vcma_T_per_V=torch.zeros(n, dtype=torch.float64), bias_T=torch.full((n,), params.bias_field_T),
        damping=torch.full((n,), params.damping), gamma_prime=torch.full((n,), GAMMA / (1 + params.damping**2)),
        thermal_sigma_T=torch.zeros(n, dtype=torch.float64), amplitude_V=torch.zeros(n, dtype=torch.float64),
        fall_half_time_s=torch.zeros(n, dtype=torch.float64), trial_index=torch.arange(n),
    )
    state = (torch.tensor([0.9, 0.2]), torch.tensor([0.1, -0.3]), torch.tensor([0.42, 0.93]))
    state = tuple(s / torch.sqrt(state[0] ** 2 + state[1] ** 2 + state[2] ** 2) for s in state)

    def energy_and_power(s):
        bx = params.bias_field_T - demag_x * s[0]
        by = -demag_y * s[1]
        bz = anisotropy * s[2]
        cross = torch.stack([s[1] * bz - s[2] * by, s[2] * bx - s[0] * bz, s[0] * by - s[1] * bx])
        power = params.damping * GAMMA / (1 + params.damping**2) * (cross**2).sum(0)
        return reduced_energy_T(*s, anisotropy, params.bias_field_T, demag_x, demag_y), power

    energies, powers = [], []
    for step in range(3000):
        energy, power = energy_and_power(state)
        energies.append(energy)
        powers.append(power)
        state = advance_torch(*state, trials, torch.tensor(step), 1, dt, 0, demag_x, demag_y, 0.0, 1e30, 1e30)
    energies, powers = torch.stack(energies), torch.stack(powers)
    dissipated = torch.trapezoid(powers, dx=dt, dim=0)
    np.testing.assert_allclose((energies[0] - energies[-1]).numpy(), dissipated.numpy(), rtol=1e-4)
    assert bool((energies[1:] <= energies[:-1] + 1e-15).all())  # monotone decay


def test_llg_rate_is_perpendicular_to_m():
    raw = torch.randn(3, 100, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    m = torch.nn.functional.normalize(raw, dim=0)
    b = torch.randn(3, 100, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    rate = torch.stack(llg_rate(*m, *b, GAMMA, 0.1))
    assert float((rate * m).sum(0).abs().max()) < 1e-12 * GAMMA


def test_switching_band_edges_of_the_undamped_orbit():
    # Energy conservation predicts the amplitudes that can carry m over the equator (params.switching_band_V).
    lower, upper = COLD.switching_band_V
    config = SolverConfig(time_step_s=0.5e-12, thermalise_time_s=0.05e-9)
    amplitudes = torch.tensor([lower - 0.02, lower + 0.02, upper - 0.02, upper + 0.02])
    trace = trace_magnetisation(COLD, amplitudes, 6e-9, generator=torch.Generator().manual_seed(0),
                                record_interval_s=5e-12, duration_s=6e-9, config=config)
    lowest_mz = trace.magnetisation[:, :, 2].min(dim=0).values
    assert lowest_mz[0] > 0.05 and lowest_mz[3] > 0.05  # outside the band: stays in the +z hemisphere
    assert lowest_mz[1] < -0.05 and lowest_mz[2] < -0.05  # inside: crosses the equator


def test_backends_agree_on_trajectories():
    # Numba, eager torch and the independent numpy implementation integrate the same equation:
    # at zero temperature their trajectories coincide to rounding error.
    params = COLD.replace(damping=0.02)
    amplitude = torch.tensor([1.2, 1.7, 2.1, 2.6])
    finals = {}
    for backend in (Backend.NUMBA, Backend.TORCH):
        trace = trace_magnetisation(params, amplitude, 0.8e-9, generator=torch.Generator().manual_seed(0),
                                    record_interval_s=0.1e-9, duration_s=2.5e-9,
                                    config=SolverConfig(backend=backend, thermalise_time_s=0.3e-9))
        finals[backend] = trace.magnetisation[-1]
        assert trace.backend == backend.value
    h = params.equilibrium_tilt
    start = np.tile([h, 0.0, math.sqrt(1 - h**2)], (4, 1))
    reference = heun_steps_numpy(start, params, n_steps=2500, time_step_s=1e-12, rng=np.random.default_rng(0),
                                 amplitude_V=amplitude.numpy(), pulse_width_s=0.8e-9, pulse_start_s=0.3e-9)
    np.testing.assert_allclose(finals[Backend.NUMBA].numpy(), finals[Backend.TORCH].numpy(), atol=1e-12)
    np.testing.assert_allclose(finals[Backend.NUMBA].numpy(), reference, atol=1e-9)
