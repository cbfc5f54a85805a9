"""Discrete Fourier transform (spectral) test, SP800-22 rev1a sec. 2.6."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from cim_emu.randomness.sp800_22 import _kernels
from cim_emu.randomness.sp800_22._common import check_alpha, finish, not_applicable, size_note
from cim_emu.randomness.sp800_22._sequence import PreparedBits
from cim_emu.randomness.sp800_22._special import erfc
from cim_emu.randomness.sp800_22.result import DEFAULT_ALPHA, TestResult

NAME = "FFT"

# STS's 10-digit ln(1/0.05); the corrected mode uses the exact logarithm.
_STS_LOG_20 = 2.995732274


# From this many complex points on, the transform runs as a four-step FFT in place:
# a single FFT of n/2 points needs scratch as large as its input (24 bytes per bit in
# all at 100 Mbit), the four-step one only a few blocks of ~32 MiB.
FOUR_STEP_MIN_POINTS = 1 << 22
# Up to this many bits numpy's real FFT runs directly (~40 bytes per bit of scratch, 80 MiB at the limit):
# on 1 Mbit it takes half the time of packing the pairs and rebuilding the real spectrum bin by bin.
DIRECT_MAX_BITS = 1 << 21
_BLOCK_BYTES = 1 << 25


def _balanced_factor(size: int) -> int:
    """Largest divisor of ``size`` not above sqrt(size) (1 when size is prime)."""
    for rows in range(math.isqrt(size), 0, -1):
        if size % rows == 0:
            return rows
    return 1


def four_step_fft(values: np.ndarray, rows: int) -> np.ndarray:
    """DFT of ``values`` (complex128, length N = rows * cols) computed in place.

    With x[cols n1 + n2] laid out as a (rows, cols) grid: length-rows FFTs down the
    columns, the twiddles exp(-2 pi i n2 k1 / N), then length-cols FFTs along the rows
    leave X[k1 + rows k2] at grid[k1, k2] (Bailey's four-step algorithm).

    Returns:
        The (rows, cols) grid, a view of ``values``.
    """
    size = values.shape[0]
    cols = size // rows
    grid = values.reshape(rows, cols)
    step = min(cols, max(1, _BLOCK_BYTES // (16 * rows)))
    k1 = np.arange(rows, dtype=np.int64)[:, np.newaxis]
    # exp(-2 pi i k1 (start + r) / N) = exp(-2 pi i k1 start / N) exp(-2 pi i k1 r / N):
    # the second factor is the same for every block of columns.
    within_block = np.exp((-2j * np.pi / size) * (k1 * np.arange(step, dtype=np.int64)[np.newaxis, :]))
    for start in range(0, cols, step):
        stop = min(cols, start + step)
        block = np.fft.fft(grid[:, start:stop], axis=0)
        block *= within_block[:, : stop - start]
        block *= np.exp((-2j * np.pi / size) * (k1 * start))
        grid[:, start:stop] = block
    step = max(1, _BLOCK_BYTES // (16 * cols))
    for start in range(0, rows, step):
        # numpy's FFT (pocketfft, as scipy's) rather than scipy.fft: importing scipy.fft costs 0.2 s, more than the
        # whole suite on 1 Mbit; the row blocks are small, so the copy it makes is too.
        grid[start : start + step] = np.fft.fft(grid[start : start + step], axis=1)
    return grid


def peaks_below_threshold(
    bits: np.ndarray, threshold: float, *, skip_dc: bool, four_step_min_points: int = FOUR_STEP_MIN_POINTS,
    direct_max_bits: int = DIRECT_MAX_BITS,
) -> int:
    """N_1: how many |DFT_j| of the +/-1 sequence are below ``threshold``, j < n // 2.

    Up to ``direct_max_bits`` (and for odd n) numpy's real FFT. Longer even sequences are
    packed into n/2 complex samples (8 bytes per bit) and transformed in place; the real
    spectrum is recovered chunk by chunk. From ``four_step_min_points`` complex points on,
    :func:`four_step_fft` keeps the FFT's scratch small.
    """
    n = bits.shape[0]
    half = n // 2
    if n % 2 or n <= direct_max_bits:
        spectrum = np.fft.rfft(2.0 * bits - 1.0)
        return int(_kernels.real_spectrum_count_below(spectrum, half, threshold, skip_dc))
    packed = np.empty(half, dtype=np.complex128)
    _kernels.pack_pairs_as_complex(bits, packed)
    rows = _balanced_factor(half) if half >= four_step_min_points else 1
    if rows > 1:
        grid = four_step_fft(packed, rows)
    else:
        grid = np.fft.fft(packed).reshape(1, half)
    return int(_kernels.spectrum_count_below(grid, n, threshold, skip_dc))


def dft(
    bits: Any, *, alpha: float = DEFAULT_ALPHA, corrected: bool = False, strict_input_size: bool = False
) -> TestResult:
    """Are there too many periodic features (spectral peaks) for a random sequence?

    STS counts the moduli of DFT bins j = 0..n/2-1 below T = sqrt(ln(20) n), so the
    DC term (|S_n|, the monobit statistic) is one of the "peaks". The corrected mode
    counts bins j = 1..n/2-1 only, the reading under which the document's example
    2.6.4 gives its printed N_1 = 4 and p = 0.029523 (STS gets N_1 = 5, p = 0.468160).

    Args:
        bits: 1-D sequence of 0/1, length n.
        alpha: significance level.
        corrected: leave out the DC bin; use ln(20) to full precision.
        strict_input_size: report "not applicable" below the recommended n >= 1000.

    Returns:
        One p-value; statistics ``T``, ``N_0``, ``N_1`` and ``d``.
    """
    check_alpha(alpha)
    sequence = PreparedBits.of(bits)
    n = sequence.n
    if n < 2:
        return not_applicable(NAME, "the spectral test needs at least 2 bits", alpha=alpha, corrected=corrected)
    threshold = math.sqrt((math.log(20.0) if corrected else _STS_LOG_20) * n)  # sec. 2.6.4 step 3
    n_1 = peaks_below_threshold(sequence.bits, threshold, skip_dc=corrected)  # step 5
    n_0 = 0.95 * n / 2.0  # step 4
    d = (n_1 - n_0) / math.sqrt(n / 4.0 * 0.95 * 0.05)  # step 6
    p_value = erfc(abs(d) / math.sqrt(2.0))  # step 7
    return finish(
        NAME,
        [p_value],
        alpha=alpha,
        corrected=corrected,
        statistics={"T": threshold, "N_0": n_0, "N_1": n_1, "d": d},
        size_notes=(size_note(n, 1000, "2.6.7"),),
        strict_input_size=strict_input_size,
    )
