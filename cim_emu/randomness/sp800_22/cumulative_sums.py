"""Cumulative sums (cusum) test, SP800-22 rev1a sec. 2.13."""

from __future__ import annotations

import math
from typing import Any

from cim_emu.randomness.sp800_22._common import check_alpha, finish, size_note
from cim_emu.randomness.sp800_22._sequence import PreparedBits
from cim_emu.randomness.sp800_22._special import c_int_div, sts_normal_cdf
from cim_emu.randomness.sp800_22.result import DEFAULT_ALPHA, TestResult

NAME = "CumulativeSums"


def cusum_p_value(z: int, n: int) -> float:
    """P-value of a maximal excursion z of an n-step walk, sec. 2.13.4 step 4.

    The sums over k run between the C-truncated integer quotients (-n/z+1)/4 and
    (n/z-1)/4 as in STS; the document's example 2.13.4 (0.4116588) follows the same
    limits, which for small n differ from flooring the real quotients (0.411585).
    Phi is libm's erf, as STS's ``cephes_normal``.
    """
    root_n = math.sqrt(n)
    ratio = n // z
    # Terms whose arguments all exceed |40| are 1 - 1 or 0 - 0 in double precision;
    # skipping them keeps a walk that never leaves 0 (z = 1) from costing n/2 erf calls.
    reach = int(40.0 * root_n / z) // 4 + 2
    sum1 = 0.0
    for k in range(max(c_int_div(-ratio + 1, 4), -reach), min(c_int_div(ratio - 1, 4), reach) + 1):
        sum1 += sts_normal_cdf(((4 * k + 1) * z) / root_n)
        sum1 -= sts_normal_cdf(((4 * k - 1) * z) / root_n)
    sum2 = 0.0
    for k in range(max(c_int_div(-ratio - 3, 4), -reach), min(c_int_div(ratio - 1, 4), reach) + 1):
        sum2 += sts_normal_cdf(((4 * k + 3) * z) / root_n)
        sum2 -= sts_normal_cdf(((4 * k + 1) * z) / root_n)
    return 1.0 - sum1 + sum2


def cumulative_sums(
    bits: Any, *, alpha: float = DEFAULT_ALPHA, corrected: bool = False, strict_input_size: bool = False
) -> TestResult:
    """Does the +/-1 random walk stray too far from zero, forward and backward?

    Args:
        bits: 1-D sequence of 0/1, length n.
        alpha: significance level.
        corrected: no effect (STS and the document agree, see :func:`cusum_p_value`).
        strict_input_size: report "not applicable" below the recommended n >= 100.

    Returns:
        Two p-values, ``forward`` then ``reverse``; statistics ``z_forward``, ``z_reverse``.
    """
    check_alpha(alpha)
    sequence = PreparedBits.of(bits)
    n = sequence.n
    final, highest, lowest, *_ = sequence.random_walk()
    z_forward = max(highest, -lowest)  # sec. 2.13.4 step 3, mode 0
    z_reverse = max(highest - final, final - lowest)  # mode 1: the walk read backwards
    p_values = [
        cusum_p_value(z_forward, n),
        cusum_p_value(z_reverse, n),
    ]
    return finish(
        NAME,
        p_values,
        alpha=alpha,
        corrected=corrected,
        labels=("forward", "reverse"),
        statistics={"z_forward": int(z_forward), "z_reverse": int(z_reverse)},
        size_notes=(size_note(n, 100, "2.13.7"),),
        strict_input_size=strict_input_size,
    )
