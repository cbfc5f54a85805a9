"""The VCMA-MTJ p-bit: compact model of precessional switching probability P(V, t_pulse).

A VCMA pulse lowers the perpendicular anisotropy; once it is low enough the magnetisation precesses
about the in-plane bias field and, if the pulse ends half a precession later, relaxes into the opposite
state. The compact model (SI units; Phi is the standard normal CDF):

    P(V, t) = Phi((V - v50 - offset) / sigma_pulse) * Phi(-cos(omega(V) t) exp(-t / tau) / sigma_mz)
    omega(V) = (pi / half_period) (1 + slope (V - V_ref))

* First factor, engagement: precession reaches the equator only if the anisotropy drop exceeds a
  threshold. Macrospin thermal noise alone smears that threshold by sigma ~0.07 V, a 10-90 %
  window of ~0.19 V (sLLG, docs/macrospin.md), five times narrower than the ~1 V window measured
  (paper Fig. 12). We assign the extra spread to per-pulse jitter of the effective anisotropy/voltage
  (Gaussian, sigma_pulse), which keeps consecutive bits independent, and model the device-to-device
  spread (Fig. 13) as a per-device offset of the threshold (``sigma_v50_device_V``).
* Second factor, timing: out-of-plane magnetisation at pulse end ~ -cos(omega t) exp(-t / tau) plus a
  thermal spread sigma_mz; the device ends in the far hemisphere with that probability. This gives the
  damped oscillation in pulse width (first peak just before half a period; P -> 1/2 of the engaged
  fraction for long pulses as the ensemble dephases).
"""

from __future__ import annotations

import math

import torch

from devices._tensor import as_tensor, require_generator
from devices.card import PBitParams

__all__ = ["switching_probability", "sample_v50_offsets", "voltage_at_probability", "trimmed_voltages",
           "first_peak_width_s", "window_10_90_V"]


def switching_probability(params: PBitParams, voltage_V, pulse_width_s, *, v50_offset_V=0.0) -> torch.Tensor:
    """Switching probability of one write pulse (compact model, see module docstring).

    Args:
        params: p-bit parameters.
        voltage_V: pulse amplitude (V); float or tensor.
        pulse_width_s: pulse width (s); float or tensor, broadcast with ``voltage_V``.
        v50_offset_V: per-device threshold offset (V), e.g. from :func:`sample_v50_offsets`.

    Returns:
        Tensor of probabilities in [0, 1] with the broadcast shape (float64 for float inputs).
    """
    voltage, width, offset = as_tensor(voltage_V, pulse_width_s, v50_offset_V)
    if torch.any(width < 0):
        raise ValueError("pulse_width_s must be >= 0")
    engaged = torch.special.ndtr((voltage - params.v50_V - offset) / params.sigma_pulse_V)
    detuning = params.precession_slope_per_V * (voltage - params.reference_voltage_V)
    omega = (math.pi / params.half_period_s) * (1 + detuning)
    out_of_plane = torch.cos(omega * width) * torch.exp(-width / params.dephasing_time_s)
    flipped = torch.special.ndtr(-out_of_plane / params.sigma_mz)
    return engaged * flipped


def sample_v50_offsets(params: PBitParams, shape, *, generator: torch.Generator,
                       dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """Per-device threshold offsets (V), N(0, sigma_v50_device_V^2), on the generator's device."""
    require_generator(generator, "sample_v50_offsets")
    shape = torch.Size(shape if not isinstance(shape, int) else (shape,))
    noise = torch.randn(shape, generator=generator, device=generator.device, dtype=torch.float64)
    return (params.sigma_v50_device_V * noise).to(dtype)


def voltage_at_probability(params: PBitParams, probability: float, pulse_width_s: float | None = None, *,
                           v50_offset_V: float = 0.0) -> float:
    """Pulse amplitude (V) giving ``probability`` at ``pulse_width_s`` (the card's unless given).

    Solved by bisection on [v50 - 8 sigma, v50 + 8 sigma]; raises ``ValueError`` if the probability is not
    reached there (e.g. 0.9 at a pulse width where the timing factor caps P below 0.9).
    """
    if not 0 < probability < 1:
        raise ValueError(f"probability must be in (0, 1), got {probability}")
    width = params.pulse_width_s if pulse_width_s is None else pulse_width_s
    low = params.v50_V + v50_offset_V - 8 * params.sigma_pulse_V
    high = params.v50_V + v50_offset_V + 8 * params.sigma_pulse_V

    def excess(voltage: float) -> float:
        return float(switching_probability(params, voltage, width, v50_offset_V=v50_offset_V)) - probability

    if excess(low) > 0 or excess(high) < 0:
        raise ValueError(f"P = {probability} is not reached at pulse width {width:.3g} s "
                         f"between {low:.3g} V and {high:.3g} V")
    for _ in range(100):
        middle = 0.5 * (low + high)
        if excess(middle) < 0:
            low = middle
        else:
            high = middle
    return 0.5 * (low + high)


def trimmed_voltages(params: PBitParams, v50_offsets_V: torch.Tensor, probability: float = 0.5,
                     pulse_width_s: float | None = None) -> torch.Tensor:
    """Per-device pulse amplitudes (V) giving ``probability``: the array's trimming step, vectorised.

    Bisection on [v50 + offset - 8 sigma, v50 + offset + 8 sigma] for every device at once; the result is exact
    to ~1e-12 V. Raises ``ValueError`` if some device cannot reach ``probability`` at that pulse width.
    """
    if not 0 < probability < 1:
        raise ValueError(f"probability must be in (0, 1), got {probability}")
    width = params.pulse_width_s if pulse_width_s is None else pulse_width_s
    offsets = v50_offsets_V.to(torch.float64)
    low = params.v50_V + offsets - 8 * params.sigma_pulse_V
    high = params.v50_V + offsets + 8 * params.sigma_pulse_V

    def excess(voltage: torch.Tensor) -> torch.Tensor:
        return switching_probability(params, voltage, width, v50_offset_V=offsets) - probability

    if bool(torch.any(excess(low) > 0)) or bool(torch.any(excess(high) < 0)):
        raise ValueError(f"P = {probability} is not reached by every device at pulse width {width:.3g} s")
    for _ in range(60):
        middle = 0.5 * (low + high)
        below = excess(middle) < 0
        low = torch.where(below, middle, low)
        high = torch.where(below, high, middle)
    return 0.5 * (low + high)


def window_10_90_V(params: PBitParams, pulse_width_s: float | None = None) -> float:
    """Width of the stochastic window: V(P = 0.9) - V(P = 0.1) at the pulse width (V)."""
    return voltage_at_probability(params, 0.9, pulse_width_s) - voltage_at_probability(params, 0.1, pulse_width_s)


def first_peak_width_s(params: PBitParams, voltage_V: float | None = None) -> float:
    """Pulse width (s) of the first maximum of P(t) at ``voltage_V`` (the card's write voltage unless given).

    Grid search over (0, 2 half-periods] refined by golden-section search.
    """
    voltage = params.write_voltage_V if voltage_V is None else voltage_V
    widths = torch.linspace(1e-3, 2.0, 4001, dtype=torch.float64) * params.half_period_s
    probabilities = switching_probability(params, voltage, widths)
    interior = (probabilities[1:-1] >= probabilities[:-2]) & (probabilities[1:-1] >= probabilities[2:])
    peaks = torch.nonzero(interior).flatten()
    if peaks.numel() == 0:
        raise ValueError(f"no switching maximum within two half-periods at {voltage} V")
    index = int(peaks[0]) + 1
    low, high = float(widths[index - 1]), float(widths[index + 1])
    ratio = (math.sqrt(5) - 1) / 2
    for _ in range(80):
        left, right = high - ratio * (high - low), low + ratio * (high - low)
        if float(switching_probability(params, voltage, left)) >= float(switching_probability(params, voltage, right)):
            high = right
        else:
            low = left
    return 0.5 * (low + high)
