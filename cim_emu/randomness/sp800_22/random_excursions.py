"""Random excursions test, SP800-22 rev1a sec. 2.14."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from cim_emu.randomness.sp800_22._common import check_alpha, finish, not_applicable, size_note
from cim_emu.randomness.sp800_22._sequence import PreparedBits
from cim_emu.randomness.sp800_22._special import igamc
from cim_emu.randomness.sp800_22.result import DEFAULT_ALPHA, TestResult

NAME = "RandomExcursions"
STATES = (-4, -3, -2, -1, 1, 2, 3, 4)

# pi_k(x) for |x| = 1..4, k = 0..4 and >= 5 visits per cycle, as STS 2.1.2 writes them (10 digits).
_STS_PROBABILITIES = (
    (0.5000000000, 0.25000000000, 0.12500000000, 0.06250000000, 0.03125000000, 0.0312500000),
    (0.7500000000, 0.06250000000, 0.04687500000, 0.03515625000, 0.02636718750, 0.0791015625),
    (0.8333333333, 0.02777777778, 0.02314814815, 0.01929012346, 0.01607510288, 0.0803755143),
    (0.8750000000, 0.01562500000, 0.01367187500, 0.01196289063, 0.01046752930, 0.0732727051),
)


def visit_probabilities(state: int) -> tuple[float, ...]:
    """Exact P(a cycle visits ``state`` k times), k = 0..4 and >= 5 (sec. 3.14)."""
    leave = 1.0 / (2.0 * abs(state))
    probabilities = [1.0 - leave]
    for k in range(1, 5):
        probabilities.append(leave * leave * (1.0 - leave) ** (k - 1))
    probabilities.append(leave * (1.0 - leave) ** 4)
    return tuple(probabilities)


def minimum_cycles(n: int) -> float:
    """STS's rejection constraint max(0.005 sqrt(n), 500) on the number of cycles J."""
    return max(0.005 * math.sqrt(n), 500.0)


def random_excursions(
    bits: Any,
    *,
    min_cycles: float | None = None,
    alpha: float = DEFAULT_ALPHA,
    corrected: bool = False,
    strict_input_size: bool = False,
) -> TestResult:
    """Do the cycles of the random walk visit states -4..4 as often as chance predicts?

    STS also refuses sequences with more than max(1000, n/100) cycles (a buffer size);
    this implementation has no such buffer and computes the p-values.

    Args:
        bits: 1-D sequence of 0/1, length n.
        min_cycles: the test is not applicable with fewer cycles J; None means
            max(0.005 sqrt(n), 500) as STS (0 reproduces the document's 10-bit example).
        alpha: significance level.
        corrected: exact pi_k(x) instead of STS's 10-digit table.
        strict_input_size: report "not applicable" below the recommended n >= 10^6.

    Returns:
        Eight p-values, states x = -4..-1, 1..4; statistics ``J``, ``nu`` (6 x 8) and
        ``chi_squared``.
    """
    check_alpha(alpha)
    sequence = PreparedBits.of(bits)
    n = sequence.n
    final, _, _, n_zeros, excursion_counts, _ = sequence.random_walk()
    n_cycles = int(n_zeros + (final != 0))  # sec. 2.14.4 step 3
    required = minimum_cycles(n) if min_cycles is None else float(min_cycles)
    if n_cycles < required:
        return not_applicable(
            NAME,
            f"only J = {n_cycles} cycles, fewer than the {required:g} the test needs (sec. 2.14.7)",
            alpha=alpha,
            corrected=corrected,
            statistics={"J": n_cycles},
        )
    p_values = []
    chi_squared = []
    for column, state in enumerate(STATES):
        table = visit_probabilities(state) if corrected else _STS_PROBABILITIES[abs(state) - 1]
        expected = n_cycles * np.asarray(table)
        value = float(np.sum((excursion_counts[:, column] - expected) ** 2 / expected))  # step 6
        chi_squared.append(value)
        p_values.append(igamc(2.5, value / 2.0))  # step 7
    return finish(
        NAME,
        p_values,
        alpha=alpha,
        corrected=corrected,
        labels=tuple(f"x={state}" for state in STATES),
        statistics={"J": n_cycles, "nu": excursion_counts, "chi_squared": chi_squared},
        size_notes=(size_note(n, 1_000_000, "2.14.7"),),
        strict_input_size=strict_input_size,
    )
