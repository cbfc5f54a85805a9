"""The suite's counting kernels walk the bits in chunks: chunk boundaries must not change any count.

Each kernel runs once with the default chunk and once with chunks of a few hundred bits (odd sizes, so
boundaries fall inside blocks, windows, random-walk cycles and Maurer's tables), and the results must be
equal; the results themselves are checked against the spec-literal oracle in ``test_nist_oracle.py``.
"""

from __future__ import annotations

import numpy as np
import pytest

from cim_emu.randomness import SuiteConfig, run_suite
from cim_emu.randomness.sp800_22 import _kernels
from cim_emu.randomness.sp800_22.dft import peaks_below_threshold

SMALL_CHUNKS = (257, 1000)


def _sequences() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(2026)
    biased = (rng.random(60_000) < 0.52).astype(np.uint8)        # a walk that drifts: few zeros
    bursts = np.repeat(rng.integers(0, 2, 3_000, dtype=np.uint8), rng.integers(1, 40, 3_000))
    return {
        "random": rng.integers(0, 2, 60_000, dtype=np.uint8),
        "biased": biased,
        "bursts": bursts,                                           # long runs, periodic-template matches
        "alternating": np.tile(np.array([0, 1], dtype=np.uint8), 20_000),  # a zero every second step
    }


def _all_counts(bits: np.ndarray) -> dict[str, object]:
    n = bits.size
    threshold = float(np.sqrt(np.log(20.0) * n))
    return {
        "ones": _kernels.count_ones(bits),
        "transitions": _kernels.count_transitions(bits),
        "block_ones": _kernels.block_ones(bits, 333, n // 333),
        "longest": _kernels.longest_run_per_block(bits, 128, n // 128),
        "ranks": _kernels.gf2_ranks(bits, 32, 32, n // 1024),
        "ranks_wide": _kernels.gf2_ranks(bits, 9, 70, n // 630),
        "circular": _kernels.circular_window_counts(bits, 11),
        "block_windows": _kernels.block_window_counts(bits, 9, n // 8, 8),
        "periodic": _kernels.non_overlapping_matches(bits, 0b000, 3, n // 8, 8),
        "overlapping": _kernels.overlapping_matches(bits, 0b111111111, 9, 1032, n // 1032),
        "universal": _kernels.universal_log_sum(bits, 6, 640, n // 6 - 640),
        "complexities": _kernels.linear_complexities(bits, 500, n // 500),
        "walk": _kernels.random_walk(bits),
        "peaks_packed": peaks_below_threshold(bits, threshold, skip_dc=False, direct_max_bits=0),
        "peaks_four_step": peaks_below_threshold(bits, threshold, skip_dc=True, four_step_min_points=1,
                                                 direct_max_bits=0),
    }


def _assert_equal(expected: dict, actual: dict, label: str) -> None:
    for key, value in expected.items():
        other = actual[key]
        if isinstance(value, tuple):                      # the random walk's tuple of counts
            for a, b in zip(value, other):
                np.testing.assert_array_equal(a, b, err_msg=f"{label}: {key}")
        else:
            np.testing.assert_array_equal(value, other, err_msg=f"{label}: {key}")


@pytest.mark.parametrize("chunk", SMALL_CHUNKS)
def test_chunk_boundaries_change_no_count(monkeypatch, chunk):
    sequences = _sequences()
    expected = {name: _all_counts(bits) for name, bits in sequences.items()}
    monkeypatch.setattr(_kernels, "CHUNK_BITS", chunk)
    for name, bits in sequences.items():
        _assert_equal(expected[name], _all_counts(bits), f"{name}, chunks of {chunk}")


def test_chunked_suite_gives_the_same_p_values(monkeypatch):
    bits = _sequences()["random"]
    config = SuiteConfig(random_excursions_min_cycles=0)
    expected = run_suite(bits, config=config).to_dict()
    monkeypatch.setattr(_kernels, "CHUNK_BITS", 777)
    assert run_suite(bits, config=config).to_dict() == expected


def test_walk_counts_match_a_direct_evaluation():
    # The chunked random walk against the definitions, on a sequence with many short cycles.
    bits = _sequences()["bursts"][:20_000]
    final, highest, lowest, n_zeros, excursions, visits = _kernels.random_walk(bits)
    path = np.cumsum(2 * bits.astype(np.int64) - 1)
    assert (final, highest, lowest, n_zeros) == (path[-1], max(0, path.max()), min(0, path.min()),
                                                 np.count_nonzero(path == 0))
    states = [s for s in range(-9, 10) if s]
    np.testing.assert_array_equal(visits, [np.count_nonzero(path == s) for s in states])
    cycles = np.split(path, np.flatnonzero(path == 0) + 1)
    cycles = [cycle for cycle in cycles if cycle.size]
    expected = np.zeros((6, 8), dtype=np.int64)
    for column, state in enumerate((-4, -3, -2, -1, 1, 2, 3, 4)):
        for cycle in cycles:
            expected[min(np.count_nonzero(cycle == state), 5), column] += 1
    np.testing.assert_array_equal(excursions, expected)
