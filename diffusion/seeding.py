"""The named random streams of a generation run, children of one root :class:`cim_emu.rng.SeedStream`.

A run builds its root stream once (``SeedStream(seed)``, at the entry point) and every noise source takes
its own named child: ``torch_stream(root, "read_noise", device)``. A child depends only on the root seed
and its name, so drawing more numbers from one stream (more read-noise draws, say) never changes another
(the initial latents), and running one more method or comparison never changes the others. The metric
subsets take one grandchild per comparison (:func:`metrics_stream`).
"""

from __future__ import annotations

import numpy as np
import torch

from cim_emu.rng import SeedStream, as_seed_stream

__all__ = ["STREAMS", "metrics_stream", "numpy_stream", "stream", "torch_stream"]

#: The named streams of a generation run (a name outside this list is refused: a typo would silently
#: give an independent stream).
STREAMS: tuple[str, ...] = (
    "initial_latents",  # x_T of the reverse SDE
    "programming",  # device-to-device variation of the drift network's tiles
    "read_noise",  # cycle-to-cycle read noise of the drift network
    "sde_noise",  # the increments: TRNG bits or p-bit masks
    "metrics",  # KID subsets: one child per comparison (metrics_stream)
    "calibration",  # reads of the in-situ block at deployment
    "noise_block_programming",  # device and p-bit variation of the in-situ block
    "probe_states",  # states of the per-step calibration
    "probe_read_noise",  # read noise during the per-step calibration
    "probe_noise",  # increments during the per-step calibration
    "tile_calibration",  # inputs and read noise of the drift network's column calibration
    "real_subset",  # the training digits scored as "real vs real"
    "umap",  # UMAP's random_state
)


def stream(seed: int | SeedStream, name: str) -> SeedStream:
    """The child ``name`` of the root ``seed`` (an integer >= 0 or a root :class:`SeedStream`).

    Raises:
        ValueError: ``name`` is not one of :data:`STREAMS`, or the seed is negative.
    """
    if name not in STREAMS:
        raise ValueError(f"unknown random stream {name!r}; known: {list(STREAMS)}")
    return as_seed_stream(seed).child(name)


def torch_stream(seed: int | SeedStream, name: str, device: torch.device | str = "cpu") -> torch.Generator:
    """A seeded ``torch.Generator`` on ``device`` for the stream ``name`` of the root ``seed``."""
    return stream(seed, name).torch_generator(device)


def numpy_stream(seed: int | SeedStream, name: str) -> np.random.Generator:
    """A ``numpy.random.Generator`` for the stream ``name`` of the root ``seed``."""
    return stream(seed, name).numpy_generator()


def metrics_stream(seed: int | SeedStream, comparison: str) -> np.random.Generator:
    """The KID-subset generator of one comparison (``"in-situ vs ex-situ"``, ``"ex-situ vs real"``, ...).

    One stream per comparison: the subsets of one comparison do not depend on which other comparisons
    were scored before it (with a shared stream, adding the no-noise ablation changed the in-situ vs
    ex-situ KID).
    """
    if not isinstance(comparison, str) or not comparison:
        raise ValueError(f"a comparison name must be a non-empty string, got {comparison!r}")
    return stream(seed, "metrics").child(comparison).numpy_generator()
