"""Binary matrix rank test, SP800-22 rev1a sec. 2.5."""

from __future__ import annotations

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
from cim_emu.randomness.sp800_22.result import DEFAULT_ALPHA, TestResult

NAME = "Rank"


def rank_probability(rank: int, n_rows: int, n_cols: int) -> float:
    """P(a random n_rows x n_cols GF(2) matrix has the given rank), sec. 3.5."""
    product = 1.0
    for i in range(rank):
        product *= (1.0 - 2.0 ** (i - n_rows)) * (1.0 - 2.0 ** (i - n_cols)) / (1.0 - 2.0 ** (i - rank))
    return 2.0 ** (rank * (n_rows + n_cols - rank) - n_rows * n_cols) * product


def rank(
    bits: Any,
    *,
    n_rows: int = 32,
    n_cols: int = 32,
    alpha: float = DEFAULT_ALPHA,
    corrected: bool = False,
    strict_input_size: bool = False,
) -> TestResult:
    """Are the ranks of disjoint M x Q binary matrices those of random matrices?

    Args:
        bits: 1-D sequence of 0/1, length n.
        n_rows, n_cols: matrix shape M x Q (STS: 32 x 32); each matrix is filled row by
            row from consecutive bits, the last n mod MQ bits are unused.
        alpha: significance level.
        corrected: no effect (STS and the document agree).
        strict_input_size: report "not applicable" below the recommended n >= 38 MQ.

    Returns:
        One p-value; statistics ``n_matrices``, counts of full rank, full rank - 1 and
        lower, and ``chi_squared``.
    """
    check_alpha(alpha)
    check_positive_int("n_rows", n_rows, 2)
    check_positive_int("n_cols", n_cols, 2)
    sequence = PreparedBits.of(bits)
    n = sequence.n
    n_matrices = n // (n_rows * n_cols)
    if n_matrices < 1:
        return not_applicable(
            NAME,
            f"n = {n} bits do not fill one {n_rows} x {n_cols} matrix (sec. 2.5.4 step 1)",
            alpha=alpha,
            corrected=corrected,
        )
    ranks = _kernels.gf2_ranks(sequence.bits, n_rows, n_cols, n_matrices)
    full = min(n_rows, n_cols)
    f_full = int(np.count_nonzero(ranks == full))  # sec. 2.5.4 step 3
    f_next = int(np.count_nonzero(ranks == full - 1))
    f_rest = n_matrices - f_full - f_next
    p_full = rank_probability(full, n_rows, n_cols)
    p_next = rank_probability(full - 1, n_rows, n_cols)
    p_rest = 1.0 - (p_full + p_next)
    if p_rest <= 0.0:
        raise ValueError(
            f"{n_rows} x {n_cols} matrices: a rank below {full - 1} has probability 0 in double precision, "
            "so the chi-square is undefined; use (near-)square matrices such as the default 32 x 32"
        )
    chi_squared = (
        (f_full - n_matrices * p_full) ** 2 / (n_matrices * p_full)
        + (f_next - n_matrices * p_next) ** 2 / (n_matrices * p_next)
        + (f_rest - n_matrices * p_rest) ** 2 / (n_matrices * p_rest)
    )  # step 4
    p_value = math.exp(-chi_squared / 2.0)  # step 5: igamc(1, x) = exp(-x)
    return finish(
        NAME,
        [p_value],
        alpha=alpha,
        corrected=corrected,
        statistics={
            "n_matrices": n_matrices,
            "F_full": f_full,
            "F_full_minus_1": f_next,
            "F_rest": f_rest,
            "chi_squared": chi_squared,
        },
        size_notes=(size_note(n, 38 * n_rows * n_cols, "2.5.7"),),
        strict_input_size=strict_input_size,
    )
