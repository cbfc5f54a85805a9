"""Cumulative sums (cusum) test, SP800-22 rev1a sec. 2.13."""

from __future__ import annotations

import math
from typing import Any

from cim_emu.randomness.sp800_22._common import check_alpha, finish, size_note
from cim_emu.randomness.sp800_22._sequence import PreparedBits
from cim_emu.randomness.sp800_22._special import c_int_div, normal_cdf, sts_normal_cdf
from cim_emu.randomness.sp800_22.result import DEFAULT_ALPHA, TestResult

NAME = "CumulativeSums"


def cusum_p_value(z: int, n: int, *, corrected: bool = False) -> float:
    """P-value of a maximal excursion z of an n-step walk, sec. 2.13.4 step 4.

    STS sums k between C-truncated integer quotients ``(-n/z+1)/4 .. (n/z-1)/4`` and
    uses libm erf for Phi; the corrected mode takes the document's floor of the real
    quotients and scipy's ndtr. The terms this changes are below 1e-16 for n >= 100.
    """
    phi = normal_cdf if corrected else sts_normal_cdf
    root_n = math.sqrt(n)
    if corrected:
        first = range(math.floor((-n / z + 1) / 4), math.floor((n / z - 1) / 4) + 1)
        second = range(math.floor((-n / z - 3) / 4), math.floor((n / z - 1) / 4) + 1)
    else:
        ratio = n // z
        first = range(c_int_div(-ratio + 1, 4), c_int_div(ratio - 1, 4) + 1)
        second = range(c_int_div(-ratio - 3, 4), c_int_div(ratio - 1, 4) + 1)
    sum1 = 0.0
    for k in first:
        sum1 += phi(((4 * k + 1) * z) / root_n)
        sum1 -= phi(((4 * k - 1) * z) / root_n)
    sum2 = 0.0
    for k in second:
        sum2 += phi(((4 * k + 3) * z) / root_n)
        sum2 -= phi(((4 * k + 1) * z) / root_n)
    return 1.0 - sum1 + sum2


def cumulative_sums(
    bits: Any, *, alpha: float = DEFAULT_ALPHA, corrected: bool = False, strict_input_size: bool = False
) -> TestResult:
    """Does the +/-1 random walk stray too far from zero, forward and backward?

    Args:
        bits: 1-D sequence of 0/1, length n.
        alpha: significance level.
        corrected: see :func:`cusum_p_value`.
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
        cusum_p_value(z_forward, n, corrected=corrected),
        cusum_p_value(z_reverse, n, corrected=corrected),
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
