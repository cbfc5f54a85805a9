"""Max-cut on p-bit crossbars: weighted graphs (G-set text format), the Ising mapping, annealing and a
classical baseline (greedy steepest-ascent local search from random starts).

Graph file (the G-set format): a header line ``n m`` (nodes, edges), then exactly m lines ``i j w`` with
1-based node indices i != j and a finite weight w; blank lines and lines starting with ``#`` are ignored.
Each edge once (no duplicates in either direction).

Mapping: with J = -W (W the weighted adjacency) and h = 0, E(m) = sum_edges w_ij m_i m_j and
cut(m) = sum_edges w_ij (1 - m_i m_j) / 2 = (W_total - E(m)) / 2, so the ground state is the max cut.
"""

from __future__ import annotations

import dataclasses
import math
import os

import numpy as np
import torch

from cim_emu.rng import SeedStream, as_seed_stream, require_generator
from cim_emu.sampling.gibbs import GibbsSampler, HardwareMode, IdealMode, UpdateOrder
from cim_emu.sampling.model import IsingModel
from cim_emu.sampling.schedules import LinearBeta

__all__ = ["Graph", "read_graph", "write_graph", "random_gset_graph", "cut_values", "greedy_local_search",
           "MaxCutResult", "anneal_maxcut", "MAX_GRAPH_NODES"]

#: Largest graph read or annealed without ``allow_large`` (dense J of n^2 float64: 800 MB at 10^4).
MAX_GRAPH_NODES = 10_000


@dataclasses.dataclass(frozen=True, eq=False)
class Graph:
    """A weighted undirected graph.

    Attributes:
        n_nodes: node count.
        edges: (m, 2) int64 0-based endpoints, i < j.
        weights: (m,) float64 edge weights.
    """

    n_nodes: int
    edges: np.ndarray
    weights: np.ndarray

    def adjacency(self) -> torch.Tensor:
        """(n, n) float64 symmetric weighted adjacency matrix W."""
        matrix = np.zeros((self.n_nodes, self.n_nodes))
        matrix[self.edges[:, 0], self.edges[:, 1]] = self.weights
        matrix[self.edges[:, 1], self.edges[:, 0]] = self.weights
        return torch.from_numpy(matrix)

    def to_ising(self) -> IsingModel:
        """The Ising model whose ground state is the max cut (J = -W, h = 0)."""
        return IsingModel(-self.adjacency(), torch.zeros(self.n_nodes, dtype=torch.float64))

    @property
    def total_weight(self) -> float:
        return float(self.weights.sum())


def read_graph(path: str | os.PathLike, *, max_nodes: int = MAX_GRAPH_NODES) -> Graph:
    """Read a G-set style edge list (see the module docstring).

    Raises:
        ValueError: naming the file and line of the first bad line, and what was expected.
        OSError: if the file cannot be read.
    """
    name = os.fspath(path)
    header = None
    edges, weights, seen = [], [], set()
    with open(name, encoding="utf-8", errors="replace") as handle:
        for number, line in enumerate(handle, start=1):
            text = line.strip()
            if not text or text.startswith("#"):
                continue
            fields = text.split()
            where = f"{name}:{number}"
            if header is None:
                if len(fields) != 2 or not all(field.isdigit() for field in fields):
                    raise ValueError(f"{where}: expected the header 'n m' (node and edge counts, integers), "
                                     f"got {text[:60]!r}")
                header = (int(fields[0]), int(fields[1]))
                if header[0] < 2:
                    raise ValueError(f"{where}: a graph needs at least 2 nodes, got n = {header[0]}")
                if header[0] > max_nodes:
                    raise ValueError(f"{where}: {header[0]} nodes exceed {max_nodes}; pass --allow-large "
                                     f"(max_nodes) to read it")
                continue
            if len(fields) != 3:
                raise ValueError(f"{where}: expected 'i j w' (two 1-based node indices and a weight), "
                                 f"got {text[:60]!r}")
            if not (fields[0].isdigit() and fields[1].isdigit()):
                raise ValueError(f"{where}: node indices must be integers in 1..{header[0]}, got {text[:60]!r}")
            i, j = int(fields[0]), int(fields[1])
            try:
                weight = float(fields[2])
            except ValueError:
                raise ValueError(f"{where}: the weight must be a number, got {fields[2][:30]!r}") from None
            if not math.isfinite(weight):
                raise ValueError(f"{where}: the weight must be finite, got {fields[2]!r}")
            if not (1 <= i <= header[0] and 1 <= j <= header[0]):
                raise ValueError(f"{where}: node indices must lie in 1..{header[0]}, got {i} {j}")
            if i == j:
                raise ValueError(f"{where}: self-loop {i} {j}; a cut ignores self-loops, remove the line")
            key = (min(i, j), max(i, j))
            if key in seen:
                raise ValueError(f"{where}: duplicate edge {key[0]} {key[1]}; list each edge once")
            seen.add(key)
            if len(edges) == header[1]:
                raise ValueError(f"{where}: more edge lines than the header's m = {header[1]}")
            edges.append((key[0] - 1, key[1] - 1))
            weights.append(weight)
    if header is None:
        raise ValueError(f"{name}:1: empty file; expected the header 'n m' then m lines 'i j w'")
    if len(edges) != header[1]:
        raise ValueError(f"{name}:{number}: the header announces {header[1]} edges but the file has {len(edges)}")
    return Graph(header[0], np.array(edges, dtype=np.int64).reshape(-1, 2), np.array(weights, dtype=np.float64))


def write_graph(path: str | os.PathLike, graph: Graph) -> None:
    """Write ``graph`` in the G-set format, atomically."""
    from devices import atomic_write

    with atomic_write(path) as handle:
        handle.write(f"{graph.n_nodes} {len(graph.weights)}\n")
        for (i, j), weight in zip(graph.edges.tolist(), graph.weights.tolist(), strict=True):
            handle.write(f"{i + 1} {j + 1} {weight:g}\n")


def random_gset_graph(n_nodes: int = 800, *, density: float = 0.06, signed: bool = False,
                      generator: np.random.Generator) -> Graph:
    """A G-set-like random graph (rudy's generator: G1-G5 are 800 nodes, 6 % density, unit weights;
    G6-G10 the same with +-1 weights, ``signed=True``)."""
    require_generator(generator, "random_gset_graph", kind="numpy")
    if not 0 < density <= 1:
        raise ValueError(f"density: must be in (0, 1], got {density!r}")
    rows, columns = np.triu_indices(n_nodes, 1)
    chosen = generator.random(rows.size) < density
    edges = np.stack([rows[chosen], columns[chosen]], axis=1).astype(np.int64)
    weights = (generator.choice([-1.0, 1.0], size=len(edges)) if signed else np.ones(len(edges)))
    return Graph(n_nodes, edges, weights)


def cut_values(graph: Graph, spins: np.ndarray | torch.Tensor) -> np.ndarray:
    """Cut weight of spins (..., n) in {-1, +1}: sum of w_ij over edges whose ends differ."""
    spins = np.asarray(spins, dtype=np.float64)
    differ = spins[..., graph.edges[:, 0]] != spins[..., graph.edges[:, 1]]
    return differ.astype(np.float64) @ graph.weights


def greedy_local_search(graph: Graph, *, n_restarts: int, generator: np.random.Generator) -> tuple[float, np.ndarray]:
    """The classical baseline: from random cuts, flip the node of largest positive gain until none is left.

    Returns:
        (best cut, its spins (n,) int8) over the restarts.
    """
    require_generator(generator, "greedy_local_search", kind="numpy")
    adjacency = graph.adjacency().numpy()
    best_cut, best_spins = -math.inf, None
    for _ in range(n_restarts):
        spins = generator.choice([-1.0, 1.0], size=graph.n_nodes)
        sums = adjacency @ spins
        while True:
            # Flipping i moves its edges to agreeing neighbours into the cut: gain = m_i sum_j w_ij m_j.
            gains = spins * sums
            node = int(np.argmax(gains))
            if gains[node] <= 1e-12:
                break
            spins[node] = -spins[node]
            sums += 2 * spins[node] * adjacency[:, node]
        cut = float(cut_values(graph, spins))
        if cut > best_cut:
            best_cut, best_spins = cut, spins.astype(np.int8)
    return best_cut, best_spins


@dataclasses.dataclass(frozen=True)
class MaxCutResult:
    """An annealing run on a graph.

    Attributes:
        best_cut_per_sweep: (n_sweeps,) best cut found so far (over all chains) after each sweep.
        best_cut: the largest cut found.
        best_spins: (n,) int8 its partition.
        betas: (n_sweeps,) the schedule.
        n_flips: spin updates made.
        wall_s: wall time of the sweeps (s).
        op_counts: hardware events (empty of p-bit events in ideal mode).
        n_colours: parallel blocks per sweep.
    """

    best_cut_per_sweep: np.ndarray
    best_cut: float
    best_spins: np.ndarray
    betas: np.ndarray
    n_flips: int
    wall_s: float
    op_counts: dict
    n_colours: int


def anneal_maxcut(graph: Graph, *, n_sweeps: int, seed: int | SeedStream, n_chains: int = 4, schedule=None,
                  mode: IdealMode | HardwareMode | None = None, progress=None) -> MaxCutResult:
    """Anneal the max-cut Ising model with coloured block Gibbs.

    Args:
        graph: the graph.
        n_sweeps: sweeps per chain.
        seed: root seed (hardware draws from its child "hardware", the run from "run").
        n_chains: independent annealing chains; the best cut over them is reported.
        schedule: beta schedule (default: linear 0.1 -> 3 over the run, per unit edge weight).
        mode: ideal or hardware sampler.
        progress: ``progress(stage, done, total)`` callback.
    """
    stream = as_seed_stream(seed)
    model = graph.to_ising()
    schedule = LinearBeta(0.1, 3.0) if schedule is None else schedule
    sampler = GibbsSampler(model, mode=mode, order=UpdateOrder.BLOCK, seed=stream.child("hardware"))
    result = sampler.run(schedule, n_sweeps=n_sweeps, n_chains=n_chains, seed=stream.child("run"),
                         correlations=False, energies=True, progress=progress)
    # cut = (W_total - E) / 2 for every chain; best so far over sweeps and chains.
    cuts = (graph.total_weight - result.energies.numpy()) / 2
    best_index = int(np.argmin(result.best_energy.numpy()))
    return MaxCutResult(
        best_cut_per_sweep=np.maximum.accumulate(cuts.max(axis=1)),
        best_cut=float(cut_values(graph, result.best_spins[best_index].numpy())),
        best_spins=result.best_spins[best_index].numpy(),
        betas=result.betas.numpy(),
        n_flips=result.n_flips,
        wall_s=result.wall_s,
        op_counts=result.op_counts,
        n_colours=result.n_blocks,
    )
