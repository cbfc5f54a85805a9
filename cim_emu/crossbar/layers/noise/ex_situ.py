"""Ex-situ noise: approximately Gaussian numbers built from the bits of a separate p-bit TRNG.

The conventional (ex-situ) scheme of the paper's Fig. 2: a p-bit array generates random bits, they are
sampled, buffered and transferred to the compute unit, which sums ``bits_per_sample`` of them into one
number and standardises it:

    z = (S - K p) / sqrt(K p (1 - p)),    S = sum of K bits,  p = the TRNG's switching probability,

a Binomial(K, p) variable with mean 0 and variance 1 that tends to N(0, 1) as K grows (excess kurtosis
(1 - 6 p (1 - p)) / (K p (1 - p)): -2 / K at p = 1/2). The bits come from ``devices.generate_bitstream`` in
reset mode (independent bits, read out through the data-bit read path), with the TRNG at its calibrated
operating point: every TRNG device at the median p-bit (``device_variation=False`` of the device layer),
as the paper configures its TRNG at the 50 % point. Every bit generated and moved is counted
(``trng_bits_generated``, ``bits_moved``) with the digital additions of the sums, for the energy model.
"""

from __future__ import annotations

import math

import torch

import devices
from cim_emu.crossbar.config import WritePulse
from cim_emu.crossbar.counters import record
from cim_emu.rng import require_generator

__all__ = ["TRNGGaussianNoise"]


class TRNGGaussianNoise:
    """Standardised sums of TRNG bits: mean 0, variance 1, approximately Gaussian.

    Args:
        bits_per_sample: bits summed per number (K >= 1); more bits, closer to Gaussian, more bits moved.
        pulse: TRNG write pulse (default: the card's operating point, p = 0.5).
        card: device card (default ``devices.default_card()``).
        n_devices: p-bits in the TRNG array; consecutive bits of one number come from different devices.
    """

    def __init__(self, bits_per_sample: int = 16, *, pulse: WritePulse | None = None,
                 card: devices.DeviceCard | None = None, n_devices: int = 64):
        if isinstance(bits_per_sample, bool) or not isinstance(bits_per_sample, int) or bits_per_sample < 1:
            raise ValueError(f"bits_per_sample: must be an integer >= 1, got {bits_per_sample!r}")
        if isinstance(n_devices, bool) or not isinstance(n_devices, int) or n_devices < 1:
            raise ValueError(f"n_devices: must be an integer >= 1, got {n_devices!r}")
        self.card = devices.default_card() if card is None else card
        self.pulse = WritePulse.from_card(self.card) if pulse is None else pulse
        self.bits_per_sample = bits_per_sample
        self.n_devices = n_devices
        self.probability = float(devices.switching_probability(self.card.p_bit, self.pulse.voltage_V,
                                                               self.pulse.pulse_width_s))
        if not 0.0 < self.probability < 1.0:
            raise ValueError(f"pulse: the TRNG's switching probability is {self.probability} at {self.pulse}; "
                             "a TRNG needs 0 < p < 1 (choose a pulse inside the stochastic window)")

    @property
    def excess_kurtosis(self) -> float:
        """Excess kurtosis of the standardised Binomial(K, p) output (0 for a Gaussian)."""
        p, k = self.probability, self.bits_per_sample
        return (1 - 6 * p * (1 - p)) / (k * p * (1 - p))

    def bits(self, n_samples: int, *, generator: torch.Generator) -> torch.Tensor:
        """(n_samples, bits_per_sample) uint8 TRNG bits, as the compute unit receives them."""
        if isinstance(n_samples, bool) or not isinstance(n_samples, int) or n_samples < 1:
            raise ValueError(f"n_samples: TRNGGaussianNoise.bits needs an integer >= 1, got {n_samples!r}")
        n_bits = n_samples * self.bits_per_sample
        per_device = math.ceil(n_bits / self.n_devices)
        stream = devices.generate_bitstream(self.card, per_device, mode=devices.WriteMode.RESET,
                                            generator=generator, n_devices=self.n_devices,
                                            voltage_V=self.pulse.voltage_V, pulse_width_s=self.pulse.pulse_width_s,
                                            device_variation=False)
        # Device-fastest order: the K bits of one number come from K different devices.
        ordered = stream.bits.T.reshape(-1)[:n_bits]
        record(trng_bits_generated=n_bits, bits_moved=n_bits)
        return ordered.reshape(n_samples, self.bits_per_sample)

    def __call__(self, shape, *, generator: torch.Generator, dtype: torch.dtype = torch.float32) -> torch.Tensor:
        """Noise of ``shape`` (on the generator's device): standardised bit sums.

        Args:
            shape: output shape (int or tuple).
            generator: source of the TRNG's randomness (required).
            dtype: floating dtype of the result.
        """
        require_generator(generator, "generator: TRNGGaussianNoise")
        shape = _check_shape(shape)
        if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
            raise ValueError(f"dtype: TRNGGaussianNoise returns standardised real numbers; give a floating dtype "
                             f"(e.g. torch.float32), got {dtype!r}")
        n_samples = shape.numel()
        if n_samples == 0:
            return torch.empty(shape, dtype=dtype, device=generator.device)
        sums = self.bits(n_samples, generator=generator).to(torch.float64).sum(dim=1)
        record(digital_adds=n_samples * (self.bits_per_sample - 1))
        k, p = self.bits_per_sample, self.probability
        standardized = (sums - k * p) / math.sqrt(k * p * (1 - p))
        return standardized.to(dtype).reshape(shape)


def _check_shape(shape) -> torch.Size:
    """``shape`` (an int or a sequence of ints >= 0) as a ``torch.Size``, or a ``ValueError`` naming it."""
    items = (shape,) if isinstance(shape, int) else shape
    try:
        items = tuple(items)
    except TypeError:
        items = None
    if items is None or any(isinstance(item, bool) or not isinstance(item, int) or item < 0 for item in items):
        raise ValueError(f"shape: TRNGGaussianNoise needs an int or a tuple of ints >= 0 (e.g. (batch, dim)), "
                         f"got {shape!r}")
    return torch.Size(items)
