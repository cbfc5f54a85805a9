"""Helpers the test modules share: size recommendations and result construction."""

from __future__ import annotations

from typing import Any

from cim_emu.randomness.sp800_22.result import TestResult


def check_alpha(alpha: float) -> None:
    """Reject a significance level outside (0, 1)."""
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must lie in (0, 1), got {alpha}; SP800-22 uses 0.01")


def check_positive_int(name: str, value: Any, minimum: int = 1) -> int:
    """Validate an integer parameter, naming it in the error."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return value


def size_note(n: int, minimum: int, section: str) -> str | None:
    """A note when n is below the input size SP800-22 recommends, else None."""
    if n >= minimum:
        return None
    return f"n = {n} is below the recommended minimum of {minimum} bits (SP800-22 sec. {section})"


def not_applicable(
    name: str,
    reason: str,
    *,
    alpha: float,
    corrected: bool,
    rejected: bool = False,
    notes: tuple[str, ...] = (),
    statistics: dict[str, Any] | None = None,
) -> TestResult:
    """A TestResult without p-values, with the reason in plain words."""
    return TestResult(
        name=name,
        applicable=False,
        rejected=rejected,
        reason=reason,
        notes=notes,
        statistics=statistics or {},
        alpha=alpha,
        corrected=corrected,
    )


def no_complete_block(name: str, n: int, block_bits: int, *, alpha: float, corrected: bool) -> TestResult:
    """Not applicable: the n bits hold no complete block of M = ``block_bits`` bits."""
    return not_applicable(
        name, f"n = {n} bits hold no complete block of M = {block_bits} bits", alpha=alpha, corrected=corrected
    )


def finish(
    name: str,
    p_values: list[float] | tuple[float, ...],
    *,
    alpha: float,
    corrected: bool,
    statistics: dict[str, Any],
    labels: tuple[str, ...] = (),
    notes: tuple[str | None, ...] = (),
    size_notes: tuple[str | None, ...] = (),
    strict_input_size: bool = False,
) -> TestResult:
    """Build the result of a test that ran; with ``strict_input_size`` a size note makes it n/a."""
    size_notes = tuple(note for note in size_notes if note)
    notes = tuple(note for note in notes if note)
    if strict_input_size and size_notes:
        return not_applicable(name, size_notes[0], alpha=alpha, corrected=corrected, notes=size_notes[1:] + notes)
    return TestResult(
        name=name,
        p_values=tuple(float(p) for p in p_values),
        labels=labels,
        notes=size_notes + notes,
        statistics=statistics,
        alpha=alpha,
        corrected=corrected,
    )
