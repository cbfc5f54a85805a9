"""``cim-emu nist FILE``: the NIST SP800-22 suite on a bit file."""

from __future__ import annotations

import argparse
import sys

from cim_emu.cli import CommandFailed
from cim_emu.cli._format import print_json
from cim_emu.cli._nist import MIN_BITS_PER_SEQUENCE, format_multi, format_single, multi_sequence_output


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
    if args.plot:
        from cim_emu.cli._outputs import check_file

        check_file(args.plot, "--plot")
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
        text = format_single(report, args.file)
    else:
        from tqdm import tqdm

        with tqdm(total=args.n_sequences, desc="sequences", unit="seq", disable=None, file=sys.stderr) as bar:
            reports = run_suite_many(
                sequences, config=config, corrected=args.corrected, on_sequence_done=lambda _: bar.update()
            )
        analysis = analyse_sequences(reports)
        output = multi_sequence_output(analysis, reports, {**base, "n_sequences": args.n_sequences})
        output["discarded_bits"] = discarded
        passed = analysis.passed
        failed = tuple(name for name in analysis.tests if not analysis.test_passed(name))
        table_source = analysis
        text = format_multi(analysis, args.file, discarded)
    if args.plot:
        plot_trng_summary(sequences, args.plot, p_values=table_source, alpha=args.alpha)
    if args.json:
        print_json(output)
    else:
        print(text)
    if not passed:
        raise CommandFailed(f"{args.file} is rejected by: {', '.join(failed)}")
    return 0
