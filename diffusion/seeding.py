"""One independent random stream per noise source, split from one root seed.

Following torchsde and numpy's guidance, streams are derived with ``numpy.random.SeedSequence(seed)
.spawn``: drawing more numbers from one stream (say, more read-noise draws) never changes another
(say, the initial latents).
"""

from __future__ import annotations

import numpy as np
import torch

__all__ = ["STREAMS", "torch_stream", "numpy_stream"]

#: The named streams of a generation run, in spawn order (never reorder: it would change results).
STREAMS: tuple[str, ...] = (
    "initial_latents",  # x_T of the reverse SDE
    "programming",  # device-to-device variation of the drift network's tiles
    "read_noise",  # cycle-to-cycle read noise of the drift network
    "sde_noise",  # the increments: TRNG bits or p-bit masks
    "metrics",  # KID subsets
    "calibration",  # reads of the in-situ block at deployment
    "noise_block_programming",  # device and p-bit variation of the in-situ block
    "probe_states",  # states of the per-step calibration
    "probe_read_noise",  # read noise during the per-step calibration
    "probe_noise",  # increments during the per-step calibration
    "tile_calibration",  # inputs and read noise of the drift network's column calibration
)


def _child(seed: int, name: str) -> np.random.SeedSequence:
    if int(seed) < 0:
        raise ValueError(f"seed must be >= 0, got {seed}")
    if name not in STREAMS:
        raise ValueError(f"unknown random stream {name!r}; known: {list(STREAMS)}")
    return np.random.SeedSequence(int(seed)).spawn(len(STREAMS))[STREAMS.index(name)]


def torch_stream(seed: int, name: str, device: torch.device | str = "cpu") -> torch.Generator:
    """A seeded ``torch.Generator`` on ``device`` for the stream ``name`` of root ``seed``."""
    generator = torch.Generator(device=torch.device(device))
    # 63 bits: torch seeds are signed 64-bit on some paths.
    generator.manual_seed(int(_child(seed, name).generate_state(1, dtype=np.uint64)[0] >> np.uint64(1)))
    return generator


def numpy_stream(seed: int, name: str) -> np.random.Generator:
    """A ``numpy.random.Generator`` for the stream ``name`` of root ``seed``."""
    return np.random.default_rng(_child(seed, name))
