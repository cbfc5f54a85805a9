"""Benchmark of ``cim-emu fit`` on a large switching.csv: one row per trial block, ~50 MB, ~1.5 M rows.

The fit aggregates the rows (sums the counts of each device, voltage and width) before fitting, so the figure
is the time of the 50 MB fit as a RATIO against the fit of the equivalent aggregated file, both measured in this
run (median of interleaved rounds, each in a fresh process that also reports its peak memory).

    python benchmarks/bench_fit.py            # 3 rounds
    python benchmarks/bench_fit.py --rounds 1 --megabytes 10

Target (issue 16): <= 20 s and < 1 GB for 50 MB.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import statistics
import subprocess
import sys
import tempfile

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
TARGET_S, TARGET_BYTES = 20.0, 1 << 30

_CHILD = """
import json, resource, sys, time
sys.path.insert(0, {root!r})
import devices
from devices.fit import fit_directory
start = time.perf_counter()
fit = fit_directory({directory!r}, base=devices.default_card())
seconds = time.perf_counter() - start
print(json.dumps({{"seconds": seconds, "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
                  "v50_V": fit.card.p_bit.v50_V}}))
"""


def write_trial_blocks(directory: pathlib.Path, megabytes: float, seed: int = 0) -> tuple[int, int]:
    """A switching.csv of trial blocks drawn around the shipped data's probabilities, and its aggregate."""
    sys.path.insert(0, str(ROOT))
    import calibration_data
    from devices.fit import aggregate_switching, read_switching

    shipped = aggregate_switching(read_switching(calibration_data.data_dir() / "switching.csv"))
    probability = shipped["n_switched"] / shipped["n_trials"]
    rng = np.random.default_rng(seed)
    row_bytes = 28.6  # a typical "S1,standalone,1.5,7e-10,20,9" row with its newline
    blocks = max(1, int(megabytes * 1e6 / row_bytes / probability.size))
    block_trials = 20
    counts = rng.binomial(block_trials, np.repeat(probability, blocks))
    prefix = [f"{d},{a},{float(v)!r},{float(w)!r},{block_trials}," for d, a, v, w in
              zip(shipped["device_id"], shipped["array_id"], shipped["voltage_V"], shipped["pulse_width_s"],
                  strict=True)]
    big = directory / "big"
    big.mkdir()
    with (big / "switching.csv").open("w") as handle:
        handle.write("device_id,array_id,voltage_V,pulse_width_s,n_trials,n_switched\n")
        handle.write("\n".join(p + str(k) for p, k in zip(np.repeat(prefix, blocks), counts.tolist(), strict=True)))
        handle.write("\n")
    small = directory / "aggregated"
    small.mkdir()
    sums = counts.reshape(probability.size, blocks).sum(axis=1)
    with (small / "switching.csv").open("w") as handle:
        handle.write("device_id,array_id,voltage_V,pulse_width_s,n_trials,n_switched\n")
        handle.write("\n".join(f"{p[:-len(str(block_trials)) - 1]}{block_trials * blocks},{k}"
                               for p, k in zip(prefix, sums.tolist(), strict=True)) + "\n")
    return probability.size * blocks, (big / "switching.csv").stat().st_size


def run_child(directory: pathlib.Path) -> dict:
    code = _CHILD.format(root=str(ROOT), directory=str(directory))
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if result.returncode:
        raise RuntimeError(result.stderr.strip().splitlines()[-1])
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--megabytes", type=float, default=50.0)
    args = parser.parse_args()
    import torch

    print(f"cpu capability: {torch.backends.cpu.get_cpu_capability()}; torch threads {torch.get_num_threads()}")
    with tempfile.TemporaryDirectory() as folder:
        directory = pathlib.Path(folder)
        rows, size = write_trial_blocks(directory, args.megabytes)
        print(f"switching.csv: {rows} rows, {size / 1e6:.1f} MB (aggregate: same counts in one row per point)")
        big, small = [], []
        for _ in range(args.rounds):
            big.append(run_child(directory / "big"))
            small.append(run_child(directory / "aggregated"))
        big_s = statistics.median(r["seconds"] for r in big)
        small_s = statistics.median(r["seconds"] for r in small)
        big_rss = max(r["peak_rss_bytes"] for r in big)
        small_rss = max(r["peak_rss_bytes"] for r in small)
        assert abs(big[0]["v50_V"] - small[0]["v50_V"]) < 1e-6, "the aggregate must give the same fit"
    print(f"fit of the {size / 1e6:.0f} MB file: {big_s:.2f} s (median of {args.rounds}), peak RSS "
          f"{big_rss / 2 ** 20:.0f} MiB; aggregated file: {small_s:.2f} s, peak RSS {small_rss / 2 ** 20:.0f} MiB")
    print(f"ratio large / aggregated: {big_s / small_s:.2f}x time, {big_rss / small_rss:.2f}x memory; "
          f"target <= {TARGET_S:.0f} s: {'met' if big_s <= TARGET_S else 'NOT met'}, < 1 GiB: "
          f"{'met' if big_rss < TARGET_BYTES else 'NOT met'}")


if __name__ == "__main__":
    main()
