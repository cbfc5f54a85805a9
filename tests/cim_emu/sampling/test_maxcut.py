"""Max-cut: the G-set reader, the Ising mapping, the greedy baseline and annealing."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from cim_emu.sampling.maxcut import (
    Graph,
    anneal_maxcut,
    cut_values,
    greedy_local_search,
    random_gset_graph,
    read_graph,
    write_graph,
)


def _brute_force_max_cut(graph: Graph) -> float:
    spins = np.array(list(itertools.product([-1, 1], repeat=graph.n_nodes)))
    return float(cut_values(graph, spins).max())


def test_cut_is_the_ising_energy_mapping():
    graph = random_gset_graph(9, density=0.5, signed=True, generator=np.random.default_rng(0))
    model = graph.to_ising()
    spins = np.array(list(itertools.product([-1, 1], repeat=9)), dtype=np.float64)
    import torch

    energies = model.energy(torch.from_numpy(spins)).numpy()
    assert np.allclose(cut_values(graph, spins), (graph.total_weight - energies) / 2)


def test_round_trip_and_annealing_reaches_the_max_cut(tmp_path):
    graph = random_gset_graph(14, density=0.4, signed=True, generator=np.random.default_rng(1))
    path = tmp_path / "g.txt"
    write_graph(path, graph)
    loaded = read_graph(path)
    assert np.array_equal(loaded.edges, graph.edges) and np.array_equal(loaded.weights, graph.weights)
    best = _brute_force_max_cut(graph)
    result = anneal_maxcut(loaded, n_sweeps=150, n_chains=4, seed=0)
    assert result.best_cut == pytest.approx(best)
    assert float(cut_values(graph, result.best_spins)) == pytest.approx(result.best_cut)
    assert np.all(np.diff(result.best_cut_per_sweep) >= 0)
    greedy, spins = greedy_local_search(graph, n_restarts=5, generator=np.random.default_rng(0))
    assert greedy <= best and float(cut_values(graph, spins)) == pytest.approx(greedy)


def test_greedy_is_a_local_optimum():
    graph = random_gset_graph(60, density=0.2, generator=np.random.default_rng(2))
    cut, spins = greedy_local_search(graph, n_restarts=1, generator=np.random.default_rng(3))
    for node in range(60):
        flipped = spins.copy()
        flipped[node] *= -1
        assert cut_values(graph, flipped) <= cut + 1e-9


@pytest.mark.parametrize("text, message", [
    ("", ":1: empty file"),
    ("3\n", ":1: expected the header"),
    ("3 1\n1 2\n", ":2: expected 'i j w'"),
    ("3 1\n1 4 1\n", ":2: node indices must lie in 1..3"),
    ("3 1\n1 1 1\n", ":2: self-loop"),
    ("3 2\n1 2 1\n2 1 1\n", ":3: duplicate edge"),
    ("3 1\n1 2 nan\n", ":2: the weight must be finite"),
    ("3 1\n1 2 abc\n", ":2: the weight must be a number"),
    ("3 2\n1 2 1\n", "announces 2 edges but the file has 1"),
    ("3 1\n1 2 1\n2 3 1\n", ":3: more edge lines"),
    ("20000 0\n", "--allow-large"),
])
def test_bad_graph_files_name_the_line(tmp_path, text, message):
    path = tmp_path / "bad.txt"
    path.write_text(text)
    with pytest.raises(ValueError, match=message) as error:
        read_graph(path)
    assert "bad.txt" in str(error.value)


def test_comments_and_blank_lines_are_skipped(tmp_path):
    path = tmp_path / "g.txt"
    path.write_text("# a triangle\n3 3\n\n1 2 1\n2 3 1\n# middle\n1 3 -2.5\n")
    graph = read_graph(path)
    assert graph.n_nodes == 3 and graph.weights.tolist() == [1.0, 1.0, -2.5]
