"""Write-pulse shape: a trapezoid with linear rise and fall, its width measured at half maximum.

A pulse of amplitude A and width w (FWHM) starting at t_0 has the envelope

    s(t) = clip(min(1/2 + (t - t_a) / t_rise, 1/2 + (t_b - t) / t_fall), 0, 1),
    t_a = t_0 + t_rise / 2  (half-maximum on the rising edge),  t_b = t_a + w,

so V(t) = A s(t). With zero rise and fall times it is a rectangle of width w; a width shorter
than (t_rise + t_fall) / 2 gives a triangle that no longer reaches A (what a slow driver does to
a very short pulse). The pulse is over at t_b + t_fall / 2. Measured pulse widths are usually
quoted at half maximum, hence this convention.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

__all__ = ["TrapezoidPulse"]

# Stand-in for 1 / 0 when a ramp is instantaneous: large enough to make the ramp a step at any
# time resolution used here, small enough that (t - t_a) * slope stays finite in float32.
_STEP_SLOPE_PER_S = 1e30


@dataclass(frozen=True, kw_only=True)
class TrapezoidPulse:
    """Edges of the write pulse; amplitude and width vary per trial and are passed separately.

    Attributes:
        rise_time_s: 0-100 % duration of the linear rising edge (s), >= 0.
        fall_time_s: 100-0 % duration of the linear falling edge (s), >= 0.
    """

    rise_time_s: float = 0.0
    fall_time_s: float = 0.0

    def __post_init__(self) -> None:
        for name in ("rise_time_s", "fall_time_s"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and math.isfinite(value) and 0 <= value < 1e-6):
                raise ValueError(f"TrapezoidPulse.{name}={value!r} must be in [0, 1e-6) seconds")

    @property
    def rise_slope_per_s(self) -> float:
        """1 / t_rise (1/s), or a step-like slope when the edge is instantaneous."""
        return 1.0 / self.rise_time_s if self.rise_time_s > 0 else _STEP_SLOPE_PER_S

    @property
    def fall_slope_per_s(self) -> float:
        """1 / t_fall (1/s), or a step-like slope when the edge is instantaneous."""
        return 1.0 / self.fall_time_s if self.fall_time_s > 0 else _STEP_SLOPE_PER_S

    def end_time_s(self, start_time_s: float, pulse_width_s: float | torch.Tensor) -> float | torch.Tensor:
        """Time (s) at which the envelope is back to zero."""
        return start_time_s + self.rise_time_s / 2 + pulse_width_s + self.fall_time_s / 2

    def envelope(
        self, time_s: float | torch.Tensor, start_time_s: float, pulse_width_s: float | torch.Tensor
    ) -> torch.Tensor:
        """Envelope s(t) in [0, 1] (broadcasting over ``time_s`` and ``pulse_width_s``)."""
        time_s = torch.as_tensor(time_s, dtype=torch.float64)
        pulse_width_s = torch.as_tensor(pulse_width_s, dtype=time_s.dtype, device=time_s.device)
        half_rise_s = start_time_s + self.rise_time_s / 2
        rising = 0.5 + (time_s - half_rise_s) * self.rise_slope_per_s
        falling = 0.5 + (half_rise_s + pulse_width_s - time_s) * self.fall_slope_per_s
        return torch.clamp(torch.minimum(rising, falling), 0.0, 1.0)
