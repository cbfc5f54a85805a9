"""``cim-emu nist FILE``: the NIST SP800-22 suite on a bit file."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from cim_emu.cli import CommandFailed
from cim_emu.cli._format import print_json

# SP800-22 recommends at least 100 bits for every test (sec. 2.1.7); below that the
# suite would have nothing meaningful to say.
MIN_BITS_PER_SEQUENCE = 100


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``nist`` subcommand."""
    parser = subparsers.add_parser(
        "nist",
        help="run the NIST SP800-22 randomness tests on a bit file",
        description=(
            "Run the 15 tests of NIST SP800-22 rev1a on a bit file, with the arithmetic of NIST's "
            "sts-2.1.2 (or --corrected). Exit code 0: no test rejects; 1: a test rejects; 2: bad input."
        ),
    )
    parser.add_argument("file", metavar="FILE", help="the bits: ASCII '0'/'1' (whitespace ignored) or raw bytes")
    parser.add_argument(
        "--format",
        choices=("ascii", "bytes"),
        default="ascii",
        help="ascii: '0'/'1' characters; bytes: raw bytes, most significant bit first (default: ascii)",
    )
    parser.add_argument(
        "--n-sequences",
        type=int,
        default=1,
        metavar="K",
        help="cut the stream into K equal sequences and add STS's final analysis (proportion, uniformity)",
    )
    parser.add_argument(
        "--corrected",
        action="store_true",
        help="use the corrected arithmetic where sts-2.1.2 departs from the document (docs/randomness.md)",
    )
    parser.add_argument("--alpha", type=float, default=0.01, help="significance level (default 0.01)")
    parser.add_argument(
        "--strict",
        action="store_true",
        help="report tests as not applicable below SP800-22's recommended input sizes",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    parser.add_argument("--plot", metavar="PNG", help="also write a summary figure (bit raster, autocorrelation, ...)")
    parser.set_defaults(func=run)


def _compact(report: Any) -> dict[str, Any]:
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


def _multi_sequence_output(analysis: Any, reports: Any, base: dict[str, Any]) -> dict[str, Any]:
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
        "sequences": [_compact(report) for report in reports],
    }


def _format_single(report: Any, source: str) -> str:
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


def _format_multi(analysis: Any, source: str, discarded: int) -> str:
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


def run(args: argparse.Namespace) -> int:
    """Read the file, run the suite, print the results, return the exit code."""
    from cim_emu.randomness import (
        SuiteConfig,
        analyse_sequences,
        plot_trng_summary,
        read_bits,
        run_suite,
        run_suite_many,
        split_sequences,
    )

    if args.n_sequences < 1:
        raise ValueError(f"--n-sequences must be >= 1, got {args.n_sequences}")
    if not 0.0 < args.alpha < 1.0:
        raise ValueError(f"--alpha must lie in (0, 1), got {args.alpha}")
    bits = read_bits(args.file, format=args.format)
    length = bits.shape[0] // args.n_sequences
    if length < MIN_BITS_PER_SEQUENCE:
        raise ValueError(
            f"{args.file}: {bits.shape[0]} bits make sequences of {length} bits; the suite needs at least "
            f"{MIN_BITS_PER_SEQUENCE} bits per sequence (SP800-22 sec. 2.1.7)"
        )
    sequences = split_sequences(bits, args.n_sequences)
    discarded = bits.shape[0] - sequences.size
    config = SuiteConfig(alpha=args.alpha, strict_input_sizes=args.strict)
    base = {"n_bits": length, "alpha": args.alpha, "corrected": args.corrected}
    if args.n_sequences == 1:
        report = run_suite(sequences[0], config=config, corrected=args.corrected)
        output = {**report.to_dict(), **base}
        passed, failed, table_source = report.passed, report.failed_tests, report
        text = _format_single(report, args.file)
    else:
        from tqdm import tqdm

        with tqdm(total=args.n_sequences, desc="sequences", unit="seq", disable=None, file=sys.stderr) as bar:
            reports = run_suite_many(
                sequences, config=config, corrected=args.corrected, on_sequence_done=lambda _: bar.update()
            )
        analysis = analyse_sequences(reports)
        output = _multi_sequence_output(analysis, reports, {**base, "n_sequences": args.n_sequences})
        output["discarded_bits"] = discarded
        passed = analysis.passed
        failed = tuple(name for name in analysis.tests if not analysis.test_passed(name))
        table_source = analysis
        text = _format_multi(analysis, args.file, discarded)
    if args.plot:
        plot_trng_summary(sequences, args.plot, p_values=table_source, alpha=args.alpha)
    if args.json:
        print_json(output)
    else:
        print(text)
    if not passed:
        raise CommandFailed(f"{args.file} is rejected by: {', '.join(failed)}")
    return 0
