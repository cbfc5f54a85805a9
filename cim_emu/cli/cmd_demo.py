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


def _trng_stage(report, args) -> None:
    import numpy as np
    import torch

    import calibration_data
    import devices
    from cim_emu.randomness import analyse_sequences, assess_quality, plot_trng_summary, run_suite, run_suite_many

    card = devices.default_card()
    report.section("2. P-bit TRNG quality and NIST SP800-22 (paper Figs. 14-18, Table I)",
                   "Four simulated p-bits of the default card, reset-then-write mode, each pulse trimmed to the "
                   "device's own 50 % point, 2^20 bits each; and the shipped bitstream.txt (the calibration "
                   "stand-in of the measured stream).")
    seeds = np.random.SeedSequence(args.seed).spawn(4)
    streams = np.stack([devices.generate_bitstream(
        card, 1 << 20, generator=torch.Generator().manual_seed(int(s.generate_state(1)[0])), trim_to_half=True,
    ).bits[0].numpy() for s in seeds])
    analysis = analyse_sequences(run_suite_many(streams))
    quality = assess_quality(streams)
    shipped = np.asarray(devices.read_bitstream(calibration_data.data_dir() / "bitstream.txt"))
    shipped_report = run_suite(shipped)
    rows = []
    for result in shipped_report.results:
        simulated = "pass" if analysis.test_passed(result.name) else "FAIL"
        shown = f"{min(result.p_values):.4f}" if result.applicable else "n/a"
        rows.append([result.name, shown, "pass" if result.passed else "FAIL", simulated])
    report.table(["test", "p-value, shipped stream", "verdict", "4 simulated p-bits (final analysis)"], rows)
    report.text(f"Quality of the simulated streams: Shannon entropy per bit "
                f"{min(quality.shannon_entropy_per_bit):.6f} (paper 0.999986 on 4096 bits), min-entropy (MCV) "
                f"{min(quality.min_entropy_per_bit):.4f}, inter-sample Hamming distance "
                f"{quality.hamming_distance_mean:.4f} (paper ~0.5).")
    (report.directory / "trng").mkdir()
    path = plot_trng_summary(streams, report.directory / "trng" / "trng_summary.png", p_values=analysis,
                             title="4 simulated p-bits, reset mode, trimmed to 50 %")
    report.figure(path, "TRNG summary: raster, autocorrelation, Hamming distance, entropy, NIST")
    print(f"  NIST: simulated p-bits {'pass' if analysis.passed else 'FAIL'}, shipped stream "
          f"{'pass' if shipped_report.passed else 'FAIL'}; entropy {min(quality.shannon_entropy_per_bit):.6f}")


def _regress_stage(report, args) -> None:
    import json

    import devices
    from cim_emu.regression import RegressionConfig, plot_regression, run_regression

    result = run_regression(RegressionConfig.fast(seed=args.seed), card=devices.default_card())
    report.section("3. Heteroscedastic regression on emulated tiles (paper Fig. 22)",
                   "A deterministic network on data-bit pairs (ANN) and an MC-dropconnect network of the same shape "
                   "on probabilistic pairs, trained hardware-aware, programmed onto tiles with the default card's "
                   "variation and evaluated on held-out data (the fast configuration of `cim-emu regress`; run the "
                   "command for the full one).")
    report.table(["network", "held-out Gaussian NLL", f"{result.interval:.0%} interval coverage"],
                 [["ANN (CrossbarLinear)", f"{result.ann_nll:.4g}", f"{result.ann_coverage:.1%}"],
                  ["MC-dropconnect", f"{result.mc_nll:.4g}", f"{result.mc_coverage:.1%}"]])
    (report.directory / "regress").mkdir()
    path = report.directory / "regress" / "regress.png"
    plot_regression(result, path)
    with devices.atomic_write(report.directory / "regress" / "regress.json") as handle:
        json.dump(result.metrics(), handle, indent=2)
    report.figure(path, "ANN prediction vs MC-dropconnect predictive band")
    print(f"  regression: MC-dropconnect coverage {result.mc_coverage:.1%}, NLL {result.mc_nll:.3g}; "
          f"ANN coverage {result.ann_coverage:.1%}, NLL {result.ann_nll:.3g}")


STAGES = {"device": ("device model and calibration fit", _device_stage),
          "trng": ("p-bit TRNG and NIST SP800-22", _trng_stage),
          "regress": ("Fig. 22 regression on emulated tiles", _regress_stage)}


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
            print(f"[{number}/{len(chosen)}] {name}", flush=True)
            stage(report, args)
            print(f"  done in {time.perf_counter() - stage_start:.1f} s")
        index = report.publish()
    except BaseException:
        report.discard()
        raise
    print(f"report: {index} ({time.perf_counter() - started:.0f} s)")
    return 0
