"""The hardware update law of a p-bit spin: local field -> write-pulse voltage -> switching probability.

Every hardware update resets the p-bit of spin i to -1 and applies one VCMA pulse of amplitude

    V_i = clip(V_c,i + kappa sigma_pulse beta I_i, 0, V_max)

so the spin ends at +1 with the card's switching probability P(V_i) (``devices.switching_probability``, its
per-device threshold offset included). V_c,i is the centre voltage: the median device's P = 1/2 point, or, with
trimming, device i's own (``devices.trimmed_voltages``), which removes its threshold offset exactly. The gain
kappa sigma_pulse (volts per unit of beta I) is what sets beta in hardware.

How the law differs from the ideal (1 + tanh(beta I)) / 2 = sigmoid(2 beta I):

* shape: the engagement factor is a probit, Phi((V - v50) / sigma_pulse), not a logistic. With
  kappa = 2 / 1.702 (the minimax probit-logistic match, the default) the largest |P - sigmoid| is ~0.0095;
  the probit's tails are thinner, so a strongly-aligned spin is *more* certain than Boltzmann says
  (the log-odds grow quadratically in the field instead of linearly);
* ceiling: the timing factor Phi(-cos(omega t) e^{-t / tau} / sigma_mz) at the operating width caps P below 1
  (1 - 9e-5 for the default card at 700 ps); floor: the driver cannot go below 0 V, where P = Phi(-v50 / sigma)
  ~ 7e-5. A fully aligned spin still flips ~1e-4 of the time;
* device variation: an untrimmed device with threshold offset o_i acts as an extra field -o_i / (kappa sigma beta)
  on its spin (sigma_v50 = 81 mV is 0.18 units of beta I for the default card).

:func:`law_deviation` quantifies these numbers for any card; ``docs/sampling.md`` shows them.
"""

from __future__ import annotations

import dataclasses
import math

import torch

import devices

__all__ = ["PBitUpdateLaw", "PBitArray", "LawDeviation", "law_deviation", "ideal_up_probability",
           "MINIMAX_PROBIT_GAIN"]

#: sigmoid(x) ~ Phi(x / 1.702) to within 0.0095 (the classical minimax constant): kappa = 2 / 1.702.
MINIMAX_PROBIT_GAIN = 2.0 / 1.702


def ideal_up_probability(fields: torch.Tensor, beta) -> torch.Tensor:
    """P(m = +1) = (1 + tanh(beta I)) / 2 = sigmoid(2 beta I), the exact Gibbs conditional."""
    return torch.sigmoid(2.0 * beta * fields)


@dataclasses.dataclass(frozen=True, kw_only=True)
class PBitUpdateLaw:
    """How a field becomes a p-bit pulse (see the module docstring).

    Attributes:
        gain: kappa, the voltage gain in units of the card's sigma_pulse_V per unit of beta I (default: the
            minimax probit match 2 / 1.702).
        pulse_width_s: write-pulse width (s); None = the card's operating width.
        max_voltage_V: the write driver's largest amplitude (V); pulses clip to [0, max_voltage_V].
        device_variation: draw a threshold offset per p-bit (``devices.sample_v50_offsets``).
        trim: centre each device on its own P = 1/2 voltage (removes the offsets); False centres every device
            on the median device's.
    """

    gain: float = MINIMAX_PROBIT_GAIN
    pulse_width_s: float | None = None
    max_voltage_V: float = 3.0
    device_variation: bool = True
    trim: bool = True

    def __post_init__(self):
        for name in ("gain", "max_voltage_V") + (("pulse_width_s",) if self.pulse_width_s is not None else ()):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
                    or value <= 0:
                raise ValueError(f"PBitUpdateLaw.{name}: must be a finite number > 0, got {value!r}")
        for name in ("device_variation", "trim"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"PBitUpdateLaw.{name}: must be True or False, got {getattr(self, name)!r}")

    def width_s(self, card: devices.DeviceCard) -> float:
        """The pulse width in use (s)."""
        return card.p_bit.pulse_width_s if self.pulse_width_s is None else self.pulse_width_s

    def volts_per_unit(self, card: devices.DeviceCard) -> float:
        """Pulse volts per unit of beta I: kappa sigma_pulse_V."""
        return self.gain * card.p_bit.sigma_pulse_V


@dataclasses.dataclass(frozen=True)
class PBitArray:
    """The p-bits of one model's spins: per-device offsets and centre voltages, drawn once.

    Attributes:
        law: the update law.
        card: the device card.
        v50_offsets_V: (n,) float64 threshold offsets.
        centre_voltages_V: (n,) float64 pulse amplitude at zero field.
    """

    law: PBitUpdateLaw
    card: devices.DeviceCard
    v50_offsets_V: torch.Tensor
    centre_voltages_V: torch.Tensor

    @classmethod
    def draw(cls, law: PBitUpdateLaw, card: devices.DeviceCard, n_spins: int, *,
             generator: torch.Generator | None) -> PBitArray:
        """Draw the threshold offsets of ``n_spins`` p-bits (``generator`` may be None without variation)."""
        if law.device_variation:
            offsets = devices.sample_v50_offsets(card.p_bit, n_spins, generator=generator, dtype=torch.float64)
        else:
            offsets = torch.zeros(n_spins, dtype=torch.float64)
        width = law.width_s(card)
        if law.trim:
            centres = devices.trimmed_voltages(card.p_bit, offsets, 0.5, width)
        else:
            centres = torch.full((n_spins,), devices.voltage_at_probability(card.p_bit, 0.5, width),
                                 dtype=torch.float64)
        return cls(law=law, card=card, v50_offsets_V=offsets.cpu(), centre_voltages_V=centres.cpu())

    def up_probability(self, spins: slice | torch.Tensor, fields: torch.Tensor, beta: float) -> torch.Tensor:
        """P(m = +1) of the p-bits ``spins`` for fields (..., k): the pulse voltage through the card's law.

        Args:
            spins: which p-bits (a slice or index tensor into the n devices), k of them.
            fields: (..., k) local fields I.
            beta: inverse temperature (sets the gain).

        Returns:
            (..., k) float64 switching probabilities.
        """
        voltages = self.voltages_V(spins, fields, beta)
        return devices.switching_probability(self.card.p_bit, voltages, self.law.width_s(self.card),
                                             v50_offset_V=self.v50_offsets_V[spins])

    def voltages_V(self, spins: slice | torch.Tensor, fields: torch.Tensor, beta: float) -> torch.Tensor:
        """(..., k) float64 pulse amplitudes (V), clipped to the driver's range."""
        gain = self.law.volts_per_unit(self.card) * beta
        voltages = self.centre_voltages_V[spins] + gain * fields.to(torch.float64)
        return voltages.clamp_(0.0, self.law.max_voltage_V)


@dataclasses.dataclass(frozen=True)
class LawDeviation:
    """How the card's P(V) through the voltage map differs from sigmoid(2 beta I) (median device, trimmed).

    Attributes:
        max_abs_difference: max over beta I of |P - sigmoid(2 beta I)|.
        argmax_beta_field: the beta I where that maximum sits.
        slope_ratio: dP/d(beta I) at 0 over the ideal 1/2.
        floor_probability: P at 0 V (the lowest the driver can go).
        ceiling_probability: P at ``max_voltage_V``.
        timing_cap: the timing factor at the centre voltage (P cannot exceed it much).
        log_odds_at_3: log(P / (1 - P)) at beta I = 3 (ideal: 6).
    """

    max_abs_difference: float
    argmax_beta_field: float
    slope_ratio: float
    floor_probability: float
    ceiling_probability: float
    timing_cap: float
    log_odds_at_3: float

    def to_dict(self) -> dict:
        """JSON-ready dictionary."""
        return dataclasses.asdict(self)


def law_deviation(card: devices.DeviceCard, law: PBitUpdateLaw | None = None) -> LawDeviation:
    """Quantify the hardware law against the ideal one on beta I in [-6, 6] (see :class:`LawDeviation`)."""
    law = PBitUpdateLaw(device_variation=False) if law is None else dataclasses.replace(law, device_variation=False)
    array = PBitArray.draw(law, card, 1, generator=None)
    grid = torch.linspace(-6.0, 6.0, 24001, dtype=torch.float64)
    hardware = array.up_probability(torch.zeros(grid.shape, dtype=torch.long), grid, 1.0)
    ideal = ideal_up_probability(grid, 1.0)
    difference = (hardware - ideal).abs()
    index = int(torch.argmax(difference))
    step = 1e-4
    slope = float(array.up_probability(torch.zeros(2, dtype=torch.long),
                                       torch.tensor([-step, step], dtype=torch.float64), 1.0).diff()) / (2 * step)
    width = law.width_s(card)
    centre = float(array.centre_voltages_V[0])
    engaged = float(torch.special.ndtr(torch.tensor((centre - card.p_bit.v50_V) / card.p_bit.sigma_pulse_V)))
    at_three = float(array.up_probability(torch.zeros(1, dtype=torch.long), torch.tensor([3.0]), 1.0))
    return LawDeviation(
        max_abs_difference=float(difference[index]),
        argmax_beta_field=float(grid[index]),
        slope_ratio=slope / 0.5,
        floor_probability=float(devices.switching_probability(card.p_bit, 0.0, width)),
        ceiling_probability=float(devices.switching_probability(card.p_bit, law.max_voltage_V, width)),
        timing_cap=float(devices.switching_probability(card.p_bit, centre, width)) / engaged,
        log_odds_at_3=math.log(at_three / (1 - at_three)),
    )
