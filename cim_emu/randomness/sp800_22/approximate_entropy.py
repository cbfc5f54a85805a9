"""Approximate entropy test, SP800-22 rev1a sec. 2.12."""

from __future__ import annotations

import math
from typing import Any

from cim_emu.randomness.sp800_22 import _kernels
from cim_emu.randomness.sp800_22._common import check_alpha, check_positive_int, finish
from cim_emu.randomness.sp800_22._sequence import PreparedBits
from cim_emu.randomness.sp800_22._special import igamc
from cim_emu.randomness.sp800_22.result import DEFAULT_ALPHA, TestResult

NAME = "ApproximateEntropy"


def _phi(sequence: PreparedBits, m: int) -> float:
    """phi^(m) = sum_i C_i log(C_i / n) / n over the wrap-around m-bit windows (step 4)."""
    if m == 0:
        return 0.0
    return _kernels.entropy_sum(sequence.circular_counts(m)) / sequence.n


def approximate_entropy(
    bits: Any,
    *,
    block_bits: int = 10,
    alpha: float = DEFAULT_ALPHA,
    corrected: bool = False,
    strict_input_size: bool = False,
) -> TestResult:
    """Are overlapping m- and (m+1)-bit patterns as frequent as in a random sequence?

    Args:
        bits: 1-D sequence of 0/1, length n.
        block_bits: m (STS default 10).
        alpha: significance level.
        corrected: no effect (STS and the document agree).
        strict_input_size: report "not applicable" unless m < floor(log2 n) - 5.

    Returns:
        One p-value; statistics ``ApEn`` and ``chi_squared``.
    """
    check_alpha(alpha)
    check_positive_int("block_bits", block_bits)
    if block_bits > 24:
        raise ValueError(f"block_bits (m) must be <= 24 (2**(m+1) counters), got {block_bits}")
    sequence = PreparedBits.of(bits)
    n = sequence.n
    m = block_bits
    apen = _phi(sequence, m) - _phi(sequence, m + 1)  # sec. 2.12.4 step 5
    chi_squared = 2.0 * n * (math.log(2) - apen)  # step 6
    p_value = igamc(2.0 ** (m - 1), chi_squared / 2.0)  # step 7
    limit = int(math.floor(math.log2(n))) - 5
    size = None
    if m >= limit:
        size = f"m = {m} should be below floor(log2 n) - 5 = {limit} (SP800-22 sec. 2.12.7)"
    return finish(
        NAME,
        [p_value],
        alpha=alpha,
        corrected=corrected,
        statistics={"ApEn": apen, "chi_squared": chi_squared},
        size_notes=(size,),
        strict_input_size=strict_input_size,
    )
