"""Random-number generation for cim-emu: :mod:`devices.rng` under the crossbar package's name.

One implementation (in ``devices``, the bottom of the dependency graph, so the device physics can use it);
this package re-exports it so that crossbar, experiment and diffusion code import randomness from here.
"""

from devices.rng import *  # noqa: F403
from devices.rng import __all__  # noqa: F401
