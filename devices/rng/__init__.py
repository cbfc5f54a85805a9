"""The one home of random-number generation: named seed streams, the generator check, counter-based Philox.

It sits in ``devices`` because the device layer (the macrospin solver, bitstreams) needs it and imports
nothing else of ours; ``cim_emu.rng`` is the same module under the crossbar package's name.
"""

from devices.rng.generators import require_generator
from devices.rng.streams import SeedStream, as_seed_stream

__all__ = ["SeedStream", "as_seed_stream", "require_generator"]
