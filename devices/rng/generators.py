"""The one check that a stochastic function was given its source of randomness."""

from __future__ import annotations

__all__ = ["require_generator"]


def require_generator(generator, what: str, *, kind: str = "torch"):
    """Return ``generator``, or refuse to fall back on a global random state.

    Args:
        generator: the generator passed by the caller.
        what: the stochastic thing being run, for the message ("the macrospin solver", "MC-dropconnect").
        kind: ``"torch"`` for a ``torch.Generator``, ``"numpy"`` for a ``numpy.random.Generator``.

    Raises:
        ValueError: naming the fix, when ``generator`` is missing or of the wrong kind.
    """
    if kind == "torch":
        import torch

        expected, example = torch.Generator, "generator=torch.Generator(device).manual_seed(seed)"
    elif kind == "numpy":
        import numpy as np

        expected, example = np.random.Generator, "generator=numpy.random.default_rng(seed)"
    else:
        raise ValueError(f"kind must be 'torch' or 'numpy', got {kind!r}")
    if not isinstance(generator, expected):
        raise ValueError(f"{what} is stochastic: pass {example} "
                         f"(or a stream of cim_emu.rng.SeedStream; got {type(generator).__name__})")
    return generator
