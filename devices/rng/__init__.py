"""The one home of random-number generation: named seed streams, the generator check, counter-based Philox.

It sits in ``devices`` because the device layer (the macrospin solver, bitstreams) needs it and imports
nothing else of ours; ``cim_emu.rng`` is the same module under the crossbar package's name.

* :class:`SeedStream`: a root seed, then named children (every entry point builds one);
* :func:`require_generator`: the one "refuse a missing generator" check;
* :func:`draw_key` (alias ``draw_seed``): the one draw of a Philox key from a caller's generator;
* :func:`derived_generator`: a child torch generator keyed from a caller's generator (one noise source);
* Philox4x32-10 twins: :func:`philox4x32_torch` and :func:`box_muller_torch` (:mod:`devices.rng.philox`),
  :func:`philox4x32_numba` and :func:`box_muller_numba` (:mod:`devices.rng.philox_numba`, for CPU kernels).

Importing this package loads neither torch nor numba (the NIST suite uses seed streams without them): the
Philox names load their module on first access.
"""

from devices.rng.generators import derived_generator, draw_key, draw_seed, require_generator
from devices.rng.streams import SeedStream, as_seed_stream

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

_LAZY = {
    "philox4x32_torch": "devices.rng.philox",
    "box_muller_torch": "devices.rng.philox",
    "philox4x32_numba": "devices.rng.philox_numba",
    "box_muller_numba": "devices.rng.philox_numba",
}


def __getattr__(name: str):
    # Module-level lazy attributes (PEP 562): torch and numba load only when their Philox is asked for.
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'devices.rng' has no attribute {name!r}")
