"""Runs test, SP800-22 rev1a sec. 2.3."""

from __future__ import annotations

import math
from typing import Any

from cim_emu.randomness.sp800_22 import _kernels
from cim_emu.randomness.sp800_22._common import check_alpha, finish, not_applicable, size_note
from cim_emu.randomness.sp800_22._sequence import PreparedBits
from cim_emu.randomness.sp800_22._special import erfc
from cim_emu.randomness.sp800_22.result import DEFAULT_ALPHA, TestResult

NAME = "Runs"


def runs(
    bits: Any, *, alpha: float = DEFAULT_ALPHA, corrected: bool = False, strict_input_size: bool = False
) -> TestResult:
    """Is the number of runs (maximal blocks of equal bits) what a fair coin gives?

    The test presupposes a balanced sequence: when |pi - 1/2| exceeds tau = 2/sqrt(n)
    (sec. 2.3.4 step 2) the sequence already fails the frequency pre-test. STS then
    prints p = 0; here the result is "not applicable" with ``rejected=True`` (so
    ``passed`` is False) and no invented p-value.

    Args:
        bits: 1-D sequence of 0/1, length n.
        alpha: significance level.
        corrected: use the document's ``>=`` in the pre-test instead of STS's ``>``.
        strict_input_size: report "not applicable" below the recommended n >= 100.

    Returns:
        One p-value; statistics ``pi`` (fraction of ones) and ``V_obs`` (runs).
    """
    check_alpha(alpha)
    sequence = PreparedBits.of(bits)
    n = sequence.n
    pi = sequence.ones() / n  # sec. 2.3.4 step 1
    tau = 2.0 / math.sqrt(n)
    imbalance = abs(pi - 0.5)
    fails_pretest = imbalance >= tau if corrected else imbalance > tau
    if fails_pretest or pi * (1.0 - pi) == 0.0:
        return not_applicable(
            NAME,
            f"frequency pre-test failed: |pi - 1/2| = {imbalance:.6g} exceeds tau = 2/sqrt(n) = {tau:.6g} "
            "(sec. 2.3.4 step 2); the sequence is rejected",
            alpha=alpha,
            corrected=corrected,
            rejected=True,
            statistics={"pi": pi, "tau": tau},
        )
    v_obs = _kernels.count_transitions(sequence.bits) + 1  # step 3
    argument = abs(v_obs - 2.0 * n * pi * (1 - pi)) / (2.0 * pi * (1 - pi) * math.sqrt(2 * n))
    p_value = erfc(argument)  # step 4
    return finish(
        NAME,
        [p_value],
        alpha=alpha,
        corrected=corrected,
        statistics={"pi": pi, "V_obs": int(v_obs)},
        size_notes=(size_note(n, 100, "2.3.7"),),
        strict_input_size=strict_input_size,
    )
