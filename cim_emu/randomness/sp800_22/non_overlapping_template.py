"""Non-overlapping template matching test, SP800-22 rev1a sec. 2.7."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from cim_emu.randomness.sp800_22 import _kernels
from cim_emu.randomness.sp800_22._common import check_alpha, check_positive_int, finish, not_applicable
from cim_emu.randomness.sp800_22._sequence import PreparedBits
from cim_emu.randomness.sp800_22._special import igamc
from cim_emu.randomness.sp800_22.result import DEFAULT_ALPHA, TestResult
from cim_emu.randomness.sp800_22.templates import aperiodic_templates, is_aperiodic, template_value

NAME = "NonOverlappingTemplate"

# STS runs at most this many templates; above it, it takes every SKIP-th one.
STS_MAX_TEMPLATES = 148
# Above this many counters, one pass per template is cheaper than the joint histogram.
_MAX_JOINT_COUNTERS = 1 << 22


def sts_template_selection(m: int) -> tuple[str, ...]:
    """The templates STS 2.1.2 runs for length m (all 148 for m = 9)."""
    templates = aperiodic_templates(m)
    skip = 1 if len(templates) < STS_MAX_TEMPLATES else len(templates) // STS_MAX_TEMPLATES
    return templates[::skip][: min(STS_MAX_TEMPLATES, len(templates) // skip)]


def _match_counts(bits: np.ndarray, templates: Sequence[str], m: int, block_bits: int, n_blocks: int) -> np.ndarray:
    """W_j per template and block: int64 (n_templates, n_blocks)."""
    values = [template_value(t) for t in templates]
    if all(is_aperiodic(t) for t in templates) and n_blocks << m <= _MAX_JOINT_COUNTERS:
        # Aperiodic templates cannot overlap themselves: the greedy non-overlapping
        # count equals the plain count of windows, taken for every pattern at once.
        joint = _kernels.block_window_counts(bits, m, block_bits, n_blocks)
        return joint[:, values].T.copy()
    out = np.empty((len(values), n_blocks), dtype=np.int64)
    for row, value in enumerate(values):
        out[row] = _kernels.non_overlapping_matches(bits, value, m, block_bits, n_blocks)
    return out


def non_overlapping_template(
    bits: Any,
    *,
    template_bits: int = 9,
    n_blocks: int = 8,
    templates: Sequence[str] | None = None,
    alpha: float = DEFAULT_ALPHA,
    corrected: bool = False,
    strict_input_size: bool = False,
) -> TestResult:
    """Do aperiodic m-bit patterns occur (without overlap) as often as chance predicts?

    Args:
        bits: 1-D sequence of 0/1, length n, cut into N blocks of M = n // N bits.
        template_bits: m (STS default 9).
        n_blocks: N (STS: 8).
        templates: the m-bit patterns to test; None takes the aperiodic templates in
            ascending binary order, as STS (for m >= 11 STS keeps every k-th of them,
            at most 148; the corrected mode keeps them all).
        alpha: significance level.
        corrected: see ``templates``.
        strict_input_size: report "not applicable" outside N <= 100 and M > 0.01 n.

    Returns:
        One p-value per template (labels: the template bits); statistics ``lambda``
        (mean), ``variance`` and ``W`` (matches per template and block).
    """
    check_alpha(alpha)
    check_positive_int("template_bits", template_bits, 2)
    check_positive_int("n_blocks", n_blocks)
    if templates is None:
        templates = aperiodic_templates(template_bits) if corrected else sts_template_selection(template_bits)
    templates = tuple(templates)
    for template in templates:
        if len(template) != template_bits:
            raise ValueError(f"template {template!r} does not have template_bits = {template_bits} bits")
        template_value(template)
    sequence = PreparedBits.of(bits)
    n = sequence.n
    m = template_bits
    block_bits = n // n_blocks
    mean = (block_bits - m + 1) / 2.0**m  # sec. 2.7.4 step 3
    variance = block_bits * (1.0 / 2.0**m - (2.0 * m - 1.0) / 2.0 ** (2.0 * m))
    if mean <= 0.0 or variance <= 0.0:
        return not_applicable(
            NAME,
            f"blocks of M = n // N = {block_bits} bits are too short for {m}-bit templates",
            alpha=alpha,
            corrected=corrected,
        )
    counts = _match_counts(sequence.bits, templates, m, block_bits, n_blocks)  # step 2
    chi_squared = np.sum(((counts - mean) / variance**0.5) ** 2, axis=1)  # step 4
    p_values = [igamc(n_blocks / 2.0, float(c) / 2.0) for c in chi_squared]  # step 5
    size = None
    if n_blocks > 100 or block_bits <= 0.01 * n:
        size = f"N = {n_blocks} blocks of M = {block_bits} bits: SP800-22 sec. 2.7.7 recommends N <= 100 and M > 0.01 n"
    return finish(
        NAME,
        p_values,
        alpha=alpha,
        corrected=corrected,
        labels=templates,
        statistics={
            "block_bits": block_bits,
            "n_blocks": n_blocks,
            "lambda": mean,
            "variance": variance,
            "W": counts,
            "chi_squared": chi_squared,
        },
        size_notes=(size,),
        strict_input_size=strict_input_size,
    )
