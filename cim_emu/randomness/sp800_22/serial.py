"""Serial test, SP800-22 rev1a sec. 2.11."""

from __future__ import annotations

import math
from typing import Any

from cim_emu.randomness.sp800_22 import _kernels
from cim_emu.randomness.sp800_22._common import check_alpha, check_positive_int, finish
from cim_emu.randomness.sp800_22._sequence import PreparedBits
from cim_emu.randomness.sp800_22._special import igamc
from cim_emu.randomness.sp800_22.result import DEFAULT_ALPHA, TestResult

NAME = "Serial"


def _psi_squared(sequence: PreparedBits, m: int) -> float:
    """psi^2_m = 2^m / n * sum_i nu_i^2 - n over the wrap-around m-bit windows (step 3)."""
    if m <= 0:
        return 0.0
    total = _kernels.sum_of_squares(sequence.circular_counts(m))
    return total * 2.0**m / sequence.n - sequence.n


def serial(
    bits: Any,
    *,
    block_bits: int = 16,
    alpha: float = DEFAULT_ALPHA,
    corrected: bool = False,
    strict_input_size: bool = False,
) -> TestResult:
    """Are all overlapping m-bit patterns equally frequent?

    Args:
        bits: 1-D sequence of 0/1, length n.
        block_bits: m >= 2 (STS default 16).
        alpha: significance level.
        corrected: no effect (STS and the document agree).
        strict_input_size: report "not applicable" unless m < floor(log2 n) - 2.

    Returns:
        Two p-values (``del_psi2``, ``del2_psi2``) and the psi^2 statistics.
    """
    check_alpha(alpha)
    check_positive_int("block_bits", block_bits, 2)
    if block_bits > 24:
        raise ValueError(f"block_bits (m) must be <= 24 (2**m counters), got {block_bits}")
    sequence = PreparedBits.of(bits)
    m = block_bits
    psi_m = _psi_squared(sequence, m)
    psi_m1 = _psi_squared(sequence, m - 1)
    psi_m2 = _psi_squared(sequence, m - 2)
    first = psi_m - psi_m1  # sec. 2.11.4 step 4
    second = psi_m - 2.0 * psi_m1 + psi_m2
    p_values = [igamc(2.0 ** (m - 1) / 2, first / 2.0), igamc(2.0 ** (m - 2) / 2, second / 2.0)]  # step 5
    limit = int(math.floor(math.log2(sequence.n))) - 2
    size = None
    if m >= limit:
        size = f"m = {m} should be below floor(log2 n) - 2 = {limit} (SP800-22 sec. 2.11.7)"
    return finish(
        NAME,
        p_values,
        alpha=alpha,
        corrected=corrected,
        labels=("del_psi2", "del2_psi2"),
        statistics={
            "psi2_m": psi_m,
            "psi2_m-1": psi_m1,
            "psi2_m-2": psi_m2,
            "del_psi2": first,
            "del2_psi2": second,
        },
        size_notes=(size,),
        strict_input_size=strict_input_size,
    )
