"""Linear complexity test, SP800-22 rev1a sec. 2.10."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from cim_emu.randomness.sp800_22 import _kernels
from cim_emu.randomness.sp800_22._common import (
    check_alpha,
    check_positive_int,
    finish,
    no_complete_block,
    size_note,
)
from cim_emu.randomness.sp800_22._sequence import PreparedBits, as_bits
from cim_emu.randomness.sp800_22._special import igamc
from cim_emu.randomness.sp800_22.result import DEFAULT_ALPHA, TestResult

NAME = "LinearComplexity"

# STS 2.1.2 has 0.01047 for pi_0 (the document: 0.010417 = 1/96); the others agree.
STS_PROBABILITIES = (0.01047, 0.03125, 0.12500, 0.50000, 0.25000, 0.06250, 0.020833)
EXACT_PROBABILITIES = (1 / 96, 1 / 32, 1 / 8, 1 / 2, 1 / 4, 1 / 16, 1 / 48)
_CLASS_EDGES = np.array([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5])


def linear_complexity_of(bits: Any) -> int:
    """Length of the shortest LFSR that generates ``bits`` (Berlekamp-Massey)."""
    array = as_bits(bits)
    return int(_kernels.linear_complexities(array, array.shape[0], 1)[0])


def expected_complexity(block_bits: int, *, sts: bool = False) -> float:
    """Mean linear complexity of a random M-bit block, sec. 2.10.4 step 4.

    mu = M/2 + (9 + (-1)^(M+1))/36 - (M/3 + 2/9)/2^M (the document, and Rueppel's
    M/2 + (4 + M mod 2)/18 - ...). STS 2.1.2 flips the sign of (-1)^(M+1) (``sts=True``),
    which moves every T_i by 1/18 but never across a class boundary, so the p-values
    agree; only the reported mu differs.
    """
    sign = 1 if (block_bits + 1) % 2 == 0 else -1  # (-1)^(M+1)
    if sts:
        sign = -sign
    return block_bits / 2.0 + (9.0 + sign) / 36.0 - math.ldexp(1.0, -block_bits) * (block_bits / 3.0 + 2.0 / 9.0)


def linear_complexity(
    bits: Any,
    *,
    block_bits: int = 500,
    alpha: float = DEFAULT_ALPHA,
    corrected: bool = False,
    strict_input_size: bool = False,
) -> TestResult:
    """Is the linear complexity of M-bit blocks that of random blocks?

    Args:
        bits: 1-D sequence of 0/1, length n, cut into N = n // M blocks.
        block_bits: M (STS default 500).
        alpha: significance level.
        corrected: pi_0 = 1/96 (the document) instead of STS's 0.01047, and the
            document's mu (see :func:`expected_complexity`).
        strict_input_size: report "not applicable" below n >= 10^6, outside
            500 <= M <= 5000 or with N < 200.

    Returns:
        One p-value; statistics ``nu`` (blocks per class of T), ``mu`` and ``chi_squared``.
    """
    check_alpha(alpha)
    check_positive_int("block_bits", block_bits)
    sequence = PreparedBits.of(bits)
    n = sequence.n
    n_blocks = n // block_bits
    if n_blocks < 1:
        return no_complete_block(NAME, n, block_bits, alpha=alpha, corrected=corrected)
    complexities = _kernels.linear_complexities(sequence.bits, block_bits, n_blocks)  # sec. 2.10.4 step 2
    mu = expected_complexity(block_bits, sts=not corrected)
    sign = 1 if block_bits % 2 == 0 else -1
    t_values = sign * (complexities - mu) + 2.0 / 9.0  # step 4
    nu = np.bincount(np.searchsorted(_CLASS_EDGES, t_values, side="left"), minlength=7)  # step 5
    probabilities = np.asarray(EXACT_PROBABILITIES if corrected else STS_PROBABILITIES)
    chi_squared = float(np.sum((nu - n_blocks * probabilities) ** 2 / (n_blocks * probabilities)))  # step 6
    p_value = igamc(3.0, chi_squared / 2.0)  # step 7, K = 6
    range_note = None
    if not 500 <= block_bits <= 5000 or n_blocks < 200:
        range_note = f"M = {block_bits}, N = {n_blocks}: sec. 2.10.7 recommends 500 <= M <= 5000 and N >= 200"
    return finish(
        NAME,
        [p_value],
        alpha=alpha,
        corrected=corrected,
        statistics={
            "block_bits": block_bits,
            "n_blocks": n_blocks,
            "mu": mu,
            "nu": nu,
            "chi_squared": chi_squared,
            "discarded_bits": n % block_bits,
        },
        size_notes=(size_note(n, 1_000_000, "2.10.7"), range_note),
        strict_input_size=strict_input_size,
    )
