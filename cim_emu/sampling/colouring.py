"""Graph colouring of the coupling graph: the independent sets that block Gibbs updates in parallel.

Spins of one colour share no coupling, so given the other colours they are conditionally independent
and one MVM plus one parallel p-bit pulse updates all of them exactly (Gibbs is still exact).
"""

from __future__ import annotations

import numpy as np

from cim_emu.sampling.model import IsingModel

__all__ = ["greedy_colouring", "colour_blocks", "sequential_blocks", "check_blocks"]


def greedy_colouring(model: IsingModel) -> np.ndarray:
    """Colour of every spin (n,) int64, by the Welsh-Powell greedy rule (largest degree first).

    Uses at most max_degree + 1 colours; deterministic (ties broken by spin index).
    """
    neighbours = model.neighbours()
    degrees = np.array([len(item) for item in neighbours])
    order = np.lexsort((np.arange(model.n_spins), -degrees))
    colours = np.full(model.n_spins, -1, dtype=np.int64)
    for spin in order:
        taken = set(colours[neighbours[spin]].tolist())
        colour = 0
        while colour in taken:
            colour += 1
        colours[spin] = colour
    return colours


def colour_blocks(model: IsingModel) -> list[np.ndarray]:
    """Independent sets of the greedy colouring, as sorted index arrays, one per colour (sizes descending)."""
    colours = greedy_colouring(model)
    return [np.flatnonzero(colours == colour) for colour in range(int(colours.max()) + 1)]


def sequential_blocks(n_spins: int) -> list[np.ndarray]:
    """One block per spin, in index order: the systematic-scan sequential Gibbs sampler."""
    return [np.array([spin]) for spin in range(n_spins)]


def check_blocks(model: IsingModel, blocks: list[np.ndarray], clamped: np.ndarray | None = None) -> None:
    """Raise ``ValueError`` unless ``blocks`` partition the free spins into uncoupled (independent) sets.

    ``clamped`` spins (conditioning inputs, never updated) must not appear in any block.
    """
    seen = np.zeros(model.n_spins, dtype=np.int64)
    for number, block in enumerate(blocks):
        block = np.asarray(block)
        if block.ndim != 1 or block.size == 0:
            raise ValueError(f"blocks[{number}]: expected a non-empty 1-D index array")
        if block.min() < 0 or block.max() >= model.n_spins:
            raise ValueError(f"blocks[{number}]: spin indices must lie in [0, {model.n_spins})")
        seen[block] += 1
        inner = model.J[np.ix_(block, block)]
        if bool((inner != 0).any()):
            i, j = (int(block[k]) for k in np.argwhere(inner.numpy() != 0)[0])
            raise ValueError(f"blocks[{number}]: spins {i} and {j} are coupled (J = {float(model.J[i, j])}); "
                             "a parallel block must be an independent set (use colour_blocks)")
    wanted = np.ones(model.n_spins, dtype=np.int64)
    if clamped is not None and len(clamped):
        wanted[np.asarray(clamped, dtype=np.int64)] = 0
    if not np.all(seen == wanted):
        spin = int(np.flatnonzero(seen != wanted)[0])
        if wanted[spin] == 0:
            raise ValueError(f"blocks: spin {spin} is clamped but appears in a block; clamped spins are never "
                             "updated")
        raise ValueError(f"blocks: spin {spin} is updated {int(seen[spin])} times per sweep; each spin once")
