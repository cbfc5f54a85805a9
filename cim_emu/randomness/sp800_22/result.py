"""The result of one SP800-22 test: p-values, applicability and the numbers behind them."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

__all__ = ["TestResult", "DEFAULT_ALPHA"]

DEFAULT_ALPHA = 0.01


def _json_ready(value: Any) -> Any:
    """Turn numpy scalars/arrays and tuples into plain JSON types (recursively).

    The same as ``devices.io.json_ready``: the suite is a leaf that imports nothing else of ours (so that a NIST
    run loads no device physics), so it keeps this dozen lines of its own."""
    if hasattr(value, "tolist"):
        # numpy scalars/arrays become plain floats and lists, which may still hold NaN or inf.
        return _json_ready(value.tolist())
    if isinstance(value, dict):
        return {str(key): _json_ready(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_ready(item) for item in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


@dataclass(frozen=True, kw_only=True)
class TestResult:
    """Outcome of one statistical test on one sequence.

    Attributes:
        name: the STS name of the test (``"Frequency"``, ``"NonOverlappingTemplate"``, ...).
        p_values: one p-value per sub-test (e.g. 148 templates, 8 excursion states);
            empty when the test is not applicable.
        labels: what each p-value refers to (template bits, ``"x=-4"``, ``"forward"``).
        applicable: False when the test could not be run on this sequence; then
            ``reason`` says why and no p-value is reported (STS would print 0.0).
        rejected: True for a not-applicable test whose prerequisite already rejects
            the sequence (the Runs test when the Frequency pre-test fails): ``passed``
            is then False although there is no p-value.
        reason: why the test is not applicable (empty otherwise).
        notes: warnings that do not stop the test (input below the size SP800-22
            recommends, parameters outside the recommended range, bits discarded).
        statistics: the intermediate numbers (counts, chi-square, ...; numpy arrays
            where they are tables); ``to_dict`` makes them JSON-ready. Not compared by ``==``.
        alpha: significance level of the pass/fail verdict.
        corrected: whether the corrected arithmetic was used instead of STS 2.1.2's.
    """

    __test__ = False  # not a pytest test class, despite its name

    name: str
    p_values: tuple[float, ...] = ()
    labels: tuple[str, ...] = ()
    applicable: bool = True
    rejected: bool = False
    reason: str = ""
    notes: tuple[str, ...] = ()
    statistics: dict[str, Any] = field(default_factory=dict, compare=False)
    alpha: float = DEFAULT_ALPHA
    corrected: bool = False

    def __post_init__(self) -> None:
        if self.applicable and not self.p_values:
            raise ValueError(f"{self.name}: an applicable test needs at least one p-value")
        if not self.applicable and not self.reason:
            raise ValueError(f"{self.name}: a test that is not applicable needs a reason")
        if self.labels and len(self.labels) != len(self.p_values):
            raise ValueError(f"{self.name}: {len(self.labels)} labels for {len(self.p_values)} p-values")
        if not 0.0 < self.alpha < 1.0:
            raise ValueError(f"alpha must lie in (0, 1), got {self.alpha}")

    @property
    def passed(self) -> bool:
        """True unless the test rejects the sequence at level ``alpha``.

        One p-value: passed when p >= alpha. Several p-values (148 templates, 18
        excursion states, ...): passed when min p >= alpha / (number of p-values), the
        Bonferroni rule, so that a good generator fails any one test with probability
        at most alpha; requiring every p >= alpha instead would fail a perfect
        generator on the 148 templates about three times in four. ``n_below_alpha``
        keeps STS's per-p-value count. A test that is not applicable passes unless its
        prerequisite rejected the sequence (``rejected``): too few cycles for the
        random-excursion tests is no evidence against randomness.
        """
        if not self.applicable:
            return not self.rejected
        return min(self.p_values) >= self.alpha / len(self.p_values)

    @property
    def n_below_alpha(self) -> int:
        """How many p-values are below alpha (the sub-tests STS prints as FAILURE)."""
        return sum(1 for p in self.p_values if p < self.alpha)

    @property
    def min_p_value(self) -> float | None:
        """Smallest p-value, or None when there is none."""
        return min(self.p_values) if self.p_values else None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary: p_values, passed, applicable, plus details."""
        out: dict[str, Any] = {
            "p_values": [float(p) for p in self.p_values],
            "passed": self.passed,
            "applicable": self.applicable,
        }
        if len(self.p_values) > 1:
            out["n_below_alpha"] = self.n_below_alpha
        if self.labels:
            out["labels"] = list(self.labels)
        if self.reason:
            out["reason"] = self.reason
        if self.rejected:
            out["rejected"] = True
        if self.notes:
            out["notes"] = list(self.notes)
        if self.statistics:
            out["statistics"] = _json_ready(self.statistics)
        return out
