"""``cim-emu demo``: the main job on the embedded defaults, gathered into one report folder.

Stages run in order; each adds text, tables and figures to the report. The report is built in a staging
directory and moved into place only when every stage succeeded.
"""

from __future__ import annotations

import argparse
import time

from cim_emu.cli._args import integer


def register(subparsers) -> None:
    parser = subparsers.add_parser("demo", help="run the main job on the shipped defaults and write a report",
                                   description="Device summary and calibration fit, a p-bit bitstream through "
                                               "the NIST suite, the Fig. 22 regression, in-situ vs ex-situ "
                                               "generation and the benchmark, as an HTML report.")
    parser.add_argument("--out", default="cim-emu-report", help="report directory (default: cim-emu-report)")
    parser.add_argument("--seed", type=integer(minimum=0), default=0, help="root seed of every random stream")
    parser.add_argument("--stages", default=None,
                        help="comma-separated subset of stages to run (default: all); see the list in --help")
    parser.set_defaults(func=run)


def _device_stage(report, args) -> None:
    import calibration_data
    import devices
    from cim_emu.cli._format import format_figure
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
    rows = [[key, format_figure(key, getattr(summary, key)), label] for key, label in paper.items()]
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

    import calibration_data
    import devices
    from cim_emu.experiments.trng import simulate_trng
    from cim_emu.randomness import analyse_sequences, assess_quality, plot_trng_summary, run_suite, run_suite_many

    card = devices.default_card()
    report.section("2. P-bit TRNG quality and NIST SP800-22 (paper Figs. 14-18, Table I)",
                   "Four simulated p-bits of the default card, reset-then-write mode, each pulse trimmed to the "
                   "device's own 50 % point, 2^20 bits each; and the shipped bitstream.txt (the calibration "
                   "stand-in of the measured stream).")
    streams = simulate_trng(card, n_bits=1 << 20, n_devices=4, seed=args.seed).bits  # as `cim-emu trng` does
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
    import devices
    from cim_emu.cli._artefacts import write_regression_outputs
    from cim_emu.experiments.regression import RegressionConfig, run_regression

    result = run_regression(RegressionConfig.fast(seed=args.seed), card=devices.default_card())
    report.section("3. Heteroscedastic regression on emulated tiles (paper Fig. 22)",
                   "A deterministic network on data-bit pairs (ANN) and an MC-dropconnect network of the same shape "
                   "on probabilistic pairs, trained hardware-aware, programmed onto tiles with the default card's "
                   "variation and evaluated on held-out data (the fast configuration of `cim-emu regress`; run the "
                   "command for the full one).")
    report.table(["network", "held-out Gaussian NLL", f"{result.interval:.0%} interval coverage"],
                 [["ANN (CrossbarLinear)", f"{result.ann_nll:.4g}", f"{result.ann_coverage:.1%}"],
                  ["MC-dropconnect", f"{result.mc_nll:.4g}", f"{result.mc_coverage:.1%}"]])
    path, _ = write_regression_outputs(result, report.directory / "regress")
    report.figure(path, "ANN prediction vs MC-dropconnect predictive band")
    print(f"  regression: MC-dropconnect coverage {result.mc_coverage:.1%}, NLL {result.mc_nll:.3g}; "
          f"ANN coverage {result.ann_coverage:.1%}, NLL {result.ann_nll:.3g}")


def _generate_stage(report, args) -> None:
    from cim_emu.cli._progress import stage_bars
    from diffusion import GenerationConfig, Method, run_generation

    config = GenerationConfig(methods=(Method.IN_SITU, Method.EX_SITU, Method.NO_NOISE), n_images=500,
                              seed=args.seed)
    with stage_bars(prefix="  ", disable=None) as progress:
        result = run_generation(config, report.directory / "generate", progress=progress)
    report.op_counts_file = report.directory / "generate" / "op_counts.json"
    report.section("4. Latent diffusion on emulated crossbars: in situ vs ex situ (paper Figs. 21-24)",
                   "A VAE (trained on scikit-learn digits) decodes latents produced by a 100-step reverse VP SDE whose "
                   "drift network runs on data-bit tiles. Ex situ: Gaussian noise from 16 simulated TRNG bits per "
                   "sample. In situ: a block of p-bit columns in the output tile supplies the stochastic term, "
                   "calibrated per column at deployment. The no-noise ablation is the ANN of Fig. 22a. Features "
                   "come from a small digit classifier trained here (this is not Inception FID).")
    rows = []
    named = list(result.references.items())
    named += [(f"{name} vs real", method.metrics_vs_real) for name, method in result.methods.items()]
    named += list(result.comparisons.items())
    for name, metrics in named:
        rows.append([name, f"{metrics.kid_mean:.4f} +- {metrics.kid_std:.4f}", f"{metrics.frechet_distance:.2f}",
                     f"{metrics.precision:.3f}", f"{metrics.recall:.3f}",
                     "" if metrics.label_entropy_bits is None else f"{metrics.label_entropy_bits:.2f}"])
    report.table(["comparison", "KID", "Frechet distance", "precision", "recall", "label entropy (bits)"], rows)
    rows = [[name, f"{method.images_per_second:.0f}",
             "" if method.trajectory is None else f"{method.trajectory.max_relative_variance_error:.1%}"]
            for name, method in result.methods.items()]
    report.table(["method", "images/s (CPU)", "largest per-step variance error vs g^2 dt"], rows)
    report.table(["check", "result"], [[name, "pass" if ok else "FAIL"] for name, ok in result.checks.items()])
    for key, path in sorted(result.files.items()):
        if str(path).endswith(".png"):
            report.figure(path, key.replace("_", " "))
    in_situ, ex_situ = result.methods["in-situ"], result.methods["ex-situ"]
    print(f"  generation: KID vs real in situ {in_situ.metrics_vs_real.kid_mean:.3f}, ex situ "
          f"{ex_situ.metrics_vs_real.kid_mean:.3f}; recall {in_situ.metrics_vs_real.recall:.2f} / "
          f"{ex_situ.metrics_vs_real.recall:.2f}; {in_situ.images_per_second:.0f} / "
          f"{ex_situ.images_per_second:.0f} images/s")


def _bench_stage(report, args) -> None:
    from cim_emu.cli._artefacts import write_energy_plots
    from cim_emu.energy import EnergyConfig, end_to_end_report, load_op_counts_file
    from cim_emu.energy.report import bench_report

    config = EnergyConfig()
    counts_file = getattr(report, "op_counts_file", None)
    end_to_end = None
    if counts_file is not None:
        end_to_end = end_to_end_report(*load_op_counts_file(counts_file), config)
    bench = bench_report(config, end_to_end=end_to_end)
    report.section("5. In-situ vs ex-situ p-bit generation: throughput, energy, area (paper Table II)",
                   "The parametric circuit model's default configuration (docs/energy.md) against the paper.")
    table2 = {row["scheme"]: row for row in bench["table2"]["rows"]}
    rows = []
    for entry in [bench["in_situ"], *bench["ex_situ"]]:
        paper = {key: ("off chip" if value is None else value)
                 for key, value in table2.get(entry["name"], {}).get("paper", {}).items()}
        rows.append([entry["name"], f"{entry['throughput_bit_per_ns']:.4g}", paper.get("throughput_bit_per_ns", ""),
                     f"{entry['energy_pJ_per_bit']:.4g}", paper.get("energy_pJ_per_bit", ""),
                     "-" if entry["area_um2"] is None else f"{entry['area_um2']:.4g}", paper.get("area_um2", "")])
    report.table(["design", "bit/ns", "paper", "pJ/bit", "paper", "added area (um^2)", "paper"], rows)
    ratios = bench["ratios"]
    report.text(f"In situ vs ex situ (same technology): {ratios['throughput']:.2f}x throughput (paper 6x), "
                f"{ratios['efficiency']:.2f}x efficiency (paper 2.19x).")
    if end_to_end is not None:
        e2e = bench["end_to_end"]
        rows = [[name, f"{e2e[key]['energy_per_image_J']:.4g}", f"{e2e[key]['latency_per_image_s']:.4g}",
                 f"{e2e[key]['random_bits_per_image']:.4g}"] for name, key in (("in situ", "in_situ"),
                                                                              ("ex situ", "ex_situ"))]
        report.table(["end to end, per generated image", "energy (J)", "latency (s)", "random bits"], rows)
        report.text("Priced from the operation counters of the generation run above (reads, ADC conversions, "
                    "p-bit pulses, TRNG bits moved), not from hand counts.")
    for name, path in write_energy_plots(config, report.directory / "bench"):
        report.figure(path, "Table II landscape" if name == "table2_landscape" else f"sweep: {name.replace('_', ' ')}")
    print(f"  bench: in situ {bench['in_situ']['throughput_bit_per_ns']:.1f} bit/ns, "
          f"{bench['in_situ']['energy_pJ_per_bit']:.3f} pJ/bit; ratios {ratios['throughput']:.2f}x / "
          f"{ratios['efficiency']:.2f}x")


def _classify_stage(report, args) -> None:
    from cim_emu.experiments.classify import demo_section

    section = demo_section(report.directory / "classify", seed=args.seed)
    report.section(f"6. {section.title}", section.text)
    report.table(section.header, section.rows)
    for path, caption in section.figures:
        report.figure(path, caption)
    print(f"  {section.summary}")


STAGES = {"device": ("device model and calibration fit", _device_stage),
          "trng": ("p-bit TRNG and NIST SP800-22", _trng_stage),
          "regress": ("Fig. 22 regression on emulated tiles", _regress_stage),
          "generate": ("in-situ vs ex-situ latent diffusion", _generate_stage),
          "bench": ("Table II energy model and end-to-end cost", _bench_stage),
          "classify": ("your own network on the crossbar: digits, p-bits, MC-dropconnect", _classify_stage)}


def run(args: argparse.Namespace) -> int:
    from cim_emu.cli._report import Report
    from cim_emu.crossbar.kernels.dispatch import cpu_path_report

    chosen = list(STAGES) if args.stages is None else [s.strip() for s in args.stages.split(",") if s.strip()]
    unknown = [s for s in chosen if s not in STAGES]
    if unknown or not chosen:
        raise ValueError(f"--stages: unknown stage(s) {unknown}; choose from {', '.join(STAGES)}")
    started = time.perf_counter()
    report = None
    try:
        report = Report(args.out, "cim-emu demo report")
        # Which CPU path the tiles take depends on the machine (issue 11): say it before the timings.
        machine = cpu_path_report()
        print(f"machine: {machine.summary()}", flush=True)
        timings = []
        for number, key in enumerate(chosen, start=1):
            name, stage = STAGES[key]
            stage_start = time.perf_counter()
            print(f"[{number}/{len(chosen)}] {name}", flush=True)
            stage(report, args)
            timings.append([name, f"{time.perf_counter() - stage_start:.1f} s"])
            print(f"  done in {timings[-1][1]}")
        report.section("About this run", f"Machine and CPU path: {machine.summary()}.")
        report.table(["stage", "wall time"], timings)
        index = report.publish()
    except BaseException:
        if report is not None:
            report.discard()
        raise
    print(f"report: {index} ({time.perf_counter() - started:.0f} s)")
    return 0
