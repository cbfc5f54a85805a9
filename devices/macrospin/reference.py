"""A plain numpy implementation of the same sLLG switching experiment (baseline and cross-check).

Written the straightforward way a physicist would -- (n, 3) arrays, ``np.cross``, the numpy
generator's Gaussian noise, a Python loop over steps -- and deliberately independent of the
fast paths (no shared code beyond the parameter dataclasses). The tests compare its
zero-temperature trajectories and its switching statistics with the fast paths; the benchmark
measures its speed as the baseline. It relaxes for the whole ``relax_time_s`` (no early stop).
"""

from __future__ import annotations

import math

import numpy as np

from devices.macrospin.params import BOLTZMANN_J_PER_K, MacrospinParams
from devices.macrospin.pulse import TrapezoidPulse

__all__ = ["heun_steps_numpy", "simulate_switching_numpy"]


def _field(m, anisotropy_T, bias_T, demag_T, thermal_T):
    # B = (B_x, 0, A m_z) - D_inplane (m_x, m_y, 0) + b   (kernel.py eq. 2)
    field = thermal_T.copy()
    field[:, 0] += bias_T - demag_T[0] * m[:, 0]
    field[:, 1] -= demag_T[1] * m[:, 1]
    field[:, 2] += anisotropy_T * m[:, 2]
    return field


def _rate(m, field, gamma_prime, alpha):
    precession = np.cross(m, field)
    return -gamma_prime * (precession + alpha * np.cross(m, precession))


def heun_steps_numpy(
    m: np.ndarray,
    params: MacrospinParams,
    *,
    n_steps: int,
    time_step_s: float,
    rng: np.random.Generator,
    first_step: int = 0,
    amplitude_V: np.ndarray | float = 0.0,
    pulse_width_s: np.ndarray | float = 0.0,
    pulse_start_s: float = 0.0,
    pulse: TrapezoidPulse | None = None,
) -> np.ndarray:
    """Advance magnetisations ``m`` (n, 3) by ``n_steps`` stochastic-Heun steps; returns the new array."""
    pulse = pulse or TrapezoidPulse()
    gamma = params.gyromagnetic_ratio_rad_per_s_T
    alpha = params.damping
    gamma_prime = gamma / (1 + alpha**2)
    demag = params.demagnetising_field_coefficients_T
    anisotropy_zero_V = params.interfacial_anisotropy_field_T - demag[2]
    kappa = params.vcma_field_per_volt_T_per_V
    sigma = math.sqrt(params.thermal_field_variance_T2_s / time_step_s)
    amplitude = np.broadcast_to(np.asarray(amplitude_V, dtype=float), (m.shape[0],))
    width = np.broadcast_to(np.asarray(pulse_width_s, dtype=float), (m.shape[0],))
    half_rise = pulse_start_s + pulse.rise_time_s / 2

    def anisotropy(time_s):
        envelope = np.clip(
            np.minimum(0.5 + (time_s - half_rise) * pulse.rise_slope_per_s,
                       0.5 + (half_rise + width - time_s) * pulse.fall_slope_per_s),
            0.0, 1.0,
        )
        return anisotropy_zero_V - kappa * amplitude * envelope

    for step in range(first_step, first_step + n_steps):
        time_s = step * time_step_s
        thermal = sigma * rng.standard_normal(m.shape)
        rate = _rate(m, _field(m, anisotropy(time_s), params.bias_field_T, demag, thermal), gamma_prime, alpha)
        predicted = m + time_step_s * rate
        rate_predicted = _rate(
            predicted,
            _field(predicted, anisotropy(time_s + time_step_s), params.bias_field_T, demag, thermal),
            gamma_prime,
            alpha,
        )
        m = m + 0.5 * time_step_s * (rate + rate_predicted)
        m /= np.linalg.norm(m, axis=1, keepdims=True)
    return m


def simulate_switching_numpy(
    params: MacrospinParams,
    amplitude_V: np.ndarray,
    pulse_width_s: np.ndarray | float,
    *,
    rng: np.random.Generator,
    time_step_s: float = 1e-12,
    thermalise_time_s: float = 1e-9,
    relax_time_s: float = 6e-9,
    pulse: TrapezoidPulse | None = None,
) -> np.ndarray:
    """Switched (bool, shape (n,)) for pulses of the given amplitudes/widths; same protocol as the solver.

    Harmonic Boltzmann start in the +z well, thermalisation at 0 V, the pulse (with the per-pulse
    jitter of ``params.pulse_jitter_V``), a fixed relaxation, then m_z < 0.
    """
    pulse = pulse or TrapezoidPulse()
    amplitude = np.asarray(amplitude_V, dtype=float).reshape(-1)
    n = amplitude.size
    width = np.broadcast_to(np.asarray(pulse_width_s, dtype=float), (n,))
    amplitude = amplitude + params.pulse_jitter_V * rng.standard_normal(n)
    b_k = params.effective_anisotropy_field_T
    tilt = params.bias_field_T / b_k
    thermal_energy = BOLTZMANN_J_PER_K * params.temperature_K
    moment = params.magnetic_moment_A_m2
    polar = rng.standard_normal(n) * math.sqrt(thermal_energy / (moment * b_k * (1 - tilt**2)))
    azimuth = rng.standard_normal(n) * math.sqrt(thermal_energy / (moment * b_k))
    cos_tilt = math.sqrt(1 - tilt**2)
    m = np.stack([tilt + polar * cos_tilt, azimuth, cos_tilt - polar * tilt], axis=1)
    m /= np.linalg.norm(m, axis=1, keepdims=True)
    end_s = pulse.end_time_s(thermalise_time_s, float(width.max())) + relax_time_s
    n_steps = math.ceil(end_s / time_step_s - 1e-9)
    m = heun_steps_numpy(
        m, params, n_steps=n_steps, time_step_s=time_step_s, rng=rng, amplitude_V=amplitude,
        pulse_width_s=width, pulse_start_s=thermalise_time_s, pulse=pulse,
    )
    return m[:, 2] < 0
