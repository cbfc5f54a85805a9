"""Frequency test within a block, SP800-22 rev1a sec. 2.2."""

from __future__ import annotations

from typing import Any

import numpy as np

from cim_emu.randomness.sp800_22 import _kernels
from cim_emu.randomness.sp800_22._common import (
    check_alpha,
    check_positive_int,
    finish,
    no_complete_block,
    size_note,
)
from cim_emu.randomness.sp800_22._sequence import PreparedBits
from cim_emu.randomness.sp800_22._special import igamc
from cim_emu.randomness.sp800_22.result import DEFAULT_ALPHA, TestResult

NAME = "BlockFrequency"


def block_frequency(
    bits: Any,
    *,
    block_bits: int = 128,
    alpha: float = DEFAULT_ALPHA,
    corrected: bool = False,
    strict_input_size: bool = False,
) -> TestResult:
    """Is the proportion of ones in each M-bit block 1/2?

    Args:
        bits: 1-D sequence of 0/1, length n.
        block_bits: block length M (STS default 128); the last n mod M bits are unused.
        alpha: significance level.
        corrected: no effect (STS and the document agree).
        strict_input_size: report "not applicable" below n >= 100 or M >= 20.

    Returns:
        One p-value; statistics ``n_blocks`` and ``chi_squared``.
    """
    check_alpha(alpha)
    check_positive_int("block_bits", block_bits)
    sequence = PreparedBits.of(bits)
    n = sequence.n
    n_blocks = n // block_bits
    if n_blocks < 1:
        return no_complete_block(NAME, n, block_bits, alpha=alpha, corrected=corrected)
    ones = _kernels.block_ones(sequence.bits, block_bits, n_blocks)
    deviation = ones / block_bits - 0.5  # pi_i - 1/2, sec. 2.2.4 step 2
    chi_squared = 4.0 * block_bits * float(np.sum(deviation * deviation))  # step 3
    p_value = igamc(n_blocks / 2.0, chi_squared / 2.0)  # step 4
    block_note = None
    if block_bits < 20:
        block_note = f"M = {block_bits} is below the recommended M >= 20 (SP800-22 sec. 2.2.7)"
    return finish(
        NAME,
        [p_value],
        alpha=alpha,
        corrected=corrected,
        statistics={"n_blocks": n_blocks, "block_bits": block_bits, "chi_squared": chi_squared},
        size_notes=(size_note(n, 100, "2.2.7"), block_note),
        strict_input_size=strict_input_size,
    )
