"""The data-bit MTJ: resistance, bias-dependent TMR, variation, read noise and retention.

Resistance model (SI units):
    R_P = RA / area                                   (median parallel-state resistance)
    TMR(V) = tmr0 / (1 + (V / V_h)^2)                 (bias dependence of the tunnelling magnetoresistance)
    R_AP(V) = R_P (1 + TMR(V))

Variation (drawn once, at programming): ln R_P of a device = ln R_P + a + d, with the array offset
a ~ N(0, sigma_ln_r_array^2) shared by the devices of one array and the device offset d ~ N(0,
sigma_ln_r_device^2); the device's TMR at the read voltage is N(TMR(V_read), sigma_tmr_device^2).
Read noise (every read): R -> R exp(e), e ~ N(0, read_noise_ln^2).

Retention (Neel-Brown): tau = tau_0 exp(Delta), Delta = E_b / (k_B T) with a temperature-independent barrier.
"""

from __future__ import annotations

import dataclasses
import math

import torch

from devices import laws
from devices._tensor import require_generator
from devices.card import DataBitParams

__all__ = ["tmr_at_bias", "resistance_parallel_ohm", "conductance_levels", "DeviceConductances",
           "sample_device_conductances", "sample_conductances", "apply_read_noise", "thermal_stability_at",
           "retention_time_s", "retention_failure_probability"]


def tmr_at_bias(params: DataBitParams, bias_V):
    """TMR (fraction) at a bias voltage (:func:`devices.laws.tmr_at_bias_V`); float in, float out; tensor in,
    tensor out."""
    bias = bias_V if isinstance(bias_V, torch.Tensor) else float(bias_V)
    return laws.tmr_at_bias_V(params.tmr0, params.tmr_half_bias_V, bias)


def resistance_parallel_ohm(params: DataBitParams) -> float:
    """Median parallel-state resistance R_P = RA / area (ohm) (:func:`devices.laws.parallel_resistance_ohm`)."""
    return laws.parallel_resistance_ohm(params.resistance_area_ohm_m2, params.area_m2)


def conductance_levels(params: DataBitParams, read_voltage_V: float | None = None) -> tuple[float, float]:
    """Median (G_P, G_AP) in siemens at the read voltage (the card's unless given)."""
    voltage = params.read_voltage_V if read_voltage_V is None else read_voltage_V
    r_p = resistance_parallel_ohm(params)
    return 1.0 / r_p, 1.0 / (r_p * (1 + tmr_at_bias(params, voltage)))


@dataclasses.dataclass(frozen=True)
class DeviceConductances:
    """Programmed conductances of a set of MTJs (siemens), both states, same shape."""

    parallel_S: torch.Tensor
    antiparallel_S: torch.Tensor

    def select(self, states_parallel: torch.Tensor) -> torch.Tensor:
        """Conductance of each device in the given state (True = parallel, low resistance)."""
        return torch.where(states_parallel, self.parallel_S, self.antiparallel_S)


def sample_device_conductances(params: DataBitParams, shape, *, generator: torch.Generator,
                               array_index: torch.Tensor | None = None, read_voltage_V: float | None = None,
                               dtype: torch.dtype = torch.float32) -> DeviceConductances:
    """Draw the programming-time variation of ``shape`` devices.

    Args:
        params: data-bit parameters.
        shape: shape of the device set.
        generator: source of the device-to-device and array-to-array variation.
        array_index: long tensor broadcastable to ``shape`` naming each device's array (0..n_arrays-1);
            None puts every device in one array (whose offset is still drawn: arrays differ).
        read_voltage_V: read bias (the card's unless given).
        dtype: floating dtype of the result.

    Returns:
        Both-state conductances in siemens, on the generator's device.
    """
    require_generator(generator, "sample_device_conductances")
    shape = torch.Size(shape if not isinstance(shape, int) else (shape,))
    device = generator.device
    n_arrays = 1 if array_index is None else int(array_index.max().item()) + 1
    array_offsets = torch.randn(n_arrays, generator=generator, device=device, dtype=torch.float64)
    device_offsets = torch.randn(shape, generator=generator, device=device, dtype=torch.float64)
    tmr_noise = torch.randn(shape, generator=generator, device=device, dtype=torch.float64)
    if array_index is None:
        ln_array = array_offsets[0].expand(shape)
    else:
        ln_array = array_offsets[torch.broadcast_to(array_index.to(device), shape)]
    voltage = params.read_voltage_V if read_voltage_V is None else read_voltage_V
    ln_r_p = (math.log(resistance_parallel_ohm(params)) + params.sigma_ln_r_array * ln_array
              + params.sigma_ln_r_device * device_offsets)
    # The TMR spread is specified at the card's read voltage; another bias scales each device's TMR
    # by the bias law, so the relative spread is the same at every bias.
    tmr_read = tmr_at_bias(params, params.read_voltage_V)
    tmr = (tmr_read + params.sigma_tmr_device * tmr_noise) * (tmr_at_bias(params, voltage) / tmr_read)
    tmr = tmr.clamp_min(0.0)
    g_p = torch.exp(-ln_r_p)
    return DeviceConductances(parallel_S=g_p.to(dtype), antiparallel_S=(g_p / (1 + tmr)).to(dtype))


def sample_conductances(params: DataBitParams, states: torch.Tensor, *, generator: torch.Generator,
                        array_index: torch.Tensor | None = None, read_voltage_V: float | None = None,
                        dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """Programmed conductance (siemens) of devices written to ``states`` (bool, True = parallel).

    The result is on ``states``' device; variation as in :func:`sample_device_conductances`.
    """
    if states.dtype != torch.bool:
        raise ValueError("states: expected a bool tensor (True = parallel/low-resistance state)")
    devices = sample_device_conductances(params, states.shape, generator=generator, array_index=array_index,
                                         read_voltage_V=read_voltage_V, dtype=dtype)
    return devices.select(states.to(devices.parallel_S.device)).to(states.device)


def apply_read_noise(params: DataBitParams, conductance: torch.Tensor, *, generator: torch.Generator) -> torch.Tensor:
    """One read of each device: cycle-to-cycle lognormal noise on the resistance."""
    require_generator(generator, "apply_read_noise")
    if params.read_noise_ln == 0:
        return conductance.clone()
    noise = torch.randn(conductance.shape, generator=generator, device=generator.device, dtype=conductance.dtype)
    return conductance * torch.exp(-params.read_noise_ln * noise.to(conductance.device))


def thermal_stability_at(params: DataBitParams, temperature_K: float) -> float:
    """Delta = E_b / (k_B T) at another temperature, for a temperature-independent barrier."""
    if temperature_K <= 0:
        raise ValueError(f"temperature_K must be > 0, got {temperature_K}")
    return params.thermal_stability * params.temperature_K / temperature_K


def retention_time_s(params: DataBitParams, temperature_K: float | None = None) -> float:
    """Mean retention time tau_0 exp(Delta) of a data-bit (s)."""
    temperature = params.temperature_K if temperature_K is None else temperature_K
    return params.attempt_time_s * math.exp(thermal_stability_at(params, temperature))


def retention_failure_probability(params: DataBitParams, time_s, temperature_K: float | None = None):
    """Probability that a data-bit has flipped thermally after ``time_s`` (Neel-Brown, Poisson)."""
    tau = retention_time_s(params, temperature_K)
    if isinstance(time_s, torch.Tensor):
        return -torch.expm1(-time_s / tau)
    return -math.expm1(-float(time_s) / tau)
