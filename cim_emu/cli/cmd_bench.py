"""``cim-emu bench``: in-situ vs ex-situ p-bit generation (Table II), p-DNN energy, end to end."""

from __future__ import annotations

import argparse
import os

_DESCRIPTION = """\
Evaluate the circuit-level energy model: throughput, energy per bit and added area of in-situ p-bits
and of each ex-situ design, compared with the paper's Table II; the p-DNN energy framework; and,
with --counts, energy, latency and random bits per generated image from a `cim-emu generate` run.
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``bench`` subcommand."""
    parser = subparsers.add_parser(
        "bench",
        help="energy model: in-situ vs ex-situ p-bits (Table II), p-DNN, end to end",
        description=_DESCRIPTION,
    )
    parser.add_argument("--config", metavar="FILE", help="JSON overrides of the circuit configuration")
    parser.add_argument(
        "--card",
        metavar="FILE",
        help="take the junction and p-bit operating point from a device card JSON ('default': the shipped card)",
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON on stdout")
    parser.add_argument("--plot", metavar="DIR", help="write sweep and Table II figures (PNG) to DIR")
    parser.add_argument(
        "--counts", metavar="FILE", help="op_counts.json of a `cim-emu generate` run (fills end_to_end)"
    )
    parser.add_argument("--dump-config", metavar="FILE", help="write the full configuration used to FILE")
    parser.add_argument(
        "--check", action="store_true", help="exit 1 unless every Table II number is reproduced within 2 %%"
    )
    parser.set_defaults(func=run)


def _format_number(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.4g}"


def _format_error(error: float | None) -> str:
    return "" if error is None else f" ({100 * error:+.2f} %)"


def _print_text(report: dict, plots: list[str]) -> None:
    rows = {row["scheme"]: row for row in report["table2"]["rows"]}
    print("p-bit generation, model vs paper Table II (relative error)")
    header = f"{'scheme':<22}{'throughput bit/ns':>30}{'energy pJ/bit':>32}{'added area um^2':>28}  limited by"
    print(header)
    for entry in [report["in_situ"], *report["ex_situ"]]:
        row = rows.get(entry["name"])
        cells = []
        for quantity in ("throughput_bit_per_ns", "energy_pJ_per_bit", "area_um2"):
            text = _format_number(entry[quantity])
            if row is not None:
                text += f" / {_format_number(row['paper'][quantity])}{_format_error(row['relative_error'][quantity])}"
            cells.append(text)
        print(f"{entry['name']:<22}{cells[0]:>30}{cells[1]:>32}{cells[2]:>28}  {entry['limited_by']}")
    ratios = report["ratios"]
    print(
        f"ratios vs {ratios['reference_design']}: throughput {ratios['throughput']:.3f}x "
        f"(paper {ratios['paper']['throughput']}x), efficiency {ratios['efficiency']:.3f}x "
        f"(paper {ratios['paper']['efficiency']}x)"
    )
    table2 = report["table2"]
    verdict = "within" if table2["within_tolerance"] else "NOT within"
    print(f"largest relative error {100 * table2['max_abs_relative_error']:.3f} % ({verdict} 2 %)")
    ranges = report["literature"]["in_situ_vs_all"]
    print(
        f"in situ vs all other Table II rows: {ranges['min_throughput_gain']:.3g}-{ranges['max_throughput_gain']:.3g}x "
        f"throughput, {ranges['min_efficiency_gain']:.3g}-{ranges['max_efficiency_gain']:.3g}x efficiency"
    )
    pdnn = report["pdnn"]
    fpga = pdnn["fpga"]
    print(
        f"p-DNN (VGG5, Table 1): 32-bit DNN {pdnn['vgg5_deterministic']['total_J'] * 1e6:.1f} uJ; p-DNN "
        + ", ".join(
            f"T={t}: {e['total_J'] * 1e6:.1f} uJ ({g:.2f}x)"
            for t, e, g in zip(pdnn["samples"], pdnn["vgg5_pbit"], pdnn["vgg5_gain"], strict=True)
        )
        + f"; break-even T = {pdnn['break_even_samples']:.1f}"
    )
    print(
        f"p-DNN FPGA: measured gain {fpga['measured_gain']:.3f}x (printed {fpga['printed_gain']}x); "
        f"framework prediction {fpga['predicted_gain']:.2f}x (printed {fpga['printed_predicted_gain']}x)"
    )
    end_to_end = report["end_to_end"]
    if end_to_end["available"]:
        in_situ, ex_situ = end_to_end["in_situ"], end_to_end["ex_situ"]
        print(f"end to end per image ({end_to_end['n_images']} images, ex situ = {end_to_end['ex_situ_design']}):")
        for name, scheme in (("in situ", in_situ), ("ex situ", ex_situ)):
            print(
                f"  {name:<8} {scheme['energy_per_image_J']:.4g} J, {scheme['latency_per_image_s']:.4g} s, "
                f"{scheme['random_bits_per_image']:.4g} random bits"
            )
        print(
            f"  ex/in: energy {end_to_end['energy_ratio']:.3g}x, latency {end_to_end['latency_ratio']:.3g}x, "
            f"random bits {end_to_end['random_bits_ratio']:.3g}x"
        )
    else:
        print(f"end to end: {end_to_end['note']}")
    for path in plots:
        print(f"wrote {path}")


def run(args: argparse.Namespace) -> int:
    """Build the configuration, evaluate the model, print or write the results."""
    from cim_emu.cli import CommandFailed
    from cim_emu.cli._artefacts import write_energy_plots
    from cim_emu.cli._format import print_json
    from cim_emu.cli._outputs import check_directory, check_file
    from cim_emu.energy import (
        EnergyConfig,
        end_to_end_report,
        load_energy_config,
        load_op_counts_file,
        save_energy_config,
    )
    from cim_emu.energy.report import bench_report

    if args.plot:
        check_directory(args.plot, "--plot")
    if args.dump_config:
        check_file(args.dump_config, "--dump-config")
    config = load_energy_config(args.config) if args.config else EnergyConfig()
    if args.card:
        from devices import default_card, load_card

        card = default_card() if args.card == "default" else load_card(args.card)
        config = EnergyConfig.from_card(card, base=config)
    end_to_end = None
    if args.counts:
        counts_in_situ, counts_ex_situ, n_images = load_op_counts_file(args.counts)
        end_to_end = end_to_end_report(counts_in_situ, counts_ex_situ, n_images, config)
    report = bench_report(config, end_to_end=end_to_end)
    report["config"] = args.config or "default"
    report["card"] = args.card or "calibration ground truth (built-in defaults)"

    plots: list[str] = []
    if args.plot:
        from cim_emu.cli._outputs import Staging

        with Staging(args.plot) as staging:  # every figure or none
            staged = write_energy_plots(config, staging.path("plots"))
            staging.publish_directory("plots", args.plot)
        plots = [os.path.join(args.plot, os.path.basename(path)) for _, path in staged]
        report["plots"] = plots
    if args.dump_config:
        save_energy_config(config, args.dump_config)

    if args.json:
        # JSON has no inf/nan: print_json writes a ratio against a zero cost as null.
        print_json(report)
    else:
        _print_text(report, plots)
    if args.check and not report["table2"]["within_tolerance"]:
        raise CommandFailed(
            f"Table II not reproduced within 2 % (largest error "
            f"{100 * report['table2']['max_abs_relative_error']:.2f} %)"
        )
    return 0
