"""The stochastic-Heun step of the macrospin LLG equation: the physics, written once.

Landau-Lifshitz form of the stochastic Gilbert equation (Brown 1963; Garcia-Palacios & Lazaro,
Phys. Rev. B 58, 14937 (1998), eqs. 2.4 and 2.9):

    dm/dt = -gamma' [ m x B + alpha m x (m x B) ],   gamma' = gamma / (1 + alpha^2),        (1)
    B = (B_x - D_x m_x, -D_y m_y, A(t) m_z) + b,                                           (2)
    A(t) = B_i0 - D_z - kappa V(t),   D = mu_0 M_s (N_x, N_y, N_z),
    <b_k(t) b_l(t')> = (2 alpha k_B T / (gamma M_s V)) delta_kl delta(t - t'),             (3)

read in the Stratonovich sense. The stochastic Heun scheme (Garcia-Palacios & Lazaro sec. III)
holds the thermal field of a step fixed at b = sigma xi, sigma^2 = 2 alpha k_B T / (gamma M_s V dt):

    predictor  m~ = m + dt F(t, m, b),   corrector  m' = m + dt/2 [F(t, m, b) + F(t + dt, m~, b)],

then m' is renormalised to |m| = 1 (the exact flow keeps |m| = 1; Heun keeps it to O(dt^2)).

The functions :func:`llg_rate`, :func:`effective_field` and :func:`heun_update` use only
arithmetic operators, so the *same source* runs on torch tensors (CPU/CUDA, eager or
``torch.compile``) and, compiled by numba, on scalars in the CPU kernel (``kernel_numba``).
:func:`advance_torch` is the pure torch chunk: ``n_steps`` steps of every trial at once.
"""

from __future__ import annotations

from typing import NamedTuple

import torch

from devices.macrospin.noise import MASK_32, Stream, box_muller_torch, philox4x32_torch

__all__ = [
    "TrialTensors",
    "llg_rate",
    "effective_field",
    "heun_update",
    "reduced_energy_T",
    "advance_torch",
]


def llg_rate(mx, my, mz, bx, by, bz, gamma_prime, alpha):
    """Right-hand side of eq. (1): dm/dt (1/s) for magnetisation m and field B (T)."""
    cx = my * bz - mz * by
    cy = mz * bx - mx * bz
    cz = mx * by - my * bx
    return (
        -gamma_prime * (cx + alpha * (my * cz - mz * cy)),
        -gamma_prime * (cy + alpha * (mz * cx - mx * cz)),
        -gamma_prime * (cz + alpha * (mx * cy - my * cx)),
    )


def effective_field(mx, my, mz, anisotropy_T, bias_T, demag_x_T, demag_y_T, thermal_x, thermal_y, thermal_z):
    """Eq. (2): the effective field (T); ``anisotropy_T`` is A(t) = B_i0 - D_z - kappa V(t)."""
    return (
        bias_T - demag_x_T * mx + thermal_x,
        thermal_y - demag_y_T * my,
        anisotropy_T * mz + thermal_z,
    )


def heun_update(
    mx, my, mz, anisotropy_now_T, anisotropy_next_T, bias_T, demag_x_T, demag_y_T,
    thermal_x, thermal_y, thermal_z, gamma_prime, alpha, dt,
):
    """One stochastic-Heun step (not yet renormalised); the thermal field is held over the step."""
    bx, by, bz = effective_field(
        mx, my, mz, anisotropy_now_T, bias_T, demag_x_T, demag_y_T, thermal_x, thermal_y, thermal_z
    )
    fx, fy, fz = llg_rate(mx, my, mz, bx, by, bz, gamma_prime, alpha)
    px = mx + dt * fx
    py = my + dt * fy
    pz = mz + dt * fz
    bx, by, bz = effective_field(
        px, py, pz, anisotropy_next_T, bias_T, demag_x_T, demag_y_T, thermal_x, thermal_y, thermal_z
    )
    gx, gy, gz = llg_rate(px, py, pz, bx, by, bz, gamma_prime, alpha)
    half_dt = 0.5 * dt
    return mx + half_dt * (fx + gx), my + half_dt * (fy + gy), mz + half_dt * (fz + gz)


def reduced_energy_T(mx, my, mz, anisotropy_T, bias_T, demag_x_T, demag_y_T):
    """E / (M_s V) in tesla: -A m_z^2 / 2 + (D_x m_x^2 + D_y m_y^2) / 2 - B_x m_x (the B of eq. 2 is -dE/dm)."""
    return -0.5 * anisotropy_T * mz * mz + 0.5 * (demag_x_T * mx * mx + demag_y_T * my * my) - bias_T * mx


class TrialTensors(NamedTuple):
    """Per-trial inputs of a chunk, 1-D tensors of length n_trials on one device and dtype.

    Attributes:
        anisotropy_at_zero_V_T: B_i0 - D_z (T), the z coefficient of eq. (2) without voltage.
        vcma_T_per_V: kappa (T/V).
        bias_T: B_x (T).
        damping: alpha.
        gamma_prime: gamma / (1 + alpha^2) (rad / (s T)).
        thermal_sigma_T: sigma (T), the per-component std of the thermal field for this dt.
        amplitude_V: pulse amplitude including this trial's jitter (V).
        fall_half_time_s: t_b, the time of the half-maximum on the falling edge (s).
        trial_index: int64 global trial index (Philox counter).
    """

    anisotropy_at_zero_V_T: torch.Tensor
    vcma_T_per_V: torch.Tensor
    bias_T: torch.Tensor
    damping: torch.Tensor
    gamma_prime: torch.Tensor
    thermal_sigma_T: torch.Tensor
    amplitude_V: torch.Tensor
    fall_half_time_s: torch.Tensor
    trial_index: torch.Tensor


def _envelope_torch(time_s, rise_half_time_s, fall_half_time_s, rise_slope, fall_slope):
    # pulse.TrapezoidPulse.envelope with per-trial fall times (see pulse.py for the formula).
    rising = 0.5 + (time_s - rise_half_time_s) * rise_slope
    falling = 0.5 + (fall_half_time_s - time_s) * fall_slope
    return torch.clamp(torch.minimum(rising, falling), 0.0, 1.0)


def advance_torch(
    mx: torch.Tensor,
    my: torch.Tensor,
    mz: torch.Tensor,
    trials: TrialTensors,
    first_step: torch.Tensor,
    n_steps: int,
    dt: float,
    key: int,
    demag_x_T: float,
    demag_y_T: float,
    rise_half_time_s: float,
    rise_slope_per_s: float,
    fall_slope_per_s: float,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Advance every trial by ``n_steps`` Heun steps (pure: returns new tensors).

    Step n runs from t_n = n dt to t_n + dt; its thermal field comes from Philox counter
    (n, trial, stream THERMAL_FIELD), the first three normals of the four.

    Args:
        mx, my, mz: magnetisation components, shape (n_trials,), unit norm.
        trials: per-trial parameters (:class:`TrialTensors`), same device and dtype.
        first_step: int64 0-d tensor, global index of the first step (a tensor so that
            ``torch.compile`` does not specialise on it).
        n_steps: steps to take (a Python int: the compiled graph is unrolled over it).
        dt: time step (s).
        key: Philox key.
        demag_x_T, demag_y_T: in-plane demagnetising coefficients mu_0 M_s N_x, N_y (T).
        rise_half_time_s: half-maximum time of the rising edge (s).
        rise_slope_per_s, fall_slope_per_s: 1 / t_rise, 1 / t_fall (1/s).

    Returns:
        The new (mx, my, mz).
    """
    dtype = mx.dtype
    index_low = trials.trial_index & MASK_32
    index_high = trials.trial_index >> 32
    for offset in range(n_steps):
        step = first_step + offset
        time_now = step.to(dtype) * dt
        envelope_now = _envelope_torch(
            time_now, rise_half_time_s, trials.fall_half_time_s, rise_slope_per_s, fall_slope_per_s
        )
        envelope_next = _envelope_torch(
            time_now + dt, rise_half_time_s, trials.fall_half_time_s, rise_slope_per_s, fall_slope_per_s
        )
        drop_per_envelope = trials.vcma_T_per_V * trials.amplitude_V
        anisotropy_now = trials.anisotropy_at_zero_V_T - drop_per_envelope * envelope_now
        anisotropy_next = trials.anisotropy_at_zero_V_T - drop_per_envelope * envelope_next
        words = philox4x32_torch((step, index_low, index_high, int(Stream.THERMAL_FIELD)), key)
        normal_0, normal_1 = box_muller_torch(words[0], words[1], dtype)
        normal_2, _ = box_muller_torch(words[2], words[3], dtype)
        sigma = trials.thermal_sigma_T
        nx, ny, nz = heun_update(
            mx, my, mz, anisotropy_now, anisotropy_next, trials.bias_T,
            demag_x_T, demag_y_T, sigma * normal_0, sigma * normal_1, sigma * normal_2,
            trials.gamma_prime, trials.damping, dt,
        )
        inverse_norm = torch.rsqrt(nx * nx + ny * ny + nz * nz)
        mx, my, mz = nx * inverse_norm, ny * inverse_norm, nz * inverse_norm
    return mx, my, mz

