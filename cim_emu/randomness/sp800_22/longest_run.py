"""Test for the longest run of ones in a block, SP800-22 rev1a sec. 2.4."""

from __future__ import annotations

import functools
from fractions import Fraction
from typing import Any

import numpy as np

from cim_emu.randomness.sp800_22 import _kernels
from cim_emu.randomness.sp800_22._common import check_alpha, finish, no_complete_block, not_applicable
from cim_emu.randomness.sp800_22._sequence import PreparedBits
from cim_emu.randomness.sp800_22._special import igamc
from cim_emu.randomness.sp800_22.result import DEFAULT_ALPHA, TestResult

NAME = "LongestRun"

# Block length M -> (class boundaries V_0..V_K, STS 2.1.2 class probabilities). Class 0
# holds longest runs <= V_0, class K those >= V_K (sec. 2.4.4 step 2, STS
# longestRunOfOnes.c). For M = 10^4, STS carries only 4 digits.
_CLASSES = {
    8: ((1, 2, 3, 4), (0.21484375, 0.3671875, 0.23046875, 0.1875)),
    128: (
        (4, 5, 6, 7, 8, 9),
        (0.1174035788, 0.242955959, 0.249363483, 0.17517706, 0.102701071, 0.112398847),
    ),
    10000: (
        (10, 11, 12, 13, 14, 15, 16),
        (0.0882, 0.2092, 0.2483, 0.1933, 0.1208, 0.0675, 0.0727),
    ),
}
SUPPORTED_BLOCK_BITS = tuple(_CLASSES)


def default_block_bits(n: int) -> int | None:
    """STS's choice of M from n (sec. 2.4.2): 8, 128 or 10^4; None below 128 bits."""
    if n < 128:
        return None
    if n < 6272:
        return 8
    if n < 750000:
        return 128
    return 10000


@functools.cache
def _at_most_probability(block_bits: int, longest: int) -> Fraction:
    """P(longest run of ones <= ``longest`` in ``block_bits`` fair bits), exact.

    Counts the strings with no run longer than ``longest`` by the number of ones
    trailing the string: a(j) strings end in exactly j ones, j = 0..longest.
    """
    if longest < 0:
        return Fraction(0)
    ending = [1] + [0] * longest  # empty string: zero trailing ones
    for _ in range(block_bits):
        total = sum(ending)
        ending = [total] + ending[:-1]  # append 0 -> any state to 0; append 1 -> j to j+1
    return Fraction(sum(ending), 2**block_bits)


@functools.cache
def exact_class_probabilities(block_bits: int) -> tuple[float, ...]:
    """Exact probabilities of the longest-run classes of ``block_bits`` (the corrected mode)."""
    boundaries = _CLASSES[block_bits][0]
    cumulative = [_at_most_probability(block_bits, boundaries[0])]
    for v in boundaries[1:-1]:
        cumulative.append(_at_most_probability(block_bits, v))
    probabilities = [cumulative[0]]
    probabilities += [cumulative[i] - cumulative[i - 1] for i in range(1, len(cumulative))]
    probabilities.append(1 - cumulative[-1])
    return tuple(float(p) for p in probabilities)


def longest_run(
    bits: Any,
    *,
    block_bits: int | None = None,
    alpha: float = DEFAULT_ALPHA,
    corrected: bool = False,
    strict_input_size: bool = False,
) -> TestResult:
    """Is the longest run of ones within M-bit blocks as long as for a fair coin?

    Args:
        bits: 1-D sequence of 0/1, length n >= 128.
        block_bits: M, one of 8, 128, 10^4; None chooses it from n as STS does.
        alpha: significance level.
        corrected: exact class probabilities (STS rounds those of M = 10^4 to 4 digits).
        strict_input_size: report "not applicable" when n is below the minimum of M.

    Returns:
        One p-value; statistics ``block_bits``, ``n_blocks``, class counts ``nu``,
        ``chi_squared`` and the class probabilities used.
    """
    check_alpha(alpha)
    sequence = PreparedBits.of(bits)
    n = sequence.n
    chosen = default_block_bits(n) if block_bits is None else block_bits
    if chosen is None:
        return not_applicable(
            NAME,
            f"n = {n} is below the 128 bits this test needs (sec. 2.4.2)",
            alpha=alpha,
            corrected=corrected,
        )
    if chosen not in _CLASSES:
        raise ValueError(f"block_bits must be one of {SUPPORTED_BLOCK_BITS} (sec. 2.4.2), got {chosen}")
    boundaries, sts_probabilities = _CLASSES[chosen]
    probabilities = exact_class_probabilities(chosen) if corrected else sts_probabilities
    n_classes = len(boundaries)
    n_blocks = n // chosen
    if n_blocks < 1:
        return no_complete_block(NAME, n, chosen, alpha=alpha, corrected=corrected)
    longest = _kernels.longest_run_per_block(sequence.bits, chosen, n_blocks)
    classes = np.clip(longest, boundaries[0], boundaries[-1]) - boundaries[0]  # sec. 2.4.4 step 2
    nu = np.bincount(classes, minlength=n_classes)
    expected = n_blocks * np.asarray(probabilities)
    chi_squared = float(np.sum((nu - expected) ** 2 / expected))  # step 3
    p_value = igamc((n_classes - 1) / 2.0, chi_squared / 2.0)  # step 4
    minimum = {8: 128, 128: 6272, 10000: 750000}[chosen]
    size = None
    if n < minimum:
        size = f"n = {n} is below the minimum of {minimum} bits for M = {chosen} (sec. 2.4.2)"
    return finish(
        NAME,
        [p_value],
        alpha=alpha,
        corrected=corrected,
        statistics={
            "block_bits": chosen,
            "n_blocks": n_blocks,
            "class_upper_bounds": list(boundaries),
            "nu": nu,
            "probabilities": list(probabilities),
            "chi_squared": chi_squared,
        },
        size_notes=(size,),
        strict_input_size=strict_input_size,
    )
