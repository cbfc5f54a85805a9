"""P-bit bitstreams in the two write modes of the paper's TRNG.

* ``RESET``: each bit is a reset pulse (back to the reference state) followed by the VCMA pulse; bits are
  independent Bernoulli(P) draws.
* ``TOGGLE``: no reset; each pulse flips the state with probability P (precessional switching is
  bidirectional). The state is a Markov chain with stationary mean 1/2 and lag-k autocorrelation
  (1 - 2P)^k, so bits are correlated unless P = 1/2.

Bits are read through the device's conductance with read noise and a sense amplifier referenced midway
between its two states; bit 1 = switched/antiparallel (low conductance) for reset mode, and the
antiparallel state for toggle mode.

Switching draws compare 32-bit uniform integers with round(P 2^32): the realised probability is P to within
1.2e-10, far below anything a randomness test of a feasible stream can see.
"""

from __future__ import annotations

import dataclasses
import enum

import torch

from devices._tensor import require_generator
from devices.card import DeviceCard
from devices.mtj import apply_read_noise, sample_device_conductances
from devices.pbit import sample_v50_offsets, switching_probability, trimmed_voltages
from devices.rng import derived_generator

__all__ = ["WriteMode", "BitstreamResult", "generate_bitstream"]

_CHUNK_BITS = 1 << 22
_LANE_BITS = 32


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
                       trim_to_half: bool = False, with_conductance: bool = False) -> BitstreamResult:
    """Simulate ``n_devices`` p-bits each producing ``n_bits`` bits.

    Args:
        card: device card (p-bit model, operating point, data-bit read path).
        n_bits: bits per device.
        mode: reset-then-write (independent bits) or toggle (Markov chain).
        generator: source of all randomness: device variation, then switching, and a read-noise stream split
            from it (so the switching draws do not depend on what the read path draws).
        n_devices: number of p-bits.
        voltage_V: pulse amplitude (the card's write voltage unless given).
        pulse_width_s: pulse width (the card's unless given).
        device_variation: draw each device's threshold offset (paper Fig. 13); False uses the median device.
        trim_to_half: set each device's pulse amplitude to its own 50 % point (the paper's configuration step:
            "the pulse duration and amplitude with a 50 % mean switching probability were used"), ignoring
            ``voltage_V``. Without it, device variation biases every device's stream.
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
    if trim_to_half:
        voltage = trimmed_voltages(card.p_bit, offsets, 0.5, width)
    probabilities = switching_probability(card.p_bit, voltage, width, v50_offset_V=offsets).to(device)
    levels = sample_device_conductances(card.data_bit, n_devices, generator=generator, dtype=torch.float64)
    reference = 0.5 * (levels.parallel_S + levels.antiparallel_S)
    state = torch.rand(n_devices, generator=generator, device=device) < 0.5  # toggle mode: unknown start
    # The read path gets its own stream, split off here, so that asking for the conductances (or the read
    # errors being drawn) never changes which pulses switched.
    read_generator = derived_generator(generator, device, "generate_bitstream")
    thresholds, always_switch = _lane_thresholds(probabilities)
    misread_parallel, misread_antiparallel = _misread_probabilities(card, levels, reference)
    draw_misreads = bool(max(misread_parallel.max(), misread_antiparallel.max()) > 2.0 ** -_LANE_BITS)
    bits = torch.empty((n_devices, n_bits), dtype=torch.uint8, device=device)
    conductances = torch.empty((n_devices, n_bits), dtype=torch.float32, device=device) if with_conductance else None
    read_errors = 0
    chunk = max(2, _CHUNK_BITS // n_devices) // 2 * 2  # bounded temporaries whatever the device count
    for start in range(0, n_bits, chunk):
        stop = min(start + chunk, n_bits)
        switched = _uniform_lanes((n_devices, stop - start), generator) < thresholds[:, None]
        if always_switch is not None:
            switched |= always_switch[:, None]
        if mode is WriteMode.RESET:
            antiparallel = switched
        else:
            flips = torch.cumsum(switched, dim=1, dtype=torch.int32) & 1
            antiparallel = state[:, None] ^ flips.bool()
            state = antiparallel[:, -1].clone()
        if with_conductance:
            true_g = torch.where(antiparallel, levels.antiparallel_S[:, None], levels.parallel_S[:, None])
            read_g = apply_read_noise(card.data_bit, true_g, generator=read_generator)
            read_bits = read_g < reference[:, None]
            conductances[:, start:stop] = read_g.to(torch.float32)
        elif draw_misreads:
            # The sense amplifier errs with the probability that read noise carries the conductance past the
            # reference: the same law as sampling the conductance, without materialising it.
            error_probability = torch.where(antiparallel, misread_antiparallel[:, None], misread_parallel[:, None])
            misread = torch.rand(antiparallel.shape, generator=read_generator, device=device,
                                 dtype=torch.float64) < error_probability
            read_bits = antiparallel ^ misread
        else:
            read_bits = antiparallel
        read_errors += int((read_bits != antiparallel).sum()) if (with_conductance or draw_misreads) else 0
        bits[:, start:stop] = read_bits.view(torch.uint8)
    return BitstreamResult(bits=bits, probabilities=probabilities, mode=mode, conductances_S=conductances,
                           read_errors=read_errors)


def _lane_thresholds(probabilities: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
    """int32 thresholds for 32-bit uniform lanes: P(lane < threshold) = round(P 2^32) / 2^32.

    Lanes are signed int32, uniform on [-2^31, 2^31); P = 1 needs the threshold 2^31, one past int32, so those
    devices are returned as a mask that always switches (None when there is none).
    """
    scaled = torch.round(probabilities.to(torch.float64) * 2.0 ** _LANE_BITS).to(torch.int64) - 2 ** (_LANE_BITS - 1)
    always = scaled >= 2 ** (_LANE_BITS - 1)
    thresholds = scaled.clamp(max=2 ** (_LANE_BITS - 1) - 1).to(torch.int32)
    return thresholds, (always if bool(always.any()) else None)


def _uniform_lanes(shape: tuple[int, int], generator: torch.Generator) -> torch.Tensor:
    """Uniform signed 32-bit integers, two per 64-bit draw (the fastest path of torch's generators)."""
    rows, columns = shape
    raw = torch.randint(-(2 ** 63), 2 ** 63 - 1, (rows, (columns + 1) // 2), generator=generator,
                        device=generator.device, dtype=torch.int64)
    return raw.view(torch.int32)[:, :columns]


def _misread_probabilities(card: DeviceCard, levels, reference: torch.Tensor):
    """Per device, the probability that one noisy read lands on the wrong side of the reference."""
    sigma = card.data_bit.read_noise_ln
    if sigma == 0:
        zero = torch.zeros_like(reference)
        return zero, zero
    # Read: G exp(-sigma e), e ~ N(0, 1).
    parallel = torch.special.ndtr(-torch.log(levels.parallel_S / reference) / sigma)
    antiparallel = torch.special.ndtr(-torch.log(reference / levels.antiparallel_S) / sigma)
    return parallel, antiparallel
