"""Discrete Fourier transform (spectral) test, SP800-22 rev1a sec. 2.6."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy import fft as scipy_fft

from cim_emu.randomness.sp800_22 import _kernels
from cim_emu.randomness.sp800_22._common import check_alpha, finish, not_applicable, size_note
from cim_emu.randomness.sp800_22._sequence import PreparedBits
from cim_emu.randomness.sp800_22._special import erfc
from cim_emu.randomness.sp800_22.result import DEFAULT_ALPHA, TestResult

NAME = "FFT"

# STS's 10-digit ln(1/0.05); the corrected mode uses the exact logarithm.
_STS_LOG_20 = 2.995732274


def peaks_below_threshold(bits: np.ndarray, threshold: float, *, skip_dc: bool) -> int:
    """N_1: how many |DFT_j| of the +/-1 sequence are below ``threshold``, j < n // 2.

    For even n the n real samples are packed into n/2 complex ones and transformed in
    place (8 bytes per bit, no second float64 array); the real spectrum is recovered
    bin by bin inside a compiled loop.
    """
    n = bits.shape[0]
    half = n // 2
    if n % 2 == 0:
        packed = np.empty(half, dtype=np.complex128)
        _kernels.pack_pairs_as_complex(bits, packed)
        spectrum = scipy_fft.fft(packed, overwrite_x=True)
        del packed
        return int(_kernels.spectrum_count_below(spectrum, n, threshold, skip_dc))
    spectrum = np.fft.rfft(2.0 * bits - 1.0)
    return int(_kernels.real_spectrum_count_below(spectrum, half, threshold, skip_dc))


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
        return not_applicable(
            NAME, "the spectral test needs at least 2 bits", alpha=alpha, corrected=corrected
        )
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
