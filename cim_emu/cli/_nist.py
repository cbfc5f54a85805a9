"""Text and JSON presentation of NIST SP800-22 results, shared by ``cim-emu nist`` and ``cim-emu trng``
(private to the CLI)."""

from __future__ import annotations

from typing import Any

__all__ = ["MIN_BITS_PER_SEQUENCE", "compact", "multi_sequence_output", "format_single", "format_multi"]

# SP800-22 recommends at least 100 bits for every test (sec. 2.1.7); below that the
# suite would have nothing meaningful to say.
MIN_BITS_PER_SEQUENCE = 100


def compact(report: Any) -> dict[str, Any]:
    """Per-sequence results without the intermediate statistics."""
    return {
        "n_bits": report.n_bits,
        "passed": report.passed,
        "tests": {
            result.name: {
                "p_values": list(result.p_values),
                "passed": result.passed,
                "applicable": result.applicable,
            }
            for result in report.results
        },
    }


def multi_sequence_output(analysis: Any, reports: Any, base: dict[str, Any]) -> dict[str, Any]:
    """JSON for K > 1: per test, the uniformity P-value of each slot (STS's P-VALUE column)."""
    tests = {}
    for name in analysis.tests:
        slots = analysis.slots_of(name)
        entry = {
            "p_values": [slot.uniformity_p_value for slot in slots],
            "passed": analysis.test_passed(name),
            "applicable": any(slot.sample_size > 0 for slot in slots),
            "proportions": [slot.proportion for slot in slots],
            "sample_sizes": [slot.sample_size for slot in slots],
        }
        if any(slot.label for slot in slots):
            entry["labels"] = [slot.label for slot in slots]
        tests[name] = entry
    return {
        **base,
        "passed": analysis.passed,
        "tests": tests,
        "analysis": analysis.to_dict(),
        "sequences": [compact(report) for report in reports],
    }


def format_single(report: Any, source: str) -> str:
    mode = "corrected" if report.corrected else "sts-2.1.2"
    lines = [
        f"NIST SP800-22 on {source}: {report.n_bits} bits, alpha = {report.alpha}, {mode} arithmetic",
        f"{'test':<25} {'p-value':>10}  {'result':<6} detail",
    ]
    counts = {"pass": 0, "FAIL": 0, "n/a": 0}
    for result in report.results:
        if not result.applicable:
            verdict = "FAIL" if result.rejected else "n/a"
            lines.append(f"{result.name:<25} {'-':>10}  {verdict:<6} {result.reason}")
        else:
            verdict = "pass" if result.passed else "FAIL"
            detail = ""
            if len(result.p_values) > 1:
                detail = f"min of {len(result.p_values)}, {result.n_below_alpha} below alpha"
            lines.append(f"{result.name:<25} {min(result.p_values):>10.6f}  {verdict:<6} {detail}")
        counts[verdict] += 1
        for note in result.notes:
            lines.append(f"{'':<25} {'':>10}  {'':<6} note: {note}")
    lines.append(
        f"{len(report.results)} tests: {counts['pass']} passed, {counts['FAIL']} failed, {counts['n/a']} not applicable"
    )
    return "\n".join(lines)


def format_multi(analysis: Any, source: str, discarded: int) -> str:
    mode = "corrected" if analysis.corrected else "sts-2.1.2"
    lines = [
        f"NIST SP800-22 final analysis on {source}: {analysis.n_sequences} sequences of "
        f"{analysis.n_bits} bits, alpha = {analysis.alpha}, {mode} arithmetic"
        + (f" ({discarded} trailing bits unused)" if discarded else ""),
        " C1  C2  C3  C4  C5  C6  C7  C8  C9 C10  P-VALUE  PROPORTION  STATISTICAL TEST",
    ]
    for slot in analysis.slots:
        bins = " ".join(f"{count:3d}" for count in slot.bin_counts)
        if slot.uniformity_p_value is None:
            uniformity = "  ----  "
        else:
            uniformity = f"{slot.uniformity_p_value:8.6f}"
        uniformity += " *" if slot.uniformity_ok is False else "  "
        proportion = f"{slot.n_passed:4d}/{slot.sample_size:<4d}" if slot.sample_size else "  ------ "
        proportion += " *" if slot.proportion_ok is False else "  "
        label = f" {slot.label}" if slot.label else ""
        lines.append(f"{bins} {uniformity} {proportion}  {slot.test}{label}")
    failed = [name for name in analysis.tests if not analysis.test_passed(name)]
    lines.append("* marks a proportion outside p_hat +/- 3 sigma or a uniformity P-value below 0.0001")
    lines.append(f"{len(analysis.tests)} tests: " + ("all pass" if not failed else "rejected by " + ", ".join(failed)))
    return "\n".join(lines)
