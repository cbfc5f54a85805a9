"""``cim-emu trng``: simulate p-bit bitstreams from the device layer and (``--test``) judge them.

The simulation is :func:`cim_emu.experiments.trng.simulate_trng`; this module parses, checks the outputs,
shows progress and prints.
"""

from __future__ import annotations

import argparse
import sys

from cim_emu.cli import CommandFailed
from cim_emu.cli._args import integer, number

# The paper's Table I (measured stream), for side-by-side display.
PAPER_TABLE_I = {"Frequency": 0.810, "BlockFrequency": 0.921, "CumulativeSums": 0.991, "Runs": 0.831,
                 "LongestRun": 0.202, "RandomExcursions": 0.815, "FFT": 0.897, "Serial": 0.975,
                 "ApproximateEntropy": 0.970}
PAPER_SHANNON_ENTROPY = 0.999986

#: Default limit of --devices x --n-bits (one byte per bit in memory, more under --test).
MAX_BITS = 1 << 28


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "trng", help="simulate p-bit bitstreams and run the randomness tests on them",
        description="Simulate p-bit bitstreams (per-device variation included) in reset-then-write or toggle mode, "
                    "write them one stream per line, and with --test run NIST SP800-22 and the TRNG quality "
                    "metrics (autocorrelation, Hamming distance, entropy) as in the paper's Figs. 14-18, Table I.")
    parser.add_argument("--device", default="default", metavar="CARD",
                        help="device card JSON, or 'default' for the shipped card")
    parser.add_argument("--n-bits", type=integer(minimum=1), required=True, metavar="N", help="bits per device")
    parser.add_argument("--mode", choices=("reset", "toggle"), default="reset", help="write mode")
    parser.add_argument("--devices", type=integer(minimum=1), default=1, metavar="K", help="number of simulated p-bits")
    parser.add_argument("--max-bits", type=integer(minimum=1), default=MAX_BITS, metavar="N",
                        help=f"refuse runs of more than N bits in all (--devices x --n-bits; default {MAX_BITS})")
    parser.add_argument("--out", required=True, metavar="FILE", help="ASCII bit file to write (one device a line)")
    parser.add_argument("--test", action="store_true", help="run the NIST suite and quality metrics")
    parser.add_argument("--untrimmed", action="store_true",
                        help="pulse every device at the card's voltage instead of trimming each to its 50 %% point")
    parser.add_argument("--voltage", type=number(minimum=0.0, maximum=100.0, strict=True, what="a voltage (V)"),
                        default=None, help="pulse amplitude (V) for --untrimmed")
    parser.add_argument("--pulse-width", type=number(minimum=0.0, maximum=1e-6, strict=True, what="a width (s)"),
                        default=None, help="pulse width (s); default: the card's")
    parser.add_argument("--seed", type=integer(minimum=0), default=0, help="root seed")
    parser.add_argument("--corrected", action="store_true", help="corrected NIST arithmetic (docs/randomness.md)")
    parser.add_argument("--plot", metavar="PNG", help="summary figure (Figs. 14-18 analogue); needs --test")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--torch-device", default="cpu", help="torch device for the simulation (cpu, cuda)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    import devices
    from cim_emu.cli._args import require_size, torch_device
    from cim_emu.cli._format import print_json
    from cim_emu.cli._nist import (
        MIN_BITS_PER_SEQUENCE,
        compact,
        format_multi,
        format_single,
        multi_sequence_output,
    )
    from cim_emu.cli._outputs import Staging, check_file
    from cim_emu.experiments.trng import simulate_trng
    from cim_emu.randomness import analyse_sequences, assess_quality, plot_trng_summary, run_suite_many

    if args.voltage is not None and not args.untrimmed:
        raise ValueError("--voltage sets an untrimmed operating point: add --untrimmed")
    if args.plot and not args.test:
        raise ValueError("--plot draws the test results: add --test")
    if args.test and args.n_bits < MIN_BITS_PER_SEQUENCE:
        raise ValueError(f"--n-bits {args.n_bits}: --test needs at least {MIN_BITS_PER_SEQUENCE} bits per stream "
                         "(SP800-22 sec. 2.1.7), as cim-emu nist does")
    require_size(args.n_bits * args.devices, args.max_bits, what="--devices x --n-bits", flag="--max-bits")
    device = torch_device(args.torch_device, "--torch-device")
    check_file(args.out, "--out")
    if args.plot:
        check_file(args.plot, "--plot")
    card = devices.default_card() if args.device == "default" else devices.load_card(args.device)
    with tqdm(total=args.devices, desc="simulating p-bits", unit="device", disable=None, file=sys.stderr) as bar:
        simulation = simulate_trng(
            card, n_bits=args.n_bits, n_devices=args.devices, seed=args.seed, mode=args.mode, voltage_V=args.voltage,
            pulse_width_s=args.pulse_width, trimmed=not args.untrimmed,
            keep_conductance=args.plot is not None and args.n_bits * args.devices <= 20_000_000,
            torch_device=str(device), on_device_done=bar.update)
    bits, probabilities, read_errors = simulation.bits, simulation.probabilities, simulation.read_errors
    output = {"n_bits": args.n_bits, "n_devices": args.devices, "mode": args.mode, "card": card.name,
              "trimmed": not args.untrimmed, "switching_probabilities": probabilities, "read_errors": read_errors,
              "out": args.out}
    text = [f"wrote {args.devices} x {args.n_bits} bits ({args.mode} mode, "
            f"{'trimmed to 50 %' if not args.untrimmed else 'untrimmed'}) to {args.out}; "
            f"P per device {min(probabilities):.4f}..{max(probabilities):.4f}, {read_errors} read errors"]
    passed = True
    with Staging(args.out) as staging:
        with devices.atomic_write(staging.path("bits.txt"), "wb") as handle:
            for row in bits:
                handle.write((row + ord("0")).tobytes() + b"\n")
        if args.test:
            quality = assess_quality(bits)
            output["quality"] = quality.to_dict()
            with tqdm(total=args.devices, desc="NIST SP800-22", unit="stream", disable=None, file=sys.stderr) as bar:
                reports = run_suite_many(bits, corrected=args.corrected, on_sequence_done=lambda _: bar.update())
            if args.devices == 1:
                report = reports[0]
                output["nist"] = compact(report)
                text.append(format_single(report, "the simulated stream"))
                passed, failed, table_source = report.passed, report.failed_tests, report
            else:
                analysis = analyse_sequences(reports)
                output["nist"] = multi_sequence_output(analysis, reports, {"n_bits": args.n_bits})
                text.append(format_multi(analysis, f"{args.devices} simulated p-bits", 0))
                passed = analysis.passed
                failed = tuple(name for name in analysis.tests if not analysis.test_passed(name))
                table_source = analysis
            text.append(
                f"quality: ones fraction {min(quality.ones_fraction):.4f}..{max(quality.ones_fraction):.4f}, "
                f"Shannon entropy per bit {min(quality.shannon_entropy_per_bit):.6f} (paper {PAPER_SHANNON_ENTROPY} "
                f"on 4096 bits), {quality.entropy_block_bits}-bit block entropy "
                f"{min(quality.block_entropy_per_bit):.4f}, min-entropy (MCV) {min(quality.min_entropy_per_bit):.4f}, "
                f"autocorrelation outside the 95 % band at {quality.lags_outside_bound:.1%} of lags"
                + (f", Hamming distance {quality.hamming_distance_mean:.4f} +- {quality.hamming_distance_std:.4f}"
                   if quality.hamming_distance_mean is not None else ""))
            text.append("paper's Table I p-values (their measured stream): "
                        + ", ".join(f"{name} {value}" for name, value in PAPER_TABLE_I.items()))
            if args.plot:
                plot_trng_summary(bits, staging.path("plot.png"), conductances_S=simulation.conductances_S,
                                  p_values=table_source, title=f"{args.devices} simulated p-bit(s), {args.mode} mode")
                text.append(f"wrote {args.plot}")
            output["passed"] = passed
        if args.plot:
            staging.publish_file("plot.png", args.plot)
        staging.publish_file("bits.txt", args.out)
    if args.json:
        print_json(output)
    else:
        print("\n".join(text))
    if not passed:
        raise CommandFailed(f"the simulated streams are rejected by: {', '.join(failed)}")
    return 0
