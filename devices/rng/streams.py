"""Named random streams: one root seed, then a tree of named children (numpy ``SeedSequence`` underneath).

Every entry point (CLI command, demo stage, sweep cell, test) builds one :class:`SeedStream` from its root
seed and hands each noise source its own named child: ``SeedStream(7).child("generation").child("read_noise")``.
A child depends only on the root seed and its path of names, so drawing more numbers from one stream (more
read-noise draws, say) never changes another (the device variation), and adding a stream never changes the
existing ones. Integer children (``spawn(n)``, a sweep cell's index) follow numpy's ``spawn_key`` convention.
"""

from __future__ import annotations

import dataclasses
import zlib

import numpy as np

__all__ = ["SeedStream", "as_seed_stream"]

# torch seeds are signed 64-bit on some paths: every torch generator gets a 63-bit seed.
_TORCH_SEED_BITS = 63


def _name_key(name: str) -> int:
    """A stable 32-bit key for a stream name (CRC-32 of its UTF-8 bytes; identical on every platform)."""
    if not isinstance(name, str) or not name:
        raise ValueError(f"a random stream name must be a non-empty string, got {name!r}")
    return zlib.crc32(name.encode("utf-8"))


@dataclasses.dataclass(frozen=True)
class SeedStream:
    """A node of the seed tree: a root seed and the path of child keys that leads here.

    Attributes:
        seed: the root seed, an integer >= 0.
        path: the spawn key of this node: names hashed to 32-bit keys, integers kept as they are.
        names: the same path as written (for messages and records).
    """

    seed: int
    path: tuple[int, ...] = ()
    names: tuple[str | int, ...] = ()

    def __post_init__(self) -> None:
        if isinstance(self.seed, bool) or not isinstance(self.seed, (int, np.integer)) or int(self.seed) < 0:
            raise ValueError(f"seed must be an integer >= 0, got {self.seed!r}")

    def child(self, name: str) -> SeedStream:
        """The child stream called ``name``."""
        return SeedStream(int(self.seed), (*self.path, _name_key(name)), (*self.names, name))

    def index(self, index: int) -> SeedStream:
        """The child stream number ``index`` (>= 0), e.g. a sweep cell or a device in an array."""
        if isinstance(index, bool) or not isinstance(index, (int, np.integer)) or int(index) < 0:
            raise ValueError(f"a stream index must be an integer >= 0, got {index!r}")
        # Offset past the 32-bit name keys so that index k never collides with a name's key.
        return SeedStream(int(self.seed), (*self.path, 2**32 + int(index)), (*self.names, int(index)))

    def spawn(self, n_children: int) -> list[SeedStream]:
        """``n_children`` indexed children: ``[self.index(0), ..., self.index(n_children - 1)]``."""
        return [self.index(k) for k in range(int(n_children))]

    def seed_sequence(self) -> np.random.SeedSequence:
        """The numpy ``SeedSequence`` of this node."""
        return np.random.SeedSequence(int(self.seed), spawn_key=self.path)

    def integer(self, bits: int = _TORCH_SEED_BITS) -> int:
        """A derived integer seed of ``bits`` bits (1-64) for APIs that take a plain seed."""
        if not 1 <= bits <= 64:
            raise ValueError(f"bits must be in 1..64, got {bits}")
        word = int(self.seed_sequence().generate_state(1, dtype=np.uint64)[0])
        return word >> (64 - bits)

    def numpy_generator(self) -> np.random.Generator:
        """A ``numpy.random.Generator`` (PCG64) drawing from this stream."""
        return np.random.default_rng(self.seed_sequence())

    def torch_generator(self, device="cpu"):
        """A ``torch.Generator`` on ``device`` seeded from this stream (63-bit seed)."""
        import torch  # torch-free users (the NIST suite) never pay for the import

        generator = torch.Generator(device=torch.device(device))
        generator.manual_seed(self.integer(_TORCH_SEED_BITS))
        return generator

    def __str__(self) -> str:
        return "/".join([str(self.seed), *map(str, self.names)])


def as_seed_stream(seed: int | SeedStream) -> SeedStream:
    """Accept a root seed or an existing stream (entry points take either)."""
    return seed if isinstance(seed, SeedStream) else SeedStream(seed)
