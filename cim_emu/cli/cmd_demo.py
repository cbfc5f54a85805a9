"""``cim-emu demo``: the main job on the embedded defaults, gathered into one report folder.

Stages run in order; each adds text, tables and figures to the report. The report is built in a staging
directory and moved into place only when every stage succeeded.
"""

from __future__ import annotations

import argparse
import time


def register(subparsers) -> None:
    parser = subparsers.add_parser("demo", help="run the main job on the shipped defaults and write a report",
                                   description="Device summary and calibration fit, a p-bit bitstream through "
                                               "the NIST suite, the Fig. 22 regression, in-situ vs ex-situ "
                                               "generation and the benchmark, as an HTML report.")
    parser.add_argument("--out", default="cim-emu-report", help="report directory (default: cim-emu-report)")
    parser.add_argument("--seed", type=int, default=0, help="root seed of every random stream")
    parser.add_argument("--stages", default=None,
                        help="comma-separated subset of stages to run (default: all); see the list in --help")
    parser.set_defaults(func=run)


def _device_stage(report, args) -> None:
    import calibration_data
    import devices
    from cim_emu.cli._format import si
    from devices.fit import fit_directory
    from devices.fit.plots import plot_calibration

    fit = fit_directory(calibration_data.data_dir(), source="calibration_data (shipped)")
    summary = devices.summarize(fit.card)
    report.section("1. Device model fitted to the shipped calibration data",
                   "Maximum-likelihood fit of the compact VCMA-MTJ model to the shipped (synthetic) calibration "
                   "CSVs; the paper's reference values are in the last column.")
    paper = {"tmr_at_read": "65 % at 200 mV", "tmr_low_bias": "> 100 %", "v50_V": "1.5 V",
             "window_10_90_V": "~1 V", "first_peak_s": "700 ps", "pair_margin_sigma": "~6 sigma",
             "endurance_cycles": ">= 1e12"}
    rows = []
    for key, label in paper.items():
        value = getattr(summary, key)
        shown = (f"{value:.1%}" if key.startswith("tmr") else f"{value:.2f} sigma" if key == "pair_margin_sigma"
                 else si(value, key.rsplit("_", 1)[-1] if key.endswith(("_V", "_s")) else ""))
        rows.append([key, shown, label])
    report.table(["figure", "emulator", "paper"], rows)
    rows = [[name, f"{e.value:.5g}", f"{e.standard_error:.3g}"] for name, e in fit.estimates.items()]
    report.table(["fitted parameter", "value (SI)", "standard error"], rows)
    for path in plot_calibration(fit, report.directory / "device"):
        report.figure(path, path.stem.replace("_", " "))
    print(f"  device: TMR {summary.tmr_at_read:.1%}, v50 {summary.v50_V:.3f} V, window "
          f"{summary.window_10_90_V:.2f} V, first peak {summary.first_peak_s * 1e12:.0f} ps, "
          f"pair margin {summary.pair_margin_sigma:.1f} sigma")


STAGES = {"device": ("device model and calibration fit", _device_stage)}


def run(args: argparse.Namespace) -> int:
    from cim_emu.cli._report import Report

    chosen = list(STAGES) if args.stages is None else [s.strip() for s in args.stages.split(",") if s.strip()]
    unknown = [s for s in chosen if s not in STAGES]
    if unknown or not chosen:
        raise ValueError(f"--stages: unknown stage(s) {unknown}; choose from {', '.join(STAGES)}")
    report = Report(args.out, "cim-emu demo report")
    started = time.perf_counter()
    try:
        for number, key in enumerate(chosen, start=1):
            name, stage = STAGES[key]
            stage_start = time.perf_counter()
            print(f"[{number}/{len(chosen)}] {name}")
            stage(report, args)
            print(f"  done in {time.perf_counter() - stage_start:.1f} s")
        index = report.publish()
    except BaseException:
        report.discard()
        raise
    print(f"report: {index} ({time.perf_counter() - started:.0f} s)")
    return 0
