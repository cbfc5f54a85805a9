"""Random-number generation for cim-emu: :mod:`devices.rng` under the crossbar package's name.

One implementation (in ``devices``, the bottom of the dependency graph, so the device physics can use it);
this package re-exports it so that crossbar, experiment and diffusion code import randomness from here.
The Philox twins load lazily, as in :mod:`devices.rng` (importing this package loads no numba).
"""

import devices.rng as _rng
from devices.rng import SeedStream, as_seed_stream, derived_generator, draw_key, draw_seed, require_generator

__all__ = [
    "SeedStream",
    "as_seed_stream",
    "box_muller_numba",
    "derived_generator",
    "box_muller_torch",
    "draw_key",
    "draw_seed",
    "philox4x32_numba",
    "philox4x32_torch",
    "require_generator",
]


def __getattr__(name: str):
    # The lazily loaded Philox names of devices.rng (PEP 562).
    return getattr(_rng, name)
