"""Good generators pass at the expected rate; broken ones are rejected by the right tests.

Statistical tests with fixed seeds: the tolerances come from binomial statistics, not
from what the code printed. A test of the suite fails a good sequence with probability
at most alpha = 0.01 (one p-value: exactly alpha; several: Bonferroni), so the number
of failing sequences out of K is at most Binomial(K, 0.01); each bound below is its
quantile at 1e-4 / 15 (Bonferroni over the fifteen tests).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from cim_emu.randomness import TEST_NAMES, analyse_sequences, run_suite, run_suite_many

N_BITS = 1_000_000
ALPHA = 0.01
FAMILY_ALPHA = 1e-4
SINGLE_P_TESTS = (
    "Frequency", "BlockFrequency", "Runs", "LongestRun", "Rank", "FFT",
    "OverlappingTemplate", "Universal", "ApproximateEntropy", "LinearComplexity",
)  # fmt: skip


def pcg64_sequences(n_sequences: int, seed: int) -> np.ndarray:
    generator = np.random.Generator(np.random.PCG64(seed))
    return generator.integers(0, 2, (n_sequences, N_BITS), dtype=np.uint8)


def max_failures(n_sequences: int) -> int:
    """Largest failure count with P(Binomial(K, alpha) > count) <= 1e-4 / 15."""
    return int(stats.binom.isf(FAMILY_ALPHA / len(TEST_NAMES), n_sequences, ALPHA))


def check_good_generator(reports) -> None:
    n_sequences = len(reports)
    bound = max_failures(n_sequences)
    for name in TEST_NAMES:
        failures = sum(not report[name].passed for report in reports)
        assert failures <= bound, f"{name}: {failures} of {n_sequences} sequences fail (bound {bound})"
    # P-values of a good generator are uniform: pooled over tests and sequences
    # (independent sequences; the single-p-value tests depend little on each other).
    pooled = [report[name].p_values[0] for report in reports for name in SINGLE_P_TESTS]
    assert stats.kstest(pooled, "uniform").pvalue > FAMILY_ALPHA


def test_pcg64_passes_at_the_expected_rate():
    reports = run_suite_many(pcg64_sequences(24, seed=20240607))
    check_good_generator(reports)


@pytest.mark.slow
def test_pcg64_passes_at_the_expected_rate_over_200_sequences():
    reports = run_suite_many(pcg64_sequences(200, seed=7))
    check_good_generator(reports)
    # The random-excursion tests need J >= 500 cycles; for a fair walk of n steps
    # J / sqrt(n) tends to |N(0, 1)|, so P(J < 500) ~ P(|Z| < 0.5) = 0.383.
    missing = sum(not report["RandomExcursions"].applicable for report in reports)
    probability = 2 * stats.norm.cdf(500 / math.sqrt(N_BITS)) - 1
    low, high = stats.binom.interval(1 - FAMILY_ALPHA, len(reports), probability)
    assert low <= missing <= high
    # STS's final analysis: each slot flags with a small probability; with 188 slots a
    # handful may flag, but not a tenth of them.
    analysis = analyse_sequences(reports)
    assert sum(not slot.passed for slot in analysis.slots) <= 0.1 * len(analysis.slots)


def test_biased_stream_fails_the_frequency_tests():
    # P(1) = 0.505: S_n / sqrt(n) has mean 0.01 sqrt(n) = 10 standard deviations.
    rng = np.random.default_rng(1)
    report = run_suite((rng.random(N_BITS) < 0.505).astype(np.uint8))
    for name in ("Frequency", "CumulativeSums"):
        assert not report[name].passed, name
    # |pi - 1/2| = 0.005 > tau = 0.002: the Runs pre-test rejects without a p-value.
    runs = report["Runs"]
    assert runs.rejected and not runs.applicable and not runs.passed


def test_balanced_periodic_stream_fails_the_periodicity_tests():
    # A random 1000-bit pattern with exactly 500 ones, repeated: the frequency tests
    # see nothing, the spectrum has lines at the harmonics only, every 11-bit pattern
    # comes in multiples of 1000 ... and every 500-bit block is one of two.
    rng = np.random.default_rng(2)
    period = np.zeros(1000, dtype=np.uint8)
    period[rng.permutation(1000)[:500]] = 1
    report = run_suite(np.tile(period, N_BITS // 1000))
    assert report["Frequency"].passed
    for name in ("FFT", "ApproximateEntropy", "Serial", "LinearComplexity", "Universal"):
        assert not report[name].passed, name


def test_alternating_stream_fails_runs_and_spectrum():
    report = run_suite(np.tile(np.array([0, 1], dtype=np.uint8), N_BITS // 2))
    assert report["Frequency"].passed  # perfectly balanced
    for name in ("Runs", "FFT", "Serial", "ApproximateEntropy", "LinearComplexity"):
        assert not report[name].passed, name


def test_correlated_stream_fails_the_runs_and_pattern_tests():
    # Toggle with probability 0.45: lag-1 correlation 0.1. Runs expects 0.5 n changes,
    # gets 0.45 n: (0.05 n) / sqrt(n / 4) = 100 standard deviations.
    rng = np.random.default_rng(3)
    bits = (np.cumsum(rng.random(N_BITS) < 0.45) % 2).astype(np.uint8)
    report = run_suite(bits)
    for name in ("Runs", "Serial", "ApproximateEntropy"):
        assert not report[name].passed, name


def test_lfsr_stream_fails_the_linear_tests():
    # s_i = s_{i-31} xor s_{i-28}: linear complexity 31 in every block, and every
    # 32 x 32 matrix has dependent rows.
    rng = np.random.default_rng(4)
    bits = np.zeros(N_BITS, dtype=np.uint8)
    bits[:31] = rng.integers(0, 2, 31)
    for i in range(31, N_BITS, 1):
        bits[i] = bits[i - 31] ^ bits[i - 28]
    report = run_suite(bits)
    assert not report["LinearComplexity"].passed
    assert not report["Rank"].passed
