"""The fast suite against the spec-literal oracle (tests/cim_emu/randomness/nist_reference.py).

Both implement SP800-22 independently (compiled counting kernels vs plain numpy and
Python integers), so agreement to 1e-9 on random and on structured sequences checks
the kernels' bookkeeping (block boundaries, wrap-around, cycle splitting, packed
Berlekamp-Massey) beyond the handful of worked examples.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from cim_emu.randomness import SuiteConfig, run_suite
from cim_emu.randomness.sp800_22 import (
    approximate_entropy,
    block_frequency,
    cumulative_sums,
    dft,
    frequency,
    linear_complexity,
    linear_complexity_of,
    longest_run,
    non_overlapping_template,
    overlapping_template,
    random_excursions,
    random_excursions_variant,
    rank,
    runs,
    serial,
    universal,
)
from cim_emu.randomness.sp800_22.non_overlapping_template import sts_template_selection
from tests.cim_emu.randomness import nist_reference as oracle

TOLERANCE = {"rel": 1e-9, "abs": 1e-12}


def _sequences() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(20240601)
    n = 40_003  # odd, and not a multiple of any block length
    flips = rng.random(n) < 0.4
    markov = (np.cumsum(flips) % 2).astype(np.uint8)
    period = rng.integers(0, 2, 997, dtype=np.uint8)
    return {
        "pcg64": rng.integers(0, 2, n, dtype=np.uint8),
        "pcg64_even": rng.integers(0, 2, n + 1, dtype=np.uint8),
        "biased": (rng.random(n) < 0.52).astype(np.uint8),
        "markov": markov,
        "periodic": np.tile(period, n // 997 + 1)[:n],
    }


SEQUENCES = _sequences()


@pytest.fixture(params=sorted(SEQUENCES), scope="module")
def bits(request) -> np.ndarray:
    return SEQUENCES[request.param]


@pytest.mark.parametrize("corrected", [False, True])
def test_single_block_tests_match(bits, corrected):
    sts = not corrected
    assert frequency(bits).p_values == pytest.approx(oracle.frequency(bits), **TOLERANCE)
    assert block_frequency(bits, block_bits=100).p_values == pytest.approx(
        oracle.block_frequency(bits, 100), **TOLERANCE
    )
    expected_runs = oracle.runs(bits, sts=sts)
    result = runs(bits, corrected=corrected)
    if expected_runs is None:
        assert not result.applicable and result.rejected and not result.passed
    else:
        assert result.p_values == pytest.approx(expected_runs, **TOLERANCE)
    assert longest_run(bits, corrected=corrected).p_values == pytest.approx(
        oracle.longest_run(bits, sts=sts), **TOLERANCE
    )
    assert rank(bits).p_values == pytest.approx(oracle.rank(bits), **TOLERANCE)
    assert rank(bits, n_rows=64, n_cols=66).p_values == pytest.approx(oracle.rank(bits, 64, 66), **TOLERANCE)
    assert dft(bits, corrected=corrected).p_values == pytest.approx(oracle.dft(bits, sts=sts), **TOLERANCE)
    assert cumulative_sums(bits).p_values == pytest.approx(oracle.cumulative_sums(bits), **TOLERANCE)


@pytest.mark.parametrize("corrected", [False, True])
def test_template_and_pattern_tests_match(bits, corrected):
    sts = not corrected
    templates = list(sts_template_selection(9)[::7])
    assert non_overlapping_template(bits, templates=templates).p_values == pytest.approx(
        oracle.non_overlapping_template(bits, templates), **TOLERANCE
    )
    periodic = ["111", "101", "000", "110"]  # includes self-overlapping templates
    assert non_overlapping_template(bits, template_bits=3, templates=periodic).p_values == pytest.approx(
        oracle.non_overlapping_template(bits, periodic), **TOLERANCE
    )
    assert overlapping_template(bits, corrected=corrected).p_values == pytest.approx(
        oracle.overlapping_template(bits, sts=sts), **TOLERANCE
    )
    assert overlapping_template(bits, template_bits=4, block_bits=200, corrected=corrected).p_values == pytest.approx(
        oracle.overlapping_template(bits, 4, 200, sts=sts), **TOLERANCE
    )
    assert universal(bits, block_bits=3).p_values == pytest.approx(oracle.universal(bits, 3), **TOLERANCE)
    assert approximate_entropy(bits, block_bits=7).p_values == pytest.approx(
        oracle.approximate_entropy(bits, 7), **TOLERANCE
    )
    assert serial(bits, block_bits=9).p_values == pytest.approx(oracle.serial(bits, 9), **TOLERANCE)
    assert linear_complexity(bits, block_bits=250, corrected=corrected).p_values == pytest.approx(
        oracle.linear_complexity(bits, 250, sts=sts), **TOLERANCE
    )


@pytest.mark.parametrize("corrected", [False, True])
def test_random_walk_tests_match(bits, corrected):
    n_cycles = oracle.count_cycles(bits)
    excursions = random_excursions(bits, min_cycles=0, corrected=corrected)
    assert excursions.statistics["J"] == n_cycles
    assert excursions.p_values == pytest.approx(oracle.random_excursions(bits, sts=not corrected), **TOLERANCE)
    variant = random_excursions_variant(bits, min_cycles=0)
    assert variant.p_values == pytest.approx(oracle.random_excursions_variant(bits), **TOLERANCE)


def test_berlekamp_massey_matches_the_oracle():
    rng = np.random.default_rng(11)
    for length in (1, 2, 3, 31, 63, 64, 65, 127, 128, 129, 191, 500, 1001):
        for trial in range(12):
            block = rng.integers(0, 2, length, dtype=np.uint8)
            if trial == 0:
                block[:] = 0
                block[-1] = 1  # complexity = length
            elif trial == 1:
                block[:] = 0  # complexity 0
            elif trial == 2:
                block = np.tile([1, 1, 0], length)[:length].astype(np.uint8)  # short LFSR
            assert linear_complexity_of(block) == oracle.berlekamp_massey(block.tolist()), (length, trial)


def test_pattern_counts_wrap_around_short_sequences():
    # n < m: the circular windows wrap several times; serial and approximate entropy
    # must still agree with the literal definition.
    bits = np.array([1, 0, 1, 1, 0], dtype=np.uint8)
    assert serial(bits, block_bits=7).p_values == pytest.approx(oracle.serial(bits, 7), **TOLERANCE)
    assert approximate_entropy(bits, block_bits=6).p_values == pytest.approx(
        oracle.approximate_entropy(bits, 6), **TOLERANCE
    )


def test_suite_shares_counts_without_changing_results():
    # run_suite computes the 16-bit pattern counts once and marginalises them; the
    # standalone tests count afresh.
    bits = SEQUENCES["pcg64"]
    config = SuiteConfig(serial_block_bits=12, approximate_entropy_block_bits=9, random_excursions_min_cycles=0)
    report = run_suite(bits, config=config)
    assert report["Serial"].p_values == serial(bits, block_bits=12).p_values
    assert report["ApproximateEntropy"].p_values == approximate_entropy(bits, block_bits=9).p_values
    assert report["RandomExcursions"].p_values == random_excursions(bits, min_cycles=0).p_values


@pytest.mark.parametrize("seed", range(20))
def test_any_sequence_gives_valid_results(seed):
    # Contract for arbitrary lengths (including ones too short for some tests):
    # p-values in [0, 1], reasons for every test that does not apply, JSON output.
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 20_000))
    bits = (rng.random(n) < rng.uniform(0.3, 0.7)).astype(np.uint8)
    report = run_suite(bits, corrected=bool(seed % 2))
    assert report.names == tuple(SuiteConfig().tests)
    for result in report.results:
        assert all(0.0 <= p <= 1.0 for p in result.p_values), result.name
        assert result.applicable == bool(result.p_values)
        if not result.applicable:
            assert result.reason
    json.dumps(report.to_dict())


def test_four_step_fft_equals_a_direct_fft():
    # Long sequences transform in place with the four-step algorithm; it must agree with
    # a direct FFT to rounding, and give the same spectral count.
    from cim_emu.randomness.sp800_22.dft import four_step_fft, peaks_below_threshold

    rng = np.random.default_rng(12)
    for size, rows in ((12, 3), (1000, 25), (6 * 4096, 96), (2 * 99991, 2)):
        values = rng.standard_normal(size) + 1j * rng.standard_normal(size)
        expected = np.fft.fft(values)
        grid = four_step_fft(values.copy(), rows)
        assert np.max(np.abs(grid.T.reshape(-1) - expected)) <= 1e-13 * np.max(np.abs(expected))
    bits = rng.integers(0, 2, 400_000, dtype=np.uint8)
    threshold = float(np.sqrt(np.log(20) * bits.size))
    for skip_dc in (False, True):
        direct = peaks_below_threshold(bits, threshold, skip_dc=skip_dc)        # numpy's real FFT
        # Packed into complex pairs (a plain FFT, then the four-step one), the real spectrum rebuilt in chunks.
        packed = peaks_below_threshold(bits, threshold, skip_dc=skip_dc, direct_max_bits=0)
        assert packed == direct
        assert peaks_below_threshold(bits, threshold, skip_dc=skip_dc, four_step_min_points=1,
                                     direct_max_bits=0) == direct
