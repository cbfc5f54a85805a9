"""TRNG quality metrics: exact values on constructed streams, statistics on random ones."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
from scipy import stats

from cim_emu.randomness import (
    assess_quality,
    autocorrelation,
    bias,
    default_entropy_block_bits,
    hamming_distances,
    min_entropy_mcv,
    ones_fraction,
    shannon_entropy,
)


def test_exact_values_on_constructed_streams():
    alternating = np.tile(np.array([0, 1], dtype=np.uint8), 500)
    assert ones_fraction(alternating) == 0.5 and bias(alternating) == 0.0
    assert shannon_entropy(alternating) == 1.0
    assert shannon_entropy(alternating, 2) == 0.0  # every 2-bit block is "01"
    correlation = autocorrelation(alternating, 4)
    assert correlation == pytest.approx([-(999 / 1000), 998 / 1000, -(997 / 1000), 996 / 1000])
    quarter = np.zeros(1000, dtype=np.uint8)
    quarter[:250] = 1
    h = -(0.25 * math.log2(0.25) + 0.75 * math.log2(0.75))
    assert shannon_entropy(quarter) == pytest.approx(h)
    p_upper = 0.75 + 2.576 * math.sqrt(0.75 * 0.25 / 999)  # SP800-90B sec. 6.3.1
    assert min_entropy_mcv(quarter) == pytest.approx(-math.log2(p_upper))


def test_hamming_distance_of_known_pairs():
    streams = np.array([[0, 0, 0, 0], [1, 1, 1, 1], [0, 1, 0, 1]], dtype=np.uint8)
    # pairs (0,1), (0,2), (1,2)
    assert hamming_distances(streams) == pytest.approx([1.0, 0.5, 0.5])


def test_random_streams_have_the_textbook_statistics():
    rng = np.random.default_rng(10)
    streams = rng.integers(0, 2, (32, 20_000), dtype=np.uint8)
    n = streams.shape[1]
    # Hamming distance of independent fair streams: each pair has mean 1/2 and variance
    # 1/(4n), and the pair distances are pairwise uncorrelated (given stream i, the
    # indicators [b_i != b_j] and [b_i != b_k] are independent fair coins).
    distances = hamming_distances(streams)
    standard_error = 0.5 / math.sqrt(n * distances.size)
    assert abs(distances.mean() - 0.5) < 5 * standard_error
    # Autocorrelations at lags 1..64 are ~N(0, 1/n): KS against that law.
    correlation = autocorrelation(streams, 64).ravel()
    assert stats.kstest(correlation * math.sqrt(n), "norm").pvalue > 1e-4
    # Entropy per bit: 1 - H ~ (2/ln 2)(p - 1/2)^2 = chi2_1 / (2 n ln 2); chi2_1 > 20 has
    # probability 8e-6 per stream.
    assert np.all(1.0 - shannon_entropy(streams) < 20 / (2 * n * math.log(2)))
    # MCV: 1 - H ~ (|Z| + 2.576) / (sqrt(n) ln 2); the bound allows |Z| up to 4.5.
    assert np.all(min_entropy_mcv(streams) > 1 - 4 * 2.576 / math.sqrt(n))


def test_markov_stream_autocorrelation_is_one_minus_twice_the_flip_probability():
    # Toggle mode of a p-bit: flip with probability q, lag-k correlation (1 - 2q)^k.
    rng = np.random.default_rng(11)
    q, n = 0.3, 200_000
    stream = (np.cumsum(rng.random(n) < q) % 2).astype(np.uint8)
    correlation = autocorrelation(stream, 3)
    for lag, value in enumerate(correlation, start=1):
        assert value == pytest.approx((1 - 2 * q) ** lag, abs=5 / math.sqrt(n))


def test_assess_quality_report():
    rng = np.random.default_rng(12)
    streams = rng.integers(0, 2, (4, 4096), dtype=np.uint8)
    quality = assess_quality(streams, max_lag=16)
    assert quality.n_streams == 4 and quality.n_bits == 4096 and quality.n_pairs == 6
    assert len(quality.autocorrelation) == 4 and len(quality.autocorrelation[0]) == 16
    assert quality.autocorrelation_bound == pytest.approx(1.96 / 64)
    assert quality.entropy_block_bits == default_entropy_block_bits(4096) == 5
    assert 0.45 < quality.hamming_distance_mean < 0.55
    json.dumps(quality.to_dict())
    single = assess_quality(streams[0])
    assert single.n_streams == 1 and single.hamming_distance_mean is None


def test_constant_stream_has_no_autocorrelation():
    quality = assess_quality(np.ones(100, dtype=np.uint8))
    assert all(math.isnan(r) for r in quality.autocorrelation[0])
    assert quality.to_dict()["autocorrelation"][0][0] is None
    assert quality.shannon_entropy_per_bit == (0.0,)


def test_torch_input_and_validation():
    bits = torch.tensor([[0, 1, 1, 0], [1, 1, 0, 0]])
    assert hamming_distances(bits) == pytest.approx([0.5])
    with pytest.raises(ValueError, match="only 0 and 1"):
        ones_fraction(np.array([0, 2, 1]))
    with pytest.raises(ValueError, match="shape"):
        ones_fraction(np.zeros((2, 2, 2)))
    with pytest.raises(ValueError, match="at least two streams"):
        hamming_distances(np.zeros(10, dtype=np.uint8))
    with pytest.raises(ValueError, match="max_lag"):
        autocorrelation(np.zeros(10, dtype=np.uint8), 10)
    with pytest.raises(ValueError, match="block_bits"):
        shannon_entropy(np.zeros(10, dtype=np.uint8), 0)


@pytest.mark.gpu
def test_cuda_streams_give_the_cpu_metrics():
    bits = np.random.default_rng(13).integers(0, 2, (4, 1000), dtype=np.uint8)
    on_device = torch.from_numpy(bits).to("cuda")
    assert assess_quality(on_device).to_dict() == assess_quality(bits).to_dict()


def test_direct_and_fft_autocorrelation_agree():
    # Up to 256 lags the sums are exact integers; more lags switch to an FFT.
    bits = np.random.default_rng(14).integers(0, 2, (3, 5000), dtype=np.uint8)
    direct = autocorrelation(bits, 256)
    via_fft = autocorrelation(bits, 300)
    assert via_fft[:, :256] == pytest.approx(direct, abs=1e-12)


def test_pairwise_and_matrix_hamming_distances_agree():
    # Up to 64 streams the distances are counted pair by pair; more use a matrix product.
    streams = np.random.default_rng(15).integers(0, 2, (70, 300), dtype=np.uint8)
    many = hamming_distances(streams)
    few = hamming_distances(streams[:10])
    assert many.size == 70 * 69 // 2
    assert few[:9] == pytest.approx(many[:9])  # pairs (0, 1..9) come first in both
    assert few[-1] == pytest.approx(np.count_nonzero(streams[8] != streams[9]) / 300)
