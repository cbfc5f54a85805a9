"""The one check that a stochastic function was given its source of randomness, the one key draw, child streams.

:func:`require_generator` is the single "refuse a missing generator" check of the project: library code
never falls back on a global random state. :func:`draw_key` is the single way a counter-based (Philox)
stream takes its key from a caller's generator (``draw_seed`` is the same function under the name the
crossbar kernels used).
"""

from __future__ import annotations

__all__ = ["derived_generator", "draw_key", "draw_seed", "require_generator"]

# Keys are drawn in [0, 2^63 - 1): torch.randint's bounds are signed 64-bit.
_KEY_BOUND = 2**63 - 1


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


def draw_key(generator, what: str = "a counter-based (Philox) random stream") -> int:
    """A 63-bit Philox key drawn from ``generator`` (advances it by one draw): one fresh stream per call.

    The stochastic kernels (macrospin solver, MC-dropconnect masks, column read noise) take their whole
    random stream from this one key, so the caller's generator fixes the result on any thread count.

    Args:
        generator: a ``torch.Generator`` (any device; the draw happens there).
        what: the stochastic thing being keyed, for the error message.

    Returns:
        An integer in [0, 2^63 - 1).

    Raises:
        ValueError: ``generator`` is not a ``torch.Generator``.
    """
    import torch

    require_generator(generator, what)
    return int(torch.randint(0, _KEY_BOUND, (1,), generator=generator, device=generator.device).item())


# The crossbar kernels' name for the same draw (kept importable).
draw_seed = draw_key


def derived_generator(generator, device=None, what: str = "a derived random stream"):
    """A fresh ``torch.Generator`` seeded by one :func:`draw_key` from ``generator``: a child stream.

    For library code that holds only the caller's generator (no root seed) and needs an independent stream
    for one noise source, e.g. the read path of a bitstream beside its switching decisions: drawing more or
    fewer numbers from the child never changes what the parent draws next.

    Args:
        generator: the parent ``torch.Generator`` (advanced by one draw).
        device: device of the child (default: the parent's).
        what: the stochastic thing, for the error message.
    """
    import torch

    key = draw_key(generator, what)
    return torch.Generator(device=generator.device if device is None else torch.device(device)).manual_seed(key)
