"""TRNG simulation: per-device p-bit bitstreams from the device layer (``cim-emu trng`` and the demo).

One stream per simulated p-bit, each with its own device variation. Device ``k`` draws from the named stream
``SeedStream(seed).child("trng").index(k)``, so adding devices never changes the streams of the first ones and
the streams do not depend on the thread count.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np

__all__ = ["TrngSimulation", "simulate_trng", "TRNG_STREAM"]

#: The name of the TRNG's child stream under the root seed.
TRNG_STREAM = "trng"


@dataclasses.dataclass(frozen=True)
class TrngSimulation:
    """Simulated p-bit streams.

    Attributes:
        bits: uint8 array (n_devices, n_bits) of 0/1.
        probabilities: each device's switching probability at its pulse.
        conductances_S: float32 array (n_devices, n_bits) of read conductances (S), or None if not kept.
        read_errors: bits whose read-out differs from the written state, over all devices.
    """

    bits: np.ndarray
    probabilities: list[float]
    conductances_S: np.ndarray | None
    read_errors: int


def simulate_trng(card, *, n_bits: int, n_devices: int, seed: int, mode: str = "reset",
                  voltage_V: float | None = None, pulse_width_s: float | None = None, trimmed: bool = True,
                  keep_conductance: bool = False, torch_device: str = "cpu",
                  on_device_done: Callable[[], None] | None = None) -> TrngSimulation:
    """Simulate ``n_devices`` p-bits of ``card`` producing ``n_bits`` bits each.

    Args:
        card: the device card.
        n_bits: bits per device (>= 1).
        n_devices: number of p-bits (>= 1).
        seed: root seed (see the module docstring).
        mode: ``"reset"`` (reset-then-write, independent bits) or ``"toggle"``.
        voltage_V: pulse amplitude (V) of untrimmed devices (default: the card's write voltage).
        pulse_width_s: pulse width (s) (default: the card's).
        trimmed: pulse each device at its own 50 % point (ignores ``voltage_V``).
        keep_conductance: also keep every read conductance (4 bytes per bit).
        torch_device: torch device of the simulation.
        on_device_done: called after each device (progress).

    Raises:
        ValueError: non-positive sizes, an unknown mode, a non-finite or non-positive pulse.
    """
    import math

    import devices
    from cim_emu.rng import SeedStream

    if n_bits < 1 or n_devices < 1:
        raise ValueError(f"n_bits and n_devices must be >= 1, got {n_bits} and {n_devices}")
    for name, value in (("voltage_V", voltage_V), ("pulse_width_s", pulse_width_s)):
        if value is not None and not (math.isfinite(value) and value > 0):
            raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    write_mode = devices.WriteMode(mode)
    streams = SeedStream(seed).child(TRNG_STREAM).spawn(n_devices)
    bits = np.empty((n_devices, n_bits), dtype=np.uint8)
    conductances = np.empty((n_devices, n_bits), dtype=np.float32) if keep_conductance else None
    probabilities, read_errors = [], 0
    for index, stream in enumerate(streams):
        result = devices.generate_bitstream(
            card, n_bits, mode=write_mode, generator=stream.torch_generator(torch_device), voltage_V=voltage_V,
            pulse_width_s=pulse_width_s, trim_to_half=trimmed, with_conductance=keep_conductance)
        bits[index] = result.bits[0].cpu().numpy()
        if conductances is not None:
            conductances[index] = result.conductances_S[0].cpu().numpy()
        probabilities.append(float(result.probabilities[0]))
        read_errors += result.read_errors
        if on_device_done is not None:
            on_device_done()
    return TrngSimulation(bits=bits, probabilities=probabilities, conductances_S=conductances,
                          read_errors=read_errors)
