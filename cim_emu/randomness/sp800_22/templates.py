"""Aperiodic templates: the patterns of the non-overlapping template test (sec. 2.7)."""

from __future__ import annotations

import functools

import numpy as np

__all__ = ["aperiodic_templates", "is_aperiodic", "template_value"]


def template_value(template: str) -> int:
    """The integer whose m-bit binary expansion (MSB first) is ``template``."""
    if not template or any(ch not in "01" for ch in template):
        raise ValueError(f"a template is a non-empty string of '0'/'1', got {template!r}")
    return int(template, 2)


def is_aperiodic(template: str) -> bool:
    """True if no proper prefix of ``template`` equals its suffix of the same length.

    Such a pattern cannot overlap itself, so its occurrences never share a bit.
    """
    return not any(template[:k] == template[-k:] for k in range(1, len(template)))


@functools.cache
def aperiodic_templates(m: int) -> tuple[str, ...]:
    """All aperiodic m-bit templates in ascending binary order (STS's template files).

    There are 2, 4, 6, 12, 20, 40, 74, 148, 284, ... of them for m = 2, 3, 4, ...
    """
    if not 2 <= m <= 24:
        raise ValueError(f"template length m must lie in 2..24, got {m}")
    values = np.arange(1 << m, dtype=np.int64)
    bordered = np.zeros(values.shape, dtype=bool)
    for k in range(1, m):
        bordered |= (values >> (m - k)) == (values & ((1 << k) - 1))
    return tuple(format(int(v), f"0{m}b") for v in values[~bordered])
