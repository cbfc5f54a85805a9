"""Frequency (monobit) test, SP800-22 rev1a sec. 2.1."""

from __future__ import annotations

import math
from typing import Any

from cim_emu.randomness.sp800_22._common import check_alpha, finish, size_note
from cim_emu.randomness.sp800_22._sequence import PreparedBits
from cim_emu.randomness.sp800_22._special import erfc
from cim_emu.randomness.sp800_22.result import DEFAULT_ALPHA, TestResult

NAME = "Frequency"


def frequency(
    bits: Any, *, alpha: float = DEFAULT_ALPHA, corrected: bool = False, strict_input_size: bool = False
) -> TestResult:
    """Is the proportion of ones 1/2?

    Args:
        bits: 1-D sequence of 0/1, length n.
        alpha: significance level.
        corrected: no effect (STS and the document agree here); kept for a uniform API.
        strict_input_size: report "not applicable" below the recommended n >= 100.

    Returns:
        One p-value; statistics ``S_n`` (sum of +/-1) and ``s_obs``.
    """
    check_alpha(alpha)
    sequence = PreparedBits.of(bits)
    n = sequence.n
    s_n = 2 * sequence.ones() - n  # sec. 2.1.4 step 1
    s_obs = abs(s_n) / math.sqrt(n)  # step 2
    p_value = erfc(s_obs / math.sqrt(2.0))  # step 3
    return finish(
        NAME,
        [p_value],
        alpha=alpha,
        corrected=corrected,
        statistics={"n": n, "S_n": s_n, "s_obs": s_obs},
        size_notes=(size_note(n, 100, "2.1.7"),),
        strict_input_size=strict_input_size,
    )
