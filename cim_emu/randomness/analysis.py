"""STS's final analysis over K sequences: proportion passing and uniformity of p-values.

For every p-value "slot" (a test, or one template / excursion state of it) STS's
``finalAnalysisReport`` gives the proportion of sequences that pass, judged against
the interval p_hat +/- 3 sqrt(p_hat (1 - p_hat) / K) with p_hat = 1 - alpha (SP800-22
sec. 4.2.1), and a chi-square test that the p-values are uniform over ten bins
(sec. 4.2.2), flagged below 0.0001.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from cim_emu.randomness.sp800_22._special import igamc
from cim_emu.randomness.sp800_22.suite import SuiteReport

__all__ = [
    "SlotAnalysis",
    "SequencesAnalysis",
    "analyse_sequences",
    "proportion_interval",
    "uniformity_p_value",
]

UNIFORMITY_ALPHA = 0.0001
# SP800-22 sec. 4.2.2: the uniformity test needs at least 55 sequences.
MIN_UNIFORMITY_SAMPLE = 55


def proportion_interval(alpha: float, sample_size: int) -> tuple[float, float]:
    """p_hat -/+ 3 sqrt(p_hat (1 - p_hat) / K), p_hat = 1 - alpha (sec. 4.2.1)."""
    p_hat = 1.0 - alpha
    half_width = 3.0 * math.sqrt(p_hat * alpha / sample_size)
    return p_hat - half_width, p_hat + half_width


def uniformity_p_value(p_values: Sequence[float], *, sts: bool = True) -> tuple[float | None, tuple[int, ...]]:
    """Chi-square uniformity of p-values over ten bins (sec. 4.2.2) and the bin counts.

    STS divides the sample size by 10 in integers (expCount = K/10) and prints nothing
    when that is 0; with ``sts=False`` the expected count is the real K/10. Fewer than
    ten p-values give no P-value in either mode.

    Returns:
        (P-value of the chi-square with 9 degrees of freedom or None, counts C1..C10).
    """
    values = np.asarray(p_values, dtype=np.float64)
    bins = np.minimum(np.floor(values * 10).astype(np.int64), 9)
    counts = np.bincount(bins, minlength=10)
    if values.size < 10:
        return None, tuple(int(c) for c in counts)  # STS prints ---- (its expCount is 0)
    expected = float(values.size // 10) if sts else values.size / 10.0
    chi_squared = float(np.sum((counts - expected) ** 2 / expected))
    return igamc(4.5, chi_squared / 2.0), tuple(int(c) for c in counts)


@dataclass(frozen=True, kw_only=True)
class SlotAnalysis:
    """Final-analysis row for one p-value slot of one test.

    Attributes:
        test: test name; label: the slot (template bits, ``"x=-4"``, ``""`` for one p-value).
        sample_size: sequences in which the test applied (STS's sample size).
        n_passed: of those, how many passed.
        proportion: n_passed / sample_size (None when the sample is empty).
        proportion_low, proportion_high: the acceptance interval for the proportion.
        proportion_ok: proportion inside the interval (None: empty sample).
        bin_counts: C1..C10, the p-values per tenth of [0, 1].
        uniformity_p_value: chi-square P-value of the bins (None: fewer than 10 p-values).
        uniformity_ok: uniformity_p_value >= 0.0001 (None: not judged).
    """

    test: str
    label: str
    sample_size: int
    n_passed: int
    proportion: float | None
    proportion_low: float | None
    proportion_high: float | None
    proportion_ok: bool | None
    bin_counts: tuple[int, ...]
    uniformity_p_value: float | None
    uniformity_ok: bool | None

    @property
    def passed(self) -> bool:
        """Neither the proportion nor the uniformity reject (an empty sample passes)."""
        return self.proportion_ok is not False and self.uniformity_ok is not False

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary."""
        out = {name: getattr(self, name) for name in self.__dataclass_fields__}
        out["bin_counts"] = list(self.bin_counts)
        out["passed"] = self.passed
        return out


@dataclass(frozen=True, kw_only=True)
class SequencesAnalysis:
    """STS's final analysis report of K sequences.

    Attributes:
        n_sequences: K.
        n_bits: length of each sequence.
        alpha: significance level of the per-sequence tests.
        corrected: whether the corrected arithmetic was used.
        slots: one SlotAnalysis per (test, p-value slot), tests in STS order.
    """

    n_sequences: int
    n_bits: int
    alpha: float
    corrected: bool
    slots: tuple[SlotAnalysis, ...]

    @property
    def tests(self) -> tuple[str, ...]:
        """Test names in report order."""
        names: list[str] = []
        for slot in self.slots:
            if slot.test not in names:
                names.append(slot.test)
        return tuple(names)

    def slots_of(self, test: str) -> tuple[SlotAnalysis, ...]:
        """The slots of one test."""
        return tuple(slot for slot in self.slots if slot.test == test)

    def test_passed(self, test: str) -> bool:
        """True when every slot of the test passes."""
        return all(slot.passed for slot in self.slots_of(test))

    @property
    def passed(self) -> bool:
        """True when every slot of every test passes."""
        return all(slot.passed for slot in self.slots)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary: per test its slots."""
        return {
            "n_sequences": self.n_sequences,
            "n_bits": self.n_bits,
            "alpha": self.alpha,
            "corrected": self.corrected,
            "passed": self.passed,
            "tests": {
                test: {"passed": self.test_passed(test), "slots": [s.to_dict() for s in self.slots_of(test)]}
                for test in self.tests
            },
        }


def _as_sts_reads_it(p_value: float) -> float:
    """The p-value as STS's assessment sees it: printed with %f, read back as a float."""
    return float(np.float32(float(f"{p_value:.6f}")))


def analyse_sequences(reports: Sequence[SuiteReport], *, corrected: bool | None = None) -> SequencesAnalysis:
    """STS's final analysis of the suite's results on K sequences.

    A sequence enters a slot's sample when the test applied to it. The Runs test's
    failed pre-test counts as a failure with p = 0, as STS writes it; other tests
    that were not applicable are left out (STS leaves out the random-excursion tests
    this way, and would count a Universal test without valid L as p = 0).

    Args:
        reports: one SuiteReport per sequence, all from the same configuration.
        corrected: STS's arithmetic (False: p-values rounded to 6 digits and read as
            float32, integer thresholds and expected counts) or the exact one (True);
            None takes the reports' own mode.

    Returns:
        A SequencesAnalysis.
    """
    reports = tuple(reports)
    if not reports:
        raise ValueError("analyse_sequences needs at least one SuiteReport")
    first = reports[0]
    if corrected is None:
        corrected = first.corrected
    for index, report in enumerate(reports):
        if report.names != first.names:
            raise ValueError(f"report {index} ran tests {report.names}, report 0 ran {first.names}")
        if report.alpha != first.alpha:
            raise ValueError(f"report {index} has alpha {report.alpha}, report 0 has {first.alpha}")
    alpha = first.alpha
    slots = []
    for name in first.names:
        results = [report[name] for report in reports]
        widths = {len(r.p_values) for r in results if r.applicable}
        if len(widths) > 1:
            raise ValueError(f"{name}: the reports disagree on the number of p-values {sorted(widths)}")
        width = widths.pop() if widths else 1
        labels = next((r.labels for r in results if r.applicable and r.labels), ("",) * width)
        for slot in range(width):
            sample = []
            for result in results:
                if result.applicable:
                    sample.append(result.p_values[slot])
                elif result.rejected:
                    sample.append(0.0)
            slots.append(_analyse_slot(name, labels[slot], sample, alpha, corrected))
    return SequencesAnalysis(
        n_sequences=len(reports),
        n_bits=first.n_bits,
        alpha=alpha,
        corrected=corrected,
        slots=tuple(slots),
    )


def _analyse_slot(test: str, label: str, sample: list[float], alpha: float, corrected: bool) -> SlotAnalysis:
    values = sample if corrected else [_as_sts_reads_it(p) for p in sample]
    size = len(values)
    n_passed = sum(1 for p in values if p >= alpha)
    uniformity, counts = uniformity_p_value(values, sts=not corrected) if size else (None, (0,) * 10)
    if size == 0:
        return SlotAnalysis(
            test=test,
            label=label,
            sample_size=0,
            n_passed=0,
            proportion=None,
            proportion_low=None,
            proportion_high=None,
            proportion_ok=None,
            bin_counts=counts,
            uniformity_p_value=None,
            uniformity_ok=None,
        )
    low, high = proportion_interval(alpha, size)
    if corrected:
        proportion_ok = low * size <= n_passed <= high * size
        judged = uniformity is not None and size >= MIN_UNIFORMITY_SAMPLE
    else:
        # STS stores the pass-count thresholds in ints (truncated) and judges any sample.
        proportion_ok = int(low * size) <= n_passed <= int(high * size)
        judged = uniformity is not None
    return SlotAnalysis(
        test=test,
        label=label,
        sample_size=size,
        n_passed=n_passed,
        proportion=n_passed / size,
        proportion_low=low,
        proportion_high=high,
        proportion_ok=proportion_ok,
        bin_counts=counts,
        uniformity_p_value=uniformity,
        uniformity_ok=(uniformity >= UNIFORMITY_ALPHA) if judged else None,
    )
