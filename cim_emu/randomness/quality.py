"""TRNG quality metrics beyond SP800-22: bias, autocorrelation, Hamming distance, entropy.

These are the figures of merit the p-bit paper shows next to its NIST table (Figs. 16-18):
autocorrelation over lags, the inter-sample Hamming distance between streams and the
Shannon entropy, plus the SP800-90B most-common-value min-entropy estimate.
Every function takes one stream (n_bits,) or several (n_streams, n_bits) of 0/1.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "as_streams",
    "ones_fraction",
    "bias",
    "autocorrelation",
    "hamming_distances",
    "shannon_entropy",
    "min_entropy_mcv",
    "TRNGQuality",
    "assess_quality",
    "default_entropy_block_bits",
]

# Two-sided 99 % normal quantile used by SP800-90B sec. 6.3.1 for the upper bound on p.
_Z_99 = 2.576


def as_streams(bits: Any) -> np.ndarray:
    """Validate bits as a (n_streams, n_bits) uint8 array of 0/1 (a 1-D input is one stream)."""
    if hasattr(bits, "detach"):
        bits = bits.detach().cpu().numpy()
    array = np.asarray(bits)
    if array.ndim == 1:
        array = array[np.newaxis, :]
    if array.ndim != 2 or array.shape[1] == 0 or array.shape[0] == 0:
        raise ValueError(f"bits must have shape (n_bits,) or (n_streams, n_bits) with n_bits >= 1, got {array.shape}")
    if array.dtype == np.bool_:
        return array.astype(np.uint8)
    if (
        array.min() < 0
        or array.max() > 1
        or (not np.issubdtype(array.dtype, np.integer) and not np.all((array == 0) | (array == 1)))
    ):
        raise ValueError("bits must hold only 0 and 1")
    return array.astype(np.uint8, copy=False)


def _per_stream(values: np.ndarray, bits: Any) -> Any:
    """Return a scalar for a 1-D input, the per-stream array otherwise."""
    return float(values[0]) if np.ndim(bits) == 1 else values


def ones_fraction(bits: Any) -> Any:
    """Fraction of ones per stream (float, or (n_streams,) array)."""
    streams = as_streams(bits)
    return _per_stream(streams.mean(axis=1, dtype=np.float64), bits)


def bias(bits: Any) -> Any:
    """Fraction of ones minus 1/2 per stream (0 for a fair bit)."""
    streams = as_streams(bits)
    return _per_stream(streams.mean(axis=1, dtype=np.float64) - 0.5, bits)


# Up to this many lags the autocorrelation is summed directly in integers (exact, one
# byte of scratch per bit); beyond it an FFT is cheaper (32 bytes per bit of scratch).
_DIRECT_MAX_LAG = 256
# Up to this many streams the Hamming distances are counted pair by pair (one byte of
# scratch per bit); beyond it one float64 matrix product is cheaper.
_PAIRWISE_MAX_STREAMS = 64


def autocorrelation(bits: Any, max_lag: int = 64) -> np.ndarray:
    """Sample autocorrelation r(k), k = 1..max_lag, of each stream.

    r(k) = sum_{i<n-k} (b_i - mean)(b_{i+k} - mean) / sum_i (b_i - mean)^2, the usual
    (biased) estimator; for independent bits r(k) is about N(0, 1/n), so about 95 % of
    lags lie within +/- 1.96 / sqrt(n). A constant stream gives NaN. For up to 256 lags
    the sums are exact integer counts of b_i b_{i+k}; beyond, an FFT.

    Returns:
        float64 array (max_lag,) for one stream, (n_streams, max_lag) for several.
    """
    streams = as_streams(bits)
    n = streams.shape[1]
    if isinstance(max_lag, bool) or not isinstance(max_lag, int) or not 1 <= max_lag < n:
        raise ValueError(f"max_lag must be an integer in 1..n_bits-1 = {n - 1}, got {max_lag!r}")
    ones = streams.sum(axis=1, dtype=np.int64).astype(np.float64)
    mean = ones / n
    if max_lag <= _DIRECT_MAX_LAG:
        head = np.cumsum(streams[:, :max_lag], axis=1, dtype=np.int64)  # sum of b_i, i < k
        tail = np.cumsum(streams[:, ::-1][:, :max_lag], axis=1, dtype=np.int64)  # i >= n - k
        covariance = np.empty((streams.shape[0], max_lag))
        for lag in range(1, max_lag + 1):
            products = np.count_nonzero(streams[:, :-lag] & streams[:, lag:], axis=1)
            first = ones - tail[:, lag - 1]  # sum of b_i over i < n - k
            second = ones - head[:, lag - 1]  # sum of b_{i+k} over i < n - k
            covariance[:, lag - 1] = products - mean * (first + second) + (n - lag) * mean * mean
        variance = ones - n * mean * mean  # sum (b_i - mean)^2, as b_i^2 = b_i
    else:
        centred = streams - mean[:, np.newaxis]
        size = 1 << int(math.ceil(math.log2(2 * n)))  # zero padding: no circular wrap
        spectrum = np.fft.rfft(centred, n=size, axis=1)
        full = np.fft.irfft(spectrum * spectrum.conj(), n=size, axis=1)[:, : max_lag + 1]
        covariance, variance = full[:, 1:], full[:, 0]
    with np.errstate(invalid="ignore", divide="ignore"):
        result = covariance / variance[:, np.newaxis]
    result[variance == 0.0] = np.nan
    return result[0] if np.ndim(bits) == 1 else result


def hamming_distances(bits: Any) -> np.ndarray:
    """Normalised Hamming distance between every pair of streams (inter-sample HD).

    Args:
        bits: (n_streams, n_bits) with n_streams >= 2.

    Returns:
        float64 array (n_streams * (n_streams - 1) / 2,): fraction of differing bits for
        each pair i < j, pairs in row-major order of the upper triangle; about 0.5 for
        independent fair streams.
    """
    streams = as_streams(bits)
    n_streams, n = streams.shape
    if n_streams < 2:
        raise ValueError("hamming_distances needs at least two streams (shape (n_streams >= 2, n_bits))")
    upper = np.triu_indices(n_streams, k=1)
    if n_streams <= _PAIRWISE_MAX_STREAMS:
        differing = [np.count_nonzero(streams[i] != streams[j]) for i, j in zip(*upper, strict=True)]
        return np.asarray(differing, dtype=np.float64) / n
    as_float = streams.astype(np.float64)
    ones = as_float.sum(axis=1)
    overlap = as_float @ as_float.T  # exact: integers below 2**53
    return (ones[upper[0]] + ones[upper[1]] - 2.0 * overlap[upper]) / n


def _block_symbols(streams: np.ndarray, block_bits: int) -> np.ndarray:
    """Non-overlapping block values, MSB first: int64 (n_streams, n_bits // block_bits).

    Built one bit position at a time, so the only temporaries are block-sized.
    """
    n_blocks = streams.shape[1] // block_bits
    if n_blocks < 1:
        raise ValueError(f"block of {block_bits} bits is longer than the stream ({streams.shape[1]} bits)")
    blocks = streams[:, : n_blocks * block_bits].reshape(streams.shape[0], n_blocks, block_bits)
    values = np.zeros((streams.shape[0], n_blocks), dtype=np.int64)
    for position in range(block_bits):
        values <<= 1
        values |= blocks[:, :, position]
    return values


def shannon_entropy(bits: Any, block_bits: int = 1) -> Any:
    """Plug-in Shannon entropy per bit from non-overlapping ``block_bits``-bit blocks.

    H = -sum_s p_s log2 p_s / block_bits over the 2**block_bits block values; 1 for a
    perfect source. With ``block_bits`` = 1 this is the binary entropy of the ones
    fraction (the paper's 0.999986 on 4096 bits). The plug-in estimate is biased low
    by about (2**block_bits - 1) / (2 N ln 2) / block_bits for N blocks.

    Returns:
        float, or (n_streams,) array.
    """
    if isinstance(block_bits, bool) or not isinstance(block_bits, int) or not 1 <= block_bits <= 24:
        raise ValueError(f"block_bits must be an integer in 1..24, got {block_bits!r}")
    streams = as_streams(bits)
    symbols = _block_symbols(streams, block_bits)
    out = np.empty(streams.shape[0])
    for row, values in enumerate(symbols):
        counts = np.bincount(values, minlength=1 << block_bits)
        p = counts[counts > 0] / values.shape[0]
        out[row] = float(-(p * np.log2(p)).sum()) / block_bits
    return _per_stream(out, bits)


def min_entropy_mcv(bits: Any, symbol_bits: int = 1) -> Any:
    """SP800-90B sec. 6.3.1 most-common-value min-entropy estimate, per bit.

    p_hat = (count of the most common symbol) / L over L non-overlapping symbols of
    ``symbol_bits`` bits; p_u = min(1, p_hat + 2.576 sqrt(p_hat (1 - p_hat) / (L - 1)));
    H = -log2(p_u) / symbol_bits.

    Returns:
        float, or (n_streams,) array.
    """
    if isinstance(symbol_bits, bool) or not isinstance(symbol_bits, int) or not 1 <= symbol_bits <= 24:
        raise ValueError(f"symbol_bits must be an integer in 1..24, got {symbol_bits!r}")
    streams = as_streams(bits)
    symbols = _block_symbols(streams, symbol_bits)
    n_symbols = symbols.shape[1]
    if n_symbols < 2:
        raise ValueError("the MCV estimate needs at least two symbols")
    out = np.empty(streams.shape[0])
    for row, values in enumerate(symbols):
        p_hat = np.bincount(values).max() / n_symbols
        p_upper = min(1.0, p_hat + _Z_99 * math.sqrt(p_hat * (1.0 - p_hat) / (n_symbols - 1)))
        out[row] = -math.log2(p_upper) / symbol_bits
    return _per_stream(out, bits)


@dataclass(frozen=True, kw_only=True)
class TRNGQuality:
    """Quality metrics of one or more bitstreams (tuples run over streams).

    Attributes:
        n_streams, n_bits: shape of the input.
        ones_fraction: fraction of ones per stream.
        bias: ones fraction - 1/2 per stream.
        shannon_entropy_per_bit: binary entropy of the ones fraction, per stream.
        block_entropy_per_bit: plug-in entropy of ``entropy_block_bits``-bit blocks per bit.
        entropy_block_bits: block length of ``block_entropy_per_bit``.
        min_entropy_per_bit: SP800-90B MCV estimate per bit, per stream.
        max_lag: largest autocorrelation lag.
        autocorrelation: r(1..max_lag) per stream.
        autocorrelation_bound: 1.96 / sqrt(n_bits), the 95 % band for independent bits.
        lags_outside_bound: fraction of (stream, lag) values outside that band (~0.05 ideally).
        hamming_distance_mean, hamming_distance_std: over all stream pairs (None for one stream).
        n_pairs: number of stream pairs.
    """

    n_streams: int
    n_bits: int
    ones_fraction: tuple[float, ...]
    bias: tuple[float, ...]
    shannon_entropy_per_bit: tuple[float, ...]
    block_entropy_per_bit: tuple[float, ...]
    entropy_block_bits: int
    min_entropy_per_bit: tuple[float, ...]
    max_lag: int
    autocorrelation: tuple[tuple[float, ...], ...]
    autocorrelation_bound: float
    lags_outside_bound: float
    hamming_distance_mean: float | None
    hamming_distance_std: float | None
    n_pairs: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary (NaN becomes None)."""

        def clean(value: Any) -> Any:
            if isinstance(value, tuple):
                return [clean(item) for item in value]
            if isinstance(value, float) and not math.isfinite(value):
                return None
            return value

        return {name: clean(getattr(self, name)) for name in self.__dataclass_fields__}


def default_entropy_block_bits(n_bits: int) -> int:
    """Longest block (1..8 bits) with at least 20 blocks per possible value.

    Keeps the downward bias of the plug-in block entropy below about 0.025 / block_bits.
    """
    best = 1
    for block_bits in range(1, 9):
        if n_bits // block_bits >= 20 * 2**block_bits:
            best = block_bits
    return best


def assess_quality(bits: Any, *, max_lag: int = 64, entropy_block_bits: int | None = None) -> TRNGQuality:
    """All quality metrics of one or more streams.

    Args:
        bits: (n_bits,) or (n_streams, n_bits) of 0/1.
        max_lag: largest autocorrelation lag (clipped to n_bits - 1).
        entropy_block_bits: block length of the block entropy; None picks
            :func:`default_entropy_block_bits` (5 for 4096 bits, 8 from 41,000 bits).

    Returns:
        A TRNGQuality.
    """
    streams = as_streams(bits)
    n_streams, n = streams.shape
    if n < 2:
        raise ValueError("assess_quality needs streams of at least 2 bits")
    max_lag = min(max_lag, n - 1)
    if entropy_block_bits is None:
        entropy_block_bits = default_entropy_block_bits(n)
    entropy_block_bits = min(entropy_block_bits, n)
    correlations = autocorrelation(streams, max_lag)
    bound = 1.96 / math.sqrt(n)
    finite = correlations[np.isfinite(correlations)]
    outside = float(np.mean(np.abs(finite) > bound)) if finite.size else float("nan")
    if n_streams >= 2:
        distances = hamming_distances(streams)
        hd_mean, hd_std = float(distances.mean()), float(distances.std())
    else:
        hd_mean = hd_std = None
    fractions = streams.mean(axis=1, dtype=np.float64)
    return TRNGQuality(
        n_streams=n_streams,
        n_bits=n,
        ones_fraction=tuple(float(f) for f in fractions),
        bias=tuple(float(f - 0.5) for f in fractions),
        shannon_entropy_per_bit=tuple(float(h) for h in shannon_entropy(streams, 1)),
        block_entropy_per_bit=tuple(float(h) for h in shannon_entropy(streams, entropy_block_bits)),
        entropy_block_bits=entropy_block_bits,
        min_entropy_per_bit=tuple(float(h) for h in min_entropy_mcv(streams, 1)),
        max_lag=max_lag,
        autocorrelation=tuple(tuple(float(r) for r in row) for row in correlations),
        autocorrelation_bound=bound,
        lags_outside_bound=outside,
        hamming_distance_mean=hd_mean,
        hamming_distance_std=hd_std,
        n_pairs=n_streams * (n_streams - 1) // 2,
    )
