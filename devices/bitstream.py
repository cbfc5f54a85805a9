"""P-bit bitstreams in the two write modes of the paper's TRNG.

* ``RESET``: each bit is a reset pulse (back to the reference state) followed by the VCMA pulse; bits are
  independent Bernoulli(P) draws.
* ``TOGGLE``: no reset; each pulse flips the state with probability P (precessional switching is
  bidirectional). The state is a Markov chain with stationary mean 1/2 and lag-k autocorrelation
  (1 - 2P)^k, so bits are correlated unless P = 1/2.

Bits are read through the device's conductance with read noise and a sense amplifier referenced midway
between its two states; bit 1 = switched/antiparallel (low conductance) for reset mode, and the
antiparallel state for toggle mode.
"""

from __future__ import annotations

import dataclasses
import enum

import torch

from devices._tensor import require_generator
from devices.card import DeviceCard
from devices.mtj import apply_read_noise, sample_device_conductances
from devices.pbit import sample_v50_offsets, switching_probability

__all__ = ["WriteMode", "BitstreamResult", "generate_bitstream"]

_CHUNK_BITS = 1 << 22


class WriteMode(enum.Enum):
    """How successive p-bit samples are written."""

    RESET = "reset"
    TOGGLE = "toggle"


@dataclasses.dataclass(frozen=True)
class BitstreamResult:
    """Simulated p-bit bitstreams.

    Attributes:
        bits: uint8 tensor (n_devices, n_bits) of read-out bits.
        probabilities: float64 tensor (n_devices,): each device's switching probability per pulse.
        mode: the write mode.
        conductances_S: float32 tensor (n_devices, n_bits) of the read conductances, if requested.
        read_errors: number of bits whose read-out differs from the true magnetic state.
    """

    bits: torch.Tensor
    probabilities: torch.Tensor
    mode: WriteMode
    conductances_S: torch.Tensor | None = None
    read_errors: int = 0


def generate_bitstream(card: DeviceCard, n_bits: int, *, mode: WriteMode = WriteMode.RESET,
                       generator: torch.Generator, n_devices: int = 1, voltage_V: float | None = None,
                       pulse_width_s: float | None = None, device_variation: bool = True,
                       with_conductance: bool = False) -> BitstreamResult:
    """Simulate ``n_devices`` p-bits each producing ``n_bits`` bits.

    Args:
        card: device card (p-bit model, operating point, data-bit read path).
        n_bits: bits per device.
        mode: reset-then-write (independent bits) or toggle (Markov chain).
        generator: source of all randomness (device variation, switching, read noise), in that order.
        n_devices: number of p-bits.
        voltage_V: pulse amplitude (the card's write voltage unless given).
        pulse_width_s: pulse width (the card's unless given).
        device_variation: draw each device's threshold offset (paper Fig. 13); False uses the median device.
        with_conductance: also return the read conductance of every bit (memory: 4 bytes per bit).

    Returns:
        A :class:`BitstreamResult` on the generator's device. Work is chunked, so 1e8 bits need ~1e8 bytes.
    """
    require_generator(generator, "generate_bitstream")
    if not isinstance(mode, WriteMode):
        raise ValueError(f"mode must be a WriteMode (RESET or TOGGLE), got {mode!r}")
    if n_bits < 1 or n_devices < 1:
        raise ValueError(f"n_bits and n_devices must be >= 1, got {n_bits} and {n_devices}")
    device = generator.device
    voltage = card.p_bit.write_voltage_V if voltage_V is None else voltage_V
    width = card.p_bit.pulse_width_s if pulse_width_s is None else pulse_width_s
    offsets = (sample_v50_offsets(card.p_bit, n_devices, generator=generator, dtype=torch.float64)
               if device_variation else torch.zeros(n_devices, dtype=torch.float64, device=device))
    probabilities = switching_probability(card.p_bit, voltage, width, v50_offset_V=offsets).to(device)
    levels = sample_device_conductances(card.data_bit, n_devices, generator=generator)
    threshold = 0.5 * (levels.parallel_S + levels.antiparallel_S)
    state = torch.rand(n_devices, generator=generator, device=device) < 0.5  # toggle mode: unknown start
    bits = torch.empty((n_devices, n_bits), dtype=torch.uint8, device=device)
    conductances = torch.empty((n_devices, n_bits), dtype=torch.float32, device=device) if with_conductance else None
    read_errors = 0
    chunk = max(1, _CHUNK_BITS // n_devices)  # bounded temporaries whatever the device count
    for start in range(0, n_bits, chunk):
        stop = min(start + chunk, n_bits)
        # float64 uniforms keep the Bernoulli probability exact to ~1e-16, not 2^-24.
        switched = torch.rand((n_devices, stop - start), generator=generator, device=device,
                              dtype=torch.float64) < probabilities[:, None]
        if mode is WriteMode.RESET:
            antiparallel = switched
        else:
            flips = torch.cumsum(switched.to(torch.int32), dim=1) & 1
            antiparallel = state[:, None] ^ flips.bool()
            state = antiparallel[:, -1].clone()
        true_g = torch.where(antiparallel, levels.antiparallel_S[:, None], levels.parallel_S[:, None])
        read_g = apply_read_noise(card.data_bit, true_g, generator=generator)
        read_bits = read_g < threshold[:, None]
        read_errors += int((read_bits != antiparallel).sum())
        bits[:, start:stop] = read_bits.to(torch.uint8)
        if conductances is not None:
            conductances[:, start:stop] = read_g
    return BitstreamResult(bits=bits, probabilities=probabilities, mode=mode, conductances_S=conductances,
                           read_errors=read_errors)
