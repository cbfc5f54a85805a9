"""``cim-emu fit DIR --out device.json [--plots DIR] [--pulse-width S]``: fit the device model to calibration
files."""

from __future__ import annotations

import argparse

from cim_emu.cli._args import number


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "fit", help="fit the device model to calibration CSVs and write a device card",
        description="Maximum-likelihood fits of the device model to any subset of switching.csv, resistance.csv, "
                    "tmr_bias.csv, pair_conductance.csv and bitstream.txt in DIR (default: the shipped data). The "
                    "operating pulse is set from the data: the width of the voltage sweep (else the first "
                    "precessional peak), at the median device's 50 %% voltage. Parameters the data cannot "
                    "constrain keep the --base card's values and are listed as unconstrained.")
    parser.add_argument("directory", nargs="?", default=None, help="directory of calibration files")
    parser.add_argument("--out", required=True, help="device card JSON to write")
    parser.add_argument("--plots", default=None, help="directory for data-vs-fit PNG figures")
    parser.add_argument("--base", default=None, help="card supplying fields the data cannot fit (default card)")
    parser.add_argument("--name", default=None, help="name of the fitted card")
    parser.add_argument("--pulse-width", type=number(minimum=0.0, maximum=1e-6, strict=True, what="a width (s)"),
                        default=None, metavar="S",
                        help="operating pulse width (s) instead of the one chosen from the data; the write voltage "
                             "is the median device's 50 %% point at this width")
    parser.add_argument("--json", action="store_true", help="print the full fit report as JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import pathlib

    import devices
    from cim_emu.cli._format import print_json, si, table
    from cim_emu.cli._outputs import Staging, check_directory, check_file
    from devices.fit import fit_directory

    check_file(args.out, "--out")
    if args.plots:
        check_directory(args.plots, "--plots")
    if args.directory is None:
        import calibration_data

        directory, source = calibration_data.data_dir(), "calibration_data (shipped with cim-emu)"
        name = args.name or "fit of the shipped calibration_data"
    else:
        directory, name = pathlib.Path(args.directory), args.name
        if not directory.is_dir():
            raise ValueError(f"{directory}: not a directory of calibration files")
        source = str(directory.resolve())
    base = devices.load_card(args.base) if args.base else None
    fit = fit_directory(directory, base=base, name=name, source=source, pulse_width_s=args.pulse_width)
    with Staging(args.out) as staging:
        figures = []
        if args.plots:
            from devices.fit.plots import plot_calibration

            staged = plot_calibration(fit, staging.path("plots"))
            figures = [pathlib.Path(args.plots) / path.name for path in staged]
        devices.save_card(fit.card, staging.path("card.json"))
        if args.plots:
            staging.publish_directory("plots", args.plots)
        staging.publish_file("card.json", args.out)
    if args.json:
        report = fit.to_dict()
        report["summary"] = devices.summarize(fit.card).to_dict()
        report["figures"] = [str(path) for path in figures]
        print_json(report)
        return 0
    rows = []
    for parameter, estimate in fit.estimates.items():
        low, high = estimate.three_sigma_interval
        rows.append([parameter, si(estimate.value, estimate.unit), si(estimate.standard_error, estimate.unit),
                     f"[{si(low, estimate.unit)}, {si(high, estimate.unit)}]"])
    print(f"fitted {', '.join(sorted(fit.fits))} from {directory}")
    print(table(rows, ["parameter", "value", "std. error", "99.73 % interval"]))
    for file_name, file_fit in fit.fits.items():
        goodness = ", ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}"
                             for k, v in _flatten(file_fit.goodness).items())
        print(f"goodness of fit, {file_name}: {goodness}")
    for check, value in fit.card.provenance["consistency"].items():
        print(f"check {check}: {value:.4g}" if isinstance(value, float) else f"check {check}: {value}")
    operating = fit.operating_point
    print(f"operating point: {operating['write_voltage_V']:.4g} V, {si(operating['pulse_width_s'], 's')} "
          f"({operating['rule']})")
    if fit.unconstrained:
        print(f"unconstrained by the data (values of the prior, card {fit.card.provenance['prior']['card']!r}): "
              + ", ".join(fit.unconstrained))
    summary = devices.summarize(fit.card)
    print(f"derived: TMR {summary.tmr_at_read:.1%} at {summary.read_voltage_V} V, v50 {summary.v50_V:.3f} V, "
          f"window {summary.window_10_90_V:.3f} V, first peak {si(summary.first_peak_s, 's')}, "
          f"pair margin {summary.pair_margin_sigma:.2f} sigma")
    for path in figures:
        print(f"wrote {path}")
    print(f"wrote {args.out}")
    return 0


def _flatten(mapping: dict, prefix: str = "") -> dict:
    flat = {}
    for key, value in mapping.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat
