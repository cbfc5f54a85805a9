"""``cim-emu sllg {params,sweep,trace,window}``: the macrospin sLLG solver from the command line.

* ``params``: the derived figures of a macrospin parameter set (anisotropy fields, VCMA slope, band,
  half period, thermal stability); ``--write`` saves the full set as an editable JSON file.
* ``sweep``: a P(V, t_pulse) map written in the ``switching.csv`` schema (what ``cim-emu fit`` reads).
* ``trace``: m(t) and V(t) of a few trials as CSV (and a PNG).
* ``window``: V10 / V50 / V90 at one pulse width, thermal noise alone vs with the per-pulse jitter.

Value lists: comma-separated numbers or inclusive ranges ``start:stop:step`` (``1.0:2.0:0.1``).
Durations accept a unit suffix (``700ps``, ``0.7ns``, ``7e-10`` = seconds).
"""

from __future__ import annotations

import argparse
import math
import re

from cim_emu.cli._args import integer

_DURATION_UNITS = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "ns": 1e-9, "ps": 1e-12, "fs": 1e-15}

#: Default work limits (raise them with --max-values, --max-pulses, --max-steps).
MAX_VALUES = 10_000
MAX_PULSES = 20_000_000
MAX_STEPS = 10_000_000


def _number(text: str, *, duration: bool, what: str) -> float:
    match = re.fullmatch(r"\s*([-+0-9.eE]+)\s*([a-z]*)\s*", text)
    unit = match.group(2) if match else ""
    if match is None or (unit and not duration) or (unit and unit not in _DURATION_UNITS):
        units = "a unit s/ms/us/ns/ps" if duration else "no unit"
        raise ValueError(f"{what}: cannot read {text!r} as a number ({units} allowed)")
    try:
        value = float(match.group(1))
    except ValueError:
        raise ValueError(f"{what}: cannot read {text!r} as a number") from None
    value *= _DURATION_UNITS.get(unit, 1.0)
    if not math.isfinite(value):
        raise ValueError(f"{what}: expected a finite number, got {text!r}")
    if duration and not 0 <= value <= 1.0:
        raise ValueError(f"{what}: a duration must lie in [0, 1 s], got {text!r}")
    return value


def _positive(value: float, what: str) -> float:
    if not value > 0:
        raise ValueError(f"{what}: expected a value > 0, got {value:g}")
    return value


def _values(text: str, *, duration: bool = False, what: str, limit: int = MAX_VALUES) -> list[float]:
    """Comma-separated numbers or start:stop:step ranges (stop included), at most ``limit`` of them."""
    values: list[float] = []
    for item in text.split(","):
        if not item.strip():
            continue
        if ":" in item:
            parts = item.split(":")
            if len(parts) != 3:
                raise ValueError(f"{what}: range {item!r} must be start:stop:step")
            start, stop, step = (_number(p, duration=duration, what=what) for p in parts)
            if step <= 0 or stop < start:
                raise ValueError(f"{what}: range {item!r} needs step > 0 and stop >= start")
            count = math.floor((stop - start) / step + 1e-9) + 1
            if len(values) + count > limit:
                raise ValueError(f"{what}: range {item!r} has {count:.4g} values, beyond the limit {limit}; raise it "
                                 "with --max-values if the machine can take it")
            values.extend(round(start + i * step, 15) for i in range(count))
        else:
            values.append(_number(item, duration=duration, what=what))
    if len(values) > limit:
        raise ValueError(f"{what}: {len(values)} values, beyond the limit {limit}; raise it with --max-values")
    if not values:
        raise ValueError(f"{what}: no values given")
    return values


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "sllg", help="macrospin stochastic-LLG solver of the VCMA-MTJ p-bit",
        description="Vectorised macrospin sLLG simulations of VCMA precessional switching (docs/macrospin.md).",
    )
    commands = parser.add_subparsers(dest="sllg_command", metavar="SUBCOMMAND")

    def common(sub, *, simulate: bool = True):
        sub.add_argument("--params", default=None, help="JSON with MacrospinParams fields (SI units; others default)")
        sub.add_argument("--thermal-only", action="store_true", help="switch the per-pulse jitter off")
        if simulate:
            sub.add_argument("--seed", type=integer(minimum=0), default=0, help="root seed (default 0)")
            sub.add_argument("--max-values", type=integer(minimum=1), default=MAX_VALUES,
                             help=f"refuse value lists longer than this (default {MAX_VALUES})")
            sub.add_argument("--max-pulses", type=integer(minimum=1), default=MAX_PULSES,
                             help=f"refuse runs of more simulated pulses than this (default {MAX_PULSES})")
            sub.add_argument("--max-steps", type=integer(minimum=1), default=MAX_STEPS,
                             help=f"refuse runs of more time steps per trajectory than this (default {MAX_STEPS})")
            sub.add_argument("--rise-time", default="0", help="pulse rise time 0-100 %% (default 0, e.g. 50ps)")
            sub.add_argument("--fall-time", default="0", help="pulse fall time 100-0 %% (default 0)")
            sub.add_argument("--dt", default="1ps", help="Heun time step (default 1ps)")
            sub.add_argument("--device", default="cpu", help="torch device: cpu (default) or cuda")
            sub.add_argument("--backend", default="auto", choices=["auto", "numba", "torch", "torch-compile"],
                             help="solver backend (default auto: numba on CPU, torch-compile on CUDA)")
            sub.add_argument("--precision", default="float64", choices=["float64", "float32"],
                             help="precision of the torch backends (float32 for speed on GPUs; numba is float64)")

    params = commands.add_parser("params", help="derived figures of a parameter set")
    common(params, simulate=False)
    params.add_argument("--json", action="store_true", help="print one JSON object")
    params.add_argument("--write", default=None, help="also write the full parameter set to this JSON file")
    params.set_defaults(func=run_params)

    sweep = commands.add_parser("sweep", help="P(V, t_pulse) map in the switching.csv schema")
    common(sweep)
    sweep.add_argument("--voltages", required=True, help="pulse amplitudes (V), e.g. 0.6:2.4:0.1")
    sweep.add_argument("--widths", required=True, help="pulse widths (FWHM), e.g. 400ps:1200ps:100ps or 7e-10")
    sweep.add_argument("--trials", type=integer(minimum=1), required=True, help="pulses per (device, voltage, width)")
    sweep.add_argument("--out", required=True, help="output CSV (device_id, array_id, voltage_V, ...)")
    sweep.add_argument("--plot", default=None, help="optional PNG of the map")
    sweep.add_argument("--devices", type=integer(minimum=1), default=1, help="number of devices (default 1)")
    sweep.add_argument("--variation", default=None, help="JSON with DeviceVariation fields (log-normal sigmas)")
    sweep.add_argument("--array-id", type=integer(minimum=0), default=0, help="array_id column value (default 0)")
    sweep.set_defaults(func=run_sweep)

    trace = commands.add_parser("trace", help="m(t) of a few pulses as CSV")
    common(trace)
    trace.add_argument("--voltage", required=True, help="pulse amplitude (V)")
    trace.add_argument("--width", required=True, help="pulse width (FWHM), e.g. 700ps")
    trace.add_argument("--trials", type=integer(minimum=1, maximum=10_000), default=4, help="trajectories (default 4)")
    trace.add_argument("--interval", default="5ps", help="record interval (default 5ps)")
    trace.add_argument("--duration", default="5ns", help="simulated time (default 5ns)")
    trace.add_argument("--out", required=True, help="output CSV (time_s, trial, voltage_V, m_x, m_y, m_z)")
    trace.add_argument("--plot", default=None, help="optional PNG")
    trace.set_defaults(func=run_trace)

    window = commands.add_parser("window", help="V10/V50/V90 at one width: thermal-only vs with jitter")
    common(window)
    window.add_argument("--width", default="700ps", help="pulse width (default 700ps)")
    window.add_argument("--voltages", default="0.4:3.0:0.05", help="amplitude grid (default 0.4:3.0:0.05)")
    window.add_argument("--trials", type=integer(minimum=1), default=1000, help="pulses per voltage (default 1000)")
    window.add_argument("--json", action="store_true", help="print one JSON object")
    window.set_defaults(func=run_window)
    parser.set_defaults(func=lambda args: parser.print_help() or 2)


def _load(args):
    from devices.macrospin import MacrospinParams, load_macrospin_params

    params = load_macrospin_params(args.params) if args.params else MacrospinParams()
    return params.thermal_only() if args.thermal_only else params


def _simulation(args):
    from cim_emu.cli._args import torch_device
    from devices.macrospin import Backend, Precision, SolverConfig, TrapezoidPulse

    torch_device(args.device, "--device")
    pulse = TrapezoidPulse(rise_time_s=_number(args.rise_time, duration=True, what="--rise-time"),
                           fall_time_s=_number(args.fall_time, duration=True, what="--fall-time"))
    time_step = _positive(_number(args.dt, duration=True, what="--dt"), "--dt")
    config = SolverConfig(time_step_s=time_step, backend=Backend(args.backend), precision=Precision(args.precision))
    return pulse, config


def _check_work(args, *, pulses: float, simulated_s: float) -> None:
    """Refuse runs beyond the work limits up front, naming the size and the flag."""
    from cim_emu.cli._args import require_size

    require_size(pulses, args.max_pulses, what="the number of simulated pulses", flag="--max-pulses")
    steps = simulated_s / _number(args.dt, duration=True, what="--dt")
    require_size(steps, args.max_steps, what="the time steps per trajectory", flag="--max-steps")


def _generators(seed: int, *names: str):
    from cim_emu.rng import SeedStream

    # One named stream per use (device variation, simulation, ...), split from the command's root seed.
    root = SeedStream(seed).child("sllg")
    return [root.child(name).torch_generator("cpu") for name in names]


def _progress(total_label: str):
    from tqdm import tqdm

    bar = {"bar": None}

    def update(done: int, total: int) -> None:
        if bar["bar"] is None:
            bar["bar"] = tqdm(total=total, desc=total_label, unit="trial", leave=False)
        bar["bar"].update(done - bar["bar"].n)
        if done >= total:
            bar["bar"].close()

    return update


def run_params(args: argparse.Namespace) -> int:
    import dataclasses
    import json

    from cim_emu.cli._format import print_json, si, table
    from devices.io import atomic_write

    params = _load(args)
    summary = params.summary()
    if args.write:
        with atomic_write(args.write) as handle:
            json.dump(dataclasses.asdict(params), handle, indent=2)
            handle.write("\n")
    if args.json:
        print_json({"params": dataclasses.asdict(params), "derived": summary})
        return 0
    units = {"_T_per_V": "T/V", "_T": "T", "_V": "V", "_s": "s", "_m3": "m^3"}
    rows = [[key, si(value, next((u for suffix, u in units.items() if key.endswith(suffix)), ""))]
            for key, value in summary.items()]
    print(table(rows, ["figure", "value"]))
    return 0


def run_sweep(args: argparse.Namespace) -> int:
    import numpy as np

    from cim_emu.cli._format import si, table
    from cim_emu.cli._outputs import check_file
    from devices.macrospin import (
        crossing_voltages,
        load_device_variation,
        nominal_devices,
        plot_switching_map,
        sample_devices,
        switching_map,
        write_switching_csv,
    )

    params = _load(args)
    pulse, config = _simulation(args)
    voltages = _values(args.voltages, what="--voltages", limit=args.max_values)
    widths = [_positive(w, "--widths") for w in _values(args.widths, duration=True, what="--widths",
                                                         limit=args.max_values)]
    _check_work(args, pulses=args.devices * len(voltages) * len(widths) * args.trials,
                simulated_s=max(widths) + pulse.rise_time_s + pulse.fall_time_s)
    check_file(args.out, "--out")
    if args.plot:
        check_file(args.plot, "--plot")
    device_generator, run_generator = _generators(args.seed, "device_variation", "switching")
    if args.variation:
        devices = sample_devices(params, load_device_variation(args.variation), args.devices,
                                 generator=device_generator)
    else:
        devices = nominal_devices(params, args.devices)
    result = switching_map(params, voltages, widths, args.trials, generator=run_generator, pulse=pulse,
                           devices=devices, config=config, device=args.device, progress=_progress("sllg sweep"))
    from cim_emu.cli._outputs import Staging

    with Staging(args.out) as staging:  # both outputs or neither
        write_switching_csv(result, staging.path("map.csv"), array_id=args.array_id)
        if args.plot:
            plot_switching_map(result, staging.path("map.png"))
            staging.publish_file("map.png", args.plot)
        staging.publish_file("map.csv", args.out)
    rows = []
    mean = result.probability.mean(axis=0)
    for w, width in enumerate(widths):
        crossings = crossing_voltages(voltages, mean[:, w]) if len(voltages) > 1 else (math.nan,) * 3
        rows.append([si(width, "s"), f"{mean[:, w].min():.3f}-{mean[:, w].max():.3f}",
                     *(si(c, "V") if np.isfinite(c) else "-" for c in crossings)])
    print(table(rows, ["width", "P range", "V10", "V50", "V90"]))
    print(f"wrote {args.out} ({result.n_devices * len(voltages) * len(widths)} rows, backend {result.backend}"
          f"{'; ' + result.note if result.note else ''}; undecided trials: {int(result.n_undecided.sum())})")
    return 0


def run_trace(args: argparse.Namespace) -> int:
    import csv

    import torch

    from devices.io import atomic_write
    from devices.macrospin import trace_magnetisation

    params = _load(args)
    pulse, config = _simulation(args)
    voltage = _number(args.voltage, duration=False, what="--voltage")
    width = _positive(_number(args.width, duration=True, what="--width"), "--width")
    duration = _positive(_number(args.duration, duration=True, what="--duration"), "--duration")
    interval = _positive(_number(args.interval, duration=True, what="--interval"), "--interval")
    if interval > duration:
        raise ValueError(f"--interval {args.interval}: longer than --duration {args.duration}")
    _check_work(args, pulses=args.trials, simulated_s=duration)
    from cim_emu.cli._args import require_size
    from cim_emu.cli._outputs import check_file

    require_size(args.trials * duration / interval, 10 * args.max_steps, what="the recorded samples",
                 flag="--max-steps")
    check_file(args.out, "--out")
    if args.plot:
        check_file(args.plot, "--plot")
    (generator,) = _generators(args.seed, "trace")
    trace = trace_magnetisation(params, torch.full((args.trials,), voltage), width, generator=generator,
                                record_interval_s=interval, duration_s=duration,
                                pulse=pulse, config=config, device=args.device)
    from cim_emu.cli._outputs import Staging

    with Staging(args.out) as staging:  # both outputs or neither
        with atomic_write(staging.path("trace.csv"), "w", newline="") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(["time_s", "trial", "voltage_V", "m_x", "m_y", "m_z"])
            for r, time_s in enumerate(trace.time_s.tolist()):
                for t in range(args.trials):
                    writer.writerow([repr(time_s), t, repr(float(trace.voltage_V[r, t])),
                                     *(repr(float(v)) for v in trace.magnetisation[r, t])])
        if args.plot:
            _plot_trace(trace, staging.path("trace.png"))
            staging.publish_file("trace.png", args.plot)
        staging.publish_file("trace.csv", args.out)
    final = trace.magnetisation[-1, :, 2]
    print(f"wrote {args.out}: {trace.time_s.numel()} records x {args.trials} trials; final m_z "
          + ", ".join(f"{v:+.3f}" for v in final.tolist()) + f" (backend {trace.backend})")
    return 0


def _plot_trace(trace, path) -> None:
    from matplotlib.figure import Figure  # no pyplot: no global matplotlib state

    from devices.io import atomic_write

    time_ns = trace.time_s.numpy() * 1e9
    figure = Figure(figsize=(8, 5))
    top, bottom = figure.subplots(2, 1, sharex=True, height_ratios=[1, 3])
    top.plot(time_ns, trace.voltage_V.numpy())
    top.set_ylabel("V (V)")
    for t in range(trace.magnetisation.shape[1]):
        bottom.plot(time_ns, trace.magnetisation[:, t, 2].numpy(), lw=1)
    bottom.set_ylabel("m_z")
    bottom.set_xlabel("time (ns)")
    figure.tight_layout()
    with atomic_write(path, "wb") as handle:
        figure.savefig(handle, format="png", dpi=120)


def run_window(args: argparse.Namespace) -> int:
    from cim_emu.cli._format import print_json, si, table
    from devices.macrospin import crossing_voltages, switching_map

    params = _load(args)
    pulse, config = _simulation(args)
    voltages = _values(args.voltages, what="--voltages", limit=args.max_values)
    if len(voltages) < 2 or any(b <= a for a, b in zip(voltages, voltages[1:], strict=False)):
        raise ValueError(f"--voltages {args.voltages}: the window needs two or more increasing voltages")
    width = _positive(_number(args.width, duration=True, what="--width"), "--width")
    _check_work(args, pulses=2 * len(voltages) * args.trials,
                simulated_s=width + pulse.rise_time_s + pulse.fall_time_s)
    results = {}
    cases = [("thermal_only", params.thermal_only())]
    if params.pulse_jitter_V > 0:
        cases.append(("with_jitter", params))
    for (label, case), generator in zip(cases, _generators(args.seed, *(label for label, _ in cases)), strict=True):
        table_ = switching_map(case, voltages, [width], args.trials, generator=generator, pulse=pulse,
                               config=config, device=args.device, progress=_progress(f"sllg {label}"))
        probability = table_.probability[0, :, 0]
        v10, v50, v90 = crossing_voltages(voltages, probability)
        results[label] = {"pulse_jitter_V": case.pulse_jitter_V, "v10_V": v10, "v50_V": v50, "v90_V": v90,
                          "window_10_90_V": v90 - v10, "max_probability": float(probability.max()),
                          "probability": probability.tolist()}
    if args.json:
        print_json({"pulse_width_s": width, "voltages_V": voltages, "n_trials": args.trials, **results})
        return 0
    rows = [[label, si(r["pulse_jitter_V"], "V"), si(r["v10_V"], "V"), si(r["v50_V"], "V"), si(r["v90_V"], "V"),
             si(r["window_10_90_V"], "V"), f"{r['max_probability']:.3f}"] for label, r in results.items()]
    print(f"switching window at {si(width, 's')} ({args.trials} pulses per voltage)")
    print(table(rows, ["case", "jitter", "V10", "V50", "V90", "window 10-90", "max P"]))
    return 0
