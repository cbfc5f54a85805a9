"""Overlapping template matching test, SP800-22 rev1a sec. 2.8."""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np

from cim_emu.randomness.sp800_22 import _kernels
from cim_emu.randomness.sp800_22._common import (
    check_alpha,
    check_positive_int,
    finish,
    not_applicable,
    size_note,
)
from cim_emu.randomness.sp800_22._sequence import PreparedBits
from cim_emu.randomness.sp800_22._special import igamc
from cim_emu.randomness.sp800_22.result import DEFAULT_ALPHA, TestResult
from cim_emu.randomness.sp800_22.templates import template_value

NAME = "OverlappingTemplate"


def sts_class_probabilities(template_bits: int, block_bits: int, n_classes: int) -> tuple[float, ...]:
    """STS 2.1.2's class probabilities: its function ``Pr(u, eta)``, eta = lambda / 2.

    An approximation (a compound Poisson law) that the document's sec. 3.8 replaces by
    exact values; STS still computes these. Classes 0..K-1 matches and >= K.
    """
    eta = (block_bits - template_bits + 1) / 2.0**template_bits / 2.0
    probabilities = []
    for u in range(n_classes):
        if u == 0:
            probabilities.append(math.exp(-eta))
            continue
        total = 0.0
        for ell in range(1, u + 1):
            total += math.exp(
                -eta
                - u * math.log(2)
                + ell * math.log(eta)
                - math.lgamma(ell + 1)
                + math.lgamma(u)
                - math.lgamma(ell)
                - math.lgamma(u - ell + 1)
            )
        probabilities.append(total)
    probabilities.append(1.0 - sum(probabilities))
    return tuple(probabilities)


@functools.lru_cache(maxsize=64)
def exact_class_probabilities(template: str, block_bits: int, n_classes: int) -> tuple[float, ...]:
    """Exact P(number of overlapping matches of ``template`` in M fair bits = 0..K-1, >= K).

    A Markov chain over (matched prefix length, matches so far capped at K) using the
    Knuth-Morris-Pratt automaton of the template; for m = 9 ones, M = 1032, K = 5 it
    gives the document's 0.364091, 0.185659, 0.139381, 0.100571, 0.070432, 0.139865.
    """
    m = len(template)
    failure = [0] * (m + 1)  # longest proper border of template[:i]
    k = 0
    for i in range(1, m):
        while k and template[i] != template[k]:
            k = failure[k]
        if template[i] == template[k]:
            k += 1
        failure[i + 1] = k
    # next_state[state][bit], counted[state][bit]: automaton after reading one bit.
    next_state = np.zeros((m, 2), dtype=np.int64)
    counted = np.zeros((m, 2), dtype=bool)
    for state in range(m):
        for bit in (0, 1):
            s = state
            while s and template[s] != str(bit):
                s = failure[s]
            s = s + 1 if template[s] == str(bit) else 0
            if s == m:
                counted[state, bit] = True
                s = failure[m]
            next_state[state, bit] = s
    distribution = np.zeros((m, n_classes + 1))
    distribution[0, 0] = 1.0
    for _ in range(block_bits):
        updated = np.zeros_like(distribution)
        for state in range(m):
            for bit in (0, 1):
                target = next_state[state, bit]
                mass = 0.5 * distribution[state]
                if counted[state, bit]:
                    updated[target, 1:] += mass[:-1]
                    updated[target, -1] += mass[-1]  # the ">= K" class absorbs
                else:
                    updated[target] += mass
        distribution = updated
    return tuple(float(p) for p in distribution.sum(axis=0))


def overlapping_template(
    bits: Any,
    *,
    template_bits: int = 9,
    template: str | None = None,
    block_bits: int = 1032,
    n_classes: int = 5,
    alpha: float = DEFAULT_ALPHA,
    corrected: bool = False,
    strict_input_size: bool = False,
) -> TestResult:
    """Does an m-bit pattern (default: m ones) occur, overlaps counted, as often as chance predicts?

    Args:
        bits: 1-D sequence of 0/1, length n, cut into N = n // M blocks.
        template_bits: m (STS: 9).
        template: the pattern; None means m ones (STS).
        block_bits: M (STS: 1032).
        n_classes: K; blocks are classed by 0, 1, ..., K-1 and >= K matches (STS: 5).
        alpha: significance level.
        corrected: exact class probabilities instead of STS's approximation.
        strict_input_size: report "not applicable" below the recommended n >= 10^6.

    Returns:
        One p-value; statistics ``nu`` (blocks per class), the probabilities used and
        ``chi_squared``.
    """
    check_alpha(alpha)
    check_positive_int("template_bits", template_bits)
    check_positive_int("block_bits", block_bits)
    check_positive_int("n_classes", n_classes)
    if template is None:
        template = "1" * template_bits
    if len(template) != template_bits:
        raise ValueError(f"template {template!r} does not have template_bits = {template_bits} bits")
    value = template_value(template)
    sequence = PreparedBits.of(bits)
    n = sequence.n
    n_blocks = n // block_bits
    if n_blocks < 1 or block_bits < template_bits:
        return not_applicable(
            NAME,
            f"n = {n} bits hold no complete block of M = {block_bits} >= m = {template_bits} bits",
            alpha=alpha,
            corrected=corrected,
        )
    if corrected:
        probabilities = exact_class_probabilities(template, block_bits, n_classes)
    else:
        probabilities = sts_class_probabilities(template_bits, block_bits, n_classes)
    matches = _kernels.overlapping_matches(sequence.bits, value, template_bits, block_bits, n_blocks)
    nu = np.bincount(np.minimum(matches, n_classes), minlength=n_classes + 1)  # sec. 2.8.4 step 2
    expected = n_blocks * np.asarray(probabilities)
    chi_squared = float(np.sum((nu - expected) ** 2 / expected))  # step 4
    p_value = igamc(n_classes / 2.0, chi_squared / 2.0)  # step 5
    return finish(
        NAME,
        [p_value],
        alpha=alpha,
        corrected=corrected,
        statistics={
            "block_bits": block_bits,
            "n_blocks": n_blocks,
            "nu": nu,
            "probabilities": list(probabilities),
            "chi_squared": chi_squared,
        },
        size_notes=(size_note(n, 1_000_000, "2.8.7"),),
        strict_input_size=strict_input_size,
    )
