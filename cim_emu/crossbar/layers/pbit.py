"""``PBitActivation``: a binary stochastic neuron whose firing probability is the VCMA-MTJ switching law.

Each neuron drives its p-bit with one write pulse per sample. The pre-activation x (the digital output of
the layer before) sets the pulse amplitude through a linear driver,

    V(x) = clamp(V_bias + gain_V * x, 0, 2 V_bias),

with ``V_bias`` the voltage at which the median p-bit switches with probability 1/2 at the card's pulse
width (``devices.voltage_at_probability``). The neuron's output is the p-bit's state after the pulse,
1 (switched) with probability ``P(V(x))`` (``devices.switching_probability``, including the device's own
threshold offset), else 0: the {0, 1} "sigmoid p-bit" of the p-DNN paper (its Appendix A), with the
device's probit-shaped law in place of the logistic function. The default gain matches the logistic
sigmoid's slope at x = 0 (dP/dx = 1/4), so a network trained with sigmoid units starts from the same
operating point. The driver range [0, 2 V_bias] keeps the pulse inside the window where the compact model
is monotone (at 4 V the precession detuning lowers P again); beyond it the neuron saturates.

Device-to-device variation: every neuron has its own p-bit, whose threshold is offset by
N(0, sigma_v50_device_V^2) (drawn by :meth:`PBitActivation.program`; zero, the median device, before).
Neurons are per feature: one p-bit per output of a fully connected layer, one per channel of a conv layer
(time-multiplexed over the pixels and the samples, so all pixels of a channel see the same device).

Gradients: straight-through with the expectation's gradient (Bengio et al. 2013, "ST sigmoid"): the
forward value is the sampled bit, the backward pass is that of ``P(V(x))``. This is the estimator the
paper's sample-aware training uses (the derivative of the underlying non-linearity).

T samples: ``forward(x, generator=g, n_samples=T)`` draws T independent pulses per neuron from the same
pre-activation, i.e. from one read of the weights that produced x, the sharing the paper's energy model
(Eq. 2) assumes.
"""

from __future__ import annotations

import torch
from torch import nn

import devices
from cim_emu.crossbar.counters import record
from cim_emu.crossbar.layers.base import _all_finite
from cim_emu.rng import require_generator

__all__ = ["PBitActivation", "default_gain_V"]


def default_gain_V(card: devices.DeviceCard, pulse_width_s: float | None = None) -> float:
    """Driver gain (V per unit pre-activation) at which dP/dx at x = 0 equals the logistic sigmoid's 1/4."""
    width = card.p_bit.pulse_width_s if pulse_width_s is None else pulse_width_s
    bias_V = devices.voltage_at_probability(card.p_bit, 0.5, width)
    voltage = torch.tensor(bias_V, dtype=torch.float64, requires_grad=True)
    devices.switching_probability(card.p_bit, voltage, width).backward()
    return 0.25 / float(voltage.grad)


class PBitActivation(nn.Module):
    """Binary stochastic activation on VCMA-MTJ p-bits (see the module docstring for the law).

    Args:
        n_features: neurons (features of dim 1 of the input: the outputs of a linear layer, or the channels
            of a conv feature map).
        gain_V: driver gain in V per unit pre-activation; None = :func:`default_gain_V`.
        card: device card (default ``devices.default_card()``).
        pulse_width_s: write pulse width (s); None = the card's operating width.

    Shapes: ``forward(x, generator=g)`` maps (N, n_features, ...) -> same shape, values in {0, 1}; with
    ``n_samples=T`` it returns (T, N, n_features, ...).
    """

    def __init__(self, n_features: int, *, gain_V: float | None = None, card: devices.DeviceCard | None = None,
                 pulse_width_s: float | None = None):
        super().__init__()
        if isinstance(n_features, bool) or not isinstance(n_features, int) or n_features < 1:
            raise ValueError(f"n_features: must be an integer >= 1, got {n_features!r}")
        card = devices.default_card() if card is None else card
        if not isinstance(card, devices.DeviceCard):
            raise ValueError(f"card: expected a devices.DeviceCard, got {type(card).__name__}")
        self.n_features = n_features
        self._set_device(card, gain_V, pulse_width_s)
        self.register_buffer("v50_offsets_V", torch.zeros(n_features, dtype=torch.float64))
        self.programmed = False

    def _set_device(self, card: devices.DeviceCard, gain_V: float | None, pulse_width_s: float | None) -> None:
        width = card.p_bit.pulse_width_s if pulse_width_s is None else pulse_width_s
        if isinstance(width, bool) or not isinstance(width, (int, float)) or not 0 < width < float("inf"):
            raise ValueError(f"pulse_width_s: must be a finite number > 0 (s), got {pulse_width_s!r}")
        gain = default_gain_V(card, width) if gain_V is None else gain_V
        if isinstance(gain, bool) or not isinstance(gain, (int, float)) or not 0 < gain < float("inf"):
            raise ValueError(f"gain_V: must be a finite number > 0 (V per unit pre-activation), got {gain_V!r}")
        self.card, self.pulse_width_s, self.gain_V = card, float(width), float(gain)
        self.bias_V = devices.voltage_at_probability(card.p_bit, 0.5, self.pulse_width_s)

    @property
    def max_voltage_V(self) -> float:
        """Upper end of the driver range (V): twice the bias."""
        return 2.0 * self.bias_V

    def program(self, *, generator: torch.Generator | None) -> PBitActivation:
        """Draw every neuron's threshold offset (device-to-device variation) from ``generator``; returns self."""
        require_generator(generator, "programming p-bit neurons (device variation)")
        offsets = devices.sample_v50_offsets(self.card.p_bit, (self.n_features,), generator=generator,
                                             dtype=torch.float64)
        self.v50_offsets_V.copy_(offsets.to(self.v50_offsets_V.device))
        self.programmed = True
        return self

    def _feature_view(self, inputs: torch.Tensor) -> torch.Tensor:
        if not isinstance(inputs, torch.Tensor) or inputs.dim() < 2 or inputs.shape[1] != self.n_features:
            shape = tuple(inputs.shape) if isinstance(inputs, torch.Tensor) else type(inputs).__name__
            raise ValueError(f"input: expected shape (batch, {self.n_features}, ...) (n_features), got {shape}")
        if inputs.dtype not in (torch.float32, torch.float64):
            raise ValueError(f"input: PBitActivation needs float32 or float64 pre-activations (the switching law "
                             f"underflows in half precision), got {inputs.dtype}; cast with x.float()")
        if inputs.device != self.v50_offsets_V.device:
            raise ValueError(f"input: PBitActivation is on {self.v50_offsets_V.device} but the input is on "
                             f"{inputs.device}; move the input with x.to('{self.v50_offsets_V.device}') or the "
                             f"module with module.to('{inputs.device}')")
        if not _all_finite(inputs):
            raise ValueError("input: PBitActivation got a pre-activation with NaN or inf entries; a p-bit's pulse "
                             "voltage must be finite (check the layer before, e.g. a diverged training run)")
        return self.v50_offsets_V.view(self.n_features, *([1] * (inputs.dim() - 2)))

    def voltage_V(self, inputs: torch.Tensor) -> torch.Tensor:
        """Pulse amplitude (V) for pre-activations (N, n_features, ...): the clamped linear driver."""
        return (self.bias_V + self.gain_V * inputs).clamp(0.0, self.max_voltage_V)

    def probability(self, inputs: torch.Tensor) -> torch.Tensor:
        """Firing probability P(V(x)) of every neuron, differentiable, in the dtype of ``inputs``.

        Args:
            inputs: (N, n_features, ...) pre-activations.
        """
        # In the dtype of the inputs: float32 resolves P to ~1e-7, far below the spread between devices.
        offsets = self._feature_view(inputs).to(inputs.dtype)
        return devices.switching_probability(self.card.p_bit, self.voltage_V(inputs), self.pulse_width_s,
                                             v50_offset_V=offsets)

    def forward(self, inputs: torch.Tensor, *, generator: torch.Generator | None = None,
                n_samples: int | None = None) -> torch.Tensor:
        """Sample the neurons.

        Args:
            inputs: (N, n_features, ...) pre-activations.
            generator: source of the switching events; required.
            n_samples: pulses per neuron from the same pre-activation; None = one, without a sample dim.

        Returns:
            {0, 1} values (N, n_features, ...), or (n_samples, N, n_features, ...); gradient straight through
            ``probability``.
        """
        require_generator(generator, "PBitActivation (p-bit switching)")
        if n_samples is not None and (isinstance(n_samples, bool) or not isinstance(n_samples, int)
                                      or n_samples < 1):
            raise ValueError(f"n_samples: must be an integer >= 1 (p-bit samples per input), got {n_samples!r}")
        probability = self.probability(inputs)
        samples = 1 if n_samples is None else n_samples
        uniform = torch.rand((samples, *probability.shape), generator=generator, dtype=probability.dtype,
                             device=generator.device).to(probability.device)
        bits = (uniform < probability.detach()).to(probability.dtype)
        # One write pulse and one reset per neuron per sample.
        record(pbit_pulses=bits.numel(), pbit_resets=bits.numel())
        outputs = bits + (probability - probability.detach())
        return outputs[0] if n_samples is None else outputs

    # ---------------------------------------------------------------------------------------------- state
    def get_extra_state(self) -> dict:
        return {"card": self.card.to_dict(), "gain_V": self.gain_V, "pulse_width_s": self.pulse_width_s,
                "programmed": self.programmed}

    def set_extra_state(self, state: dict) -> None:
        if not isinstance(state, dict) or not {"card", "gain_V", "pulse_width_s"} <= set(state):
            raise ValueError("state_dict: the PBitActivation's extra state (card, gain_V, pulse_width_s) is "
                             "missing or malformed; save it with module.state_dict()")
        card = devices.DeviceCard.from_dict(state["card"], source="saved PBitActivation state")
        self._set_device(card, state["gain_V"], state["pulse_width_s"])
        self.programmed = bool(state.get("programmed", False))

    def extra_repr(self) -> str:
        return (f"n_features={self.n_features}, gain_V={self.gain_V:.4g}, bias_V={self.bias_V:.4g}, "
                f"programmed={self.programmed}")
