"""``cim-emu trng``: simulate p-bit bitstreams from the device layer and (``--test``) judge them.

One stream per simulated p-bit, each with its own device variation; every device draws from its own random
stream split from the seed, so adding devices never changes the streams of the first ones.
"""

from __future__ import annotations

import argparse
import sys

from cim_emu.cli import CommandFailed

# The paper's Table I (measured stream), for side-by-side display.
PAPER_TABLE_I = {"Frequency": 0.810, "BlockFrequency": 0.921, "CumulativeSums": 0.991, "Runs": 0.831,
                 "LongestRun": 0.202, "RandomExcursions": 0.815, "FFT": 0.897, "Serial": 0.975,
                 "ApproximateEntropy": 0.970}
PAPER_SHANNON_ENTROPY = 0.999986


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "trng", help="simulate p-bit bitstreams and run the randomness tests on them",
        description="Simulate p-bit bitstreams (per-device variation included) in reset-then-write or toggle mode, "
                    "write them one stream per line, and with --test run NIST SP800-22 and the TRNG quality "
                    "metrics (autocorrelation, Hamming distance, entropy) as in the paper's Figs. 14-18, Table I.")
    parser.add_argument("--device", default="default", metavar="CARD",
                        help="device card JSON, or 'default' for the shipped card")
    parser.add_argument("--n-bits", type=int, required=True, metavar="N", help="bits per device")
    parser.add_argument("--mode", choices=("reset", "toggle"), default="reset", help="write mode")
    parser.add_argument("--devices", type=int, default=1, metavar="K", help="number of simulated p-bits")
    parser.add_argument("--out", required=True, metavar="FILE", help="ASCII bit file to write (one device a line)")
    parser.add_argument("--test", action="store_true", help="run the NIST suite and quality metrics")
    parser.add_argument("--untrimmed", action="store_true",
                        help="pulse every device at the card's voltage instead of trimming each to its 50 %% point")
    parser.add_argument("--voltage", type=float, default=None, help="pulse amplitude (V) for --untrimmed")
    parser.add_argument("--pulse-width", type=float, default=None, help="pulse width (s); default: the card's")
    parser.add_argument("--seed", type=int, default=0, help="root seed")
    parser.add_argument("--corrected", action="store_true", help="corrected NIST arithmetic (docs/randomness.md)")
    parser.add_argument("--plot", metavar="PNG", help="summary figure (Figs. 14-18 analogue); needs --test")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--torch-device", default="cpu", help="torch device for the simulation (cpu, cuda)")
    parser.set_defaults(func=run)


def simulate(card, *, n_bits: int, n_devices: int, seed: int, mode: str = "reset", voltage_V: float | None = None,
             pulse_width_s: float | None = None, trimmed: bool = True, keep_conductance: bool = False,
             torch_device: str = "cpu", on_device_done=None) -> tuple:
    """Per-device streams (uint8 array (K, N)), their switching probabilities, read conductances (if kept)
    and the number of read errors. Device k draws from stream k of ``SeedSequence(seed)`` (also the demo's)."""
    import numpy as np
    import torch

    import devices

    seeds = np.random.SeedSequence(seed).spawn(n_devices)
    bits = np.empty((n_devices, n_bits), dtype=np.uint8)
    conductances = np.empty((n_devices, n_bits), dtype=np.float32) if keep_conductance else None
    probabilities, read_errors = [], 0
    for index, device_seed in enumerate(seeds):
        generator = torch.Generator(device=torch_device).manual_seed(int(device_seed.generate_state(1)[0]))
        result = devices.generate_bitstream(
            card, n_bits, mode=devices.WriteMode(mode), generator=generator, voltage_V=voltage_V,
            pulse_width_s=pulse_width_s, trim_to_half=trimmed, with_conductance=keep_conductance)
        bits[index] = result.bits[0].cpu().numpy()
        if conductances is not None:
            conductances[index] = result.conductances_S[0].cpu().numpy()
        probabilities.append(float(result.probabilities[0]))
        read_errors += result.read_errors
        if on_device_done is not None:
            on_device_done()
    return bits, probabilities, conductances, read_errors


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    import devices
    from cim_emu.cli._format import print_json
    from cim_emu.cli.cmd_nist import _compact, _format_multi, _format_single, _multi_sequence_output
    from cim_emu.randomness import analyse_sequences, assess_quality, plot_trng_summary, run_suite_many

    if args.n_bits < 1 or args.devices < 1:
        raise ValueError(f"--n-bits and --devices must be >= 1, got {args.n_bits} and {args.devices}")
    if args.voltage is not None and not args.untrimmed:
        raise ValueError("--voltage sets an untrimmed operating point: add --untrimmed")
    if args.plot and not args.test:
        raise ValueError("--plot draws the test results: add --test")
    card = devices.default_card() if args.device == "default" else devices.load_card(args.device)
    with tqdm(total=args.devices, desc="simulating p-bits", unit="device", disable=None, file=sys.stderr) as bar:
        bits, probabilities, conductances, read_errors = simulate(
            card, n_bits=args.n_bits, n_devices=args.devices, seed=args.seed, mode=args.mode, voltage_V=args.voltage,
            pulse_width_s=args.pulse_width, trimmed=not args.untrimmed,
            keep_conductance=args.plot is not None and args.n_bits * args.devices <= 20_000_000,
            torch_device=args.torch_device, on_device_done=bar.update)
    with devices.atomic_write(args.out, "wb") as handle:
        for row in bits:
            handle.write((row + ord("0")).tobytes() + b"\n")
    output = {"n_bits": args.n_bits, "n_devices": args.devices, "mode": args.mode, "card": card.name,
              "trimmed": not args.untrimmed, "switching_probabilities": probabilities, "read_errors": read_errors,
              "out": args.out}
    text = [f"wrote {args.devices} x {args.n_bits} bits ({args.mode} mode, "
            f"{'trimmed to 50 %' if not args.untrimmed else 'untrimmed'}) to {args.out}; "
            f"P per device {min(probabilities):.4f}..{max(probabilities):.4f}, {read_errors} read errors"]
    passed = True
    if args.test:
        quality = assess_quality(bits)
        output["quality"] = quality.to_dict()
        with tqdm(total=args.devices, desc="NIST SP800-22", unit="stream", disable=None, file=sys.stderr) as bar:
            reports = run_suite_many(bits, corrected=args.corrected, on_sequence_done=lambda _: bar.update())
        if args.devices == 1:
            report = reports[0]
            output["nist"] = _compact(report)
            text.append(_format_single(report, "the simulated stream"))
            passed, failed, table_source = report.passed, report.failed_tests, report
        else:
            analysis = analyse_sequences(reports)
            output["nist"] = _multi_sequence_output(analysis, reports, {"n_bits": args.n_bits})
            text.append(_format_multi(analysis, f"{args.devices} simulated p-bits", 0))
            passed = analysis.passed
            failed = tuple(name for name in analysis.tests if not analysis.test_passed(name))
            table_source = analysis
        text.append(
            f"quality: ones fraction {min(quality.ones_fraction):.4f}..{max(quality.ones_fraction):.4f}, "
            f"Shannon entropy per bit {min(quality.shannon_entropy_per_bit):.6f} (paper {PAPER_SHANNON_ENTROPY} on "
            f"4096 bits), {quality.entropy_block_bits}-bit block entropy {min(quality.block_entropy_per_bit):.4f}, "
            f"min-entropy (MCV) {min(quality.min_entropy_per_bit):.4f}, autocorrelation outside the 95 % band at "
            f"{quality.lags_outside_bound:.1%} of lags"
            + (f", Hamming distance {quality.hamming_distance_mean:.4f} +- {quality.hamming_distance_std:.4f}"
               if quality.hamming_distance_mean is not None else ""))
        text.append("paper's Table I p-values (their measured stream): "
                    + ", ".join(f"{name} {value}" for name, value in PAPER_TABLE_I.items()))
        if args.plot:
            plot_trng_summary(bits, args.plot, conductances_S=conductances, p_values=table_source,
                              title=f"{args.devices} simulated p-bit(s), {args.mode} mode")
            text.append(f"wrote {args.plot}")
        output["passed"] = passed
    if args.json:
        print_json(output)
    else:
        print("\n".join(text))
    if not passed:
        raise CommandFailed(f"the simulated streams are rejected by: {', '.join(failed)}")
    return 0
