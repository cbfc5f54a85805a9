"""``cim-emu fit DIR --out device.json [--plots DIR]``: fit the device model to calibration files."""

from __future__ import annotations

import argparse


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "fit", help="fit the device model to calibration CSVs and write a device card",
        description="Maximum-likelihood fits of the device model to any subset of switching.csv, resistance.csv, "
                    "tmr_bias.csv, pair_conductance.csv and bitstream.txt in DIR (default: the shipped data).")
    parser.add_argument("directory", nargs="?", default=None, help="directory of calibration files")
    parser.add_argument("--out", required=True, help="device card JSON to write")
    parser.add_argument("--plots", default=None, help="directory for data-vs-fit PNG figures")
    parser.add_argument("--base", default=None, help="card supplying fields the data cannot fit (default card)")
    parser.add_argument("--name", default=None, help="name of the fitted card")
    parser.add_argument("--json", action="store_true", help="print the full fit report as JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import devices
    from cim_emu.cli._format import print_json, si, table
    from devices.fit import fit_directory

    if args.directory is None:
        import calibration_data

        directory, source = calibration_data.data_dir(), "calibration_data (shipped with cim-emu)"
        name = args.name or "fit of the shipped calibration_data"
    else:
        import pathlib

        directory, name = pathlib.Path(args.directory), args.name
        source = str(directory.resolve())
        if not directory.is_dir():
            raise ValueError(f"{directory}: not a directory of calibration files")
    base = devices.load_card(args.base) if args.base else None
    fit = fit_directory(directory, base=base, name=name, source=source)
    figures = []
    if args.plots:
        from devices.fit.plots import plot_calibration

        figures = plot_calibration(fit, args.plots)
    devices.save_card(fit.card, args.out)
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
