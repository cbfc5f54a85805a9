"""Maurer's "universal statistical" test, SP800-22 rev1a sec. 2.9."""

from __future__ import annotations

import math
from typing import Any

from cim_emu.randomness.sp800_22 import _kernels
from cim_emu.randomness.sp800_22._common import check_alpha, check_positive_int, finish, not_applicable
from cim_emu.randomness.sp800_22._sequence import PreparedBits
from cim_emu.randomness.sp800_22._special import erfc
from cim_emu.randomness.sp800_22.result import DEFAULT_ALPHA, TestResult

NAME = "Universal"

# Expected value and variance of the statistic for L = 1..16 (sec. 2.9.4 step 5 table;
# STS carries L = 6..16).
EXPECTED_VALUE = (
    0.0, 0.7326495, 1.5374383, 2.4016068, 3.3112247, 4.2534266, 5.2177052, 6.1962507, 7.1836656,
    8.1764248, 9.1723243, 10.170032, 11.168765, 12.168070, 13.167693, 14.167488, 15.167379,
)  # fmt: skip
VARIANCE = (
    0.0, 0.690, 1.338, 1.901, 2.358, 2.705, 2.954, 3.125, 3.238, 3.311, 3.356, 3.384,
    3.401, 3.410, 3.416, 3.419, 3.421,
)  # fmt: skip

# Smallest n for L = 6, 7, ... (STS universal.c); below 387,840 bits STS has no valid L.
_STS_L_THRESHOLDS = (
    (1059061760, 16), (496435200, 15), (231669760, 14), (107560960, 13), (49643520, 12),
    (22753280, 11), (10342400, 10), (4654080, 9), (2068480, 8), (904960, 7), (387840, 6),
)  # fmt: skip


def default_block_bits(n: int) -> int | None:
    """STS's L for n bits (6 from 387,840 bits up to 16), None below 387,840."""
    for threshold, block_bits in _STS_L_THRESHOLDS:
        if n >= threshold:
            return block_bits
    return None


def maurer_p_value(
    f_n: float, block_bits: int, n_test_blocks: int, *, sigma_correction: bool = True
) -> tuple[float, float]:
    """P-value and sigma of Maurer's statistic f_n for L-bit blocks and K test blocks (step 5).

    sigma = c sqrt(variance(L) / K) with c = 0.7 - 0.8/L + (4 + 32/L) K^(-3/L) / 15, or
    sqrt(variance(L)) without ``sigma_correction`` (the document's illustration 2.9.4).
    """
    if sigma_correction:
        c = 0.7 - 0.8 / block_bits + (4 + 32 / block_bits) * n_test_blocks ** (-3 / block_bits) / 15
        sigma = c * math.sqrt(VARIANCE[block_bits] / n_test_blocks)
    else:
        sigma = math.sqrt(VARIANCE[block_bits])
    return erfc(abs(f_n - EXPECTED_VALUE[block_bits]) / (math.sqrt(2) * sigma)), sigma


def universal(
    bits: Any,
    *,
    block_bits: int | None = None,
    init_blocks: int | None = None,
    sigma_correction: bool = True,
    alpha: float = DEFAULT_ALPHA,
    corrected: bool = False,
    strict_input_size: bool = False,
) -> TestResult:
    """Can the sequence be compressed (are L-bit patterns repeating too early or late)?

    Args:
        bits: 1-D sequence of 0/1, length n.
        block_bits: L in 1..16; None chooses it from n as STS does (n >= 387,840 needed).
        init_blocks: Q, the blocks that initialise the table; None means 10 * 2**L.
        sigma_correction: the Coron-Naccache factor c and 1/sqrt(K) in sigma (STS and the
            document's step 5); False uses sigma = sqrt(variance), which is what the
            document's illustration 2.9.4 (L = 2, Q = 4) computes.
        alpha: significance level.
        corrected: no effect (STS and the document agree).
        strict_input_size: report "not applicable" when Q < 10 * 2**L or K < 1000 * 2**L.

    Returns:
        One p-value; statistics ``L``, ``Q``, ``K``, ``sum``, ``f_n``, ``sigma``.
    """
    check_alpha(alpha)
    sequence = PreparedBits.of(bits)
    n = sequence.n
    chosen = default_block_bits(n) if block_bits is None else block_bits
    if chosen is None:
        return not_applicable(
            NAME,
            f"n = {n} is below 387,840 bits, the least STS accepts (L = 6, sec. 2.9.7)",
            alpha=alpha,
            corrected=corrected,
        )
    check_positive_int("block_bits", chosen)
    if chosen > 16:
        raise ValueError(f"block_bits (L) must lie in 1..16 (sec. 2.9.4 table), got {chosen}")
    n_init = 10 * 2**chosen if init_blocks is None else check_positive_int("init_blocks", init_blocks)
    n_test = n // chosen - n_init  # K
    if n_test < 1:
        return not_applicable(
            NAME,
            f"n = {n} bits leave no test block after Q = {n_init} blocks of L = {chosen} bits",
            alpha=alpha,
            corrected=corrected,
        )
    total = _kernels.universal_log_sum(sequence.bits, chosen, n_init, n_test)  # sec. 2.9.4 steps 2-3
    f_n = total / n_test  # step 4
    p_value, sigma = maurer_p_value(f_n, chosen, n_test, sigma_correction=sigma_correction)
    size = None
    if n_init < 10 * 2**chosen or n_test < 1000 * 2**chosen:
        size = (
            f"Q = {n_init}, K = {n_test} for L = {chosen}: SP800-22 sec. 2.9.7 recommends "
            f"Q >= {10 * 2**chosen} and K >= {1000 * 2**chosen}"
        )
    return finish(
        NAME,
        [p_value],
        alpha=alpha,
        corrected=corrected,
        statistics={
            "L": chosen,
            "Q": n_init,
            "K": n_test,
            "sum": total,
            "f_n": f_n,
            "sigma": sigma,
            "discarded_bits": n - (n_init + n_test) * chosen,
        },
        size_notes=(size,),
        strict_input_size=strict_input_size,
    )
