"""Random excursions variant test, SP800-22 rev1a sec. 2.15."""

from __future__ import annotations

import math
from typing import Any

from cim_emu.randomness.sp800_22._common import check_alpha, finish, not_applicable, size_note
from cim_emu.randomness.sp800_22._sequence import PreparedBits
from cim_emu.randomness.sp800_22._special import erfc
from cim_emu.randomness.sp800_22.random_excursions import minimum_cycles
from cim_emu.randomness.sp800_22.result import DEFAULT_ALPHA, TestResult

NAME = "RandomExcursionsVariant"
STATES = (-9, -8, -7, -6, -5, -4, -3, -2, -1, 1, 2, 3, 4, 5, 6, 7, 8, 9)


def random_excursions_variant(
    bits: Any,
    *,
    min_cycles: float | None = None,
    alpha: float = DEFAULT_ALPHA,
    corrected: bool = False,
    strict_input_size: bool = False,
) -> TestResult:
    """Does the random walk visit each state -9..9 as often as the number of cycles predicts?

    Args:
        bits: 1-D sequence of 0/1, length n.
        min_cycles: as for :func:`random_excursions` (STS truncates the constraint to an
            integer here, which changes nothing below n = 10^10).
        alpha: significance level.
        corrected: no effect (STS and the document agree).
        strict_input_size: report "not applicable" below the recommended n >= 10^6.

    Returns:
        Eighteen p-values, states x = -9..-1, 1..9; statistics ``J`` and ``xi`` (visits).
    """
    check_alpha(alpha)
    sequence = PreparedBits.of(bits)
    n = sequence.n
    final, _, _, n_zeros, _, visits = sequence.random_walk()
    n_cycles = int(n_zeros + (final != 0))  # sec. 2.15.4 step 3
    required = float(int(minimum_cycles(n))) if min_cycles is None else float(min_cycles)
    if n_cycles < required:
        return not_applicable(
            NAME,
            f"only J = {n_cycles} cycles, fewer than the {required:g} the test needs (sec. 2.15.7)",
            alpha=alpha,
            corrected=corrected,
            statistics={"J": n_cycles},
        )
    p_values = [
        erfc(abs(int(count) - n_cycles) / math.sqrt(2.0 * n_cycles * (4.0 * abs(state) - 2)))  # step 5
        for state, count in zip(STATES, visits, strict=True)
    ]
    return finish(
        NAME,
        p_values,
        alpha=alpha,
        corrected=corrected,
        labels=tuple(f"x={state}" for state in STATES),
        statistics={"J": n_cycles, "xi": visits},
        size_notes=(size_note(n, 1_000_000, "2.15.7"),),
        strict_input_size=strict_input_size,
    )
