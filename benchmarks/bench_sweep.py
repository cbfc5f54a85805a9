"""Sweep speed on Dask: parallel efficiency 1 -> 2 worker processes, and scheduling overhead per cell.

1. Parallel efficiency: the same CPU-bound TRNG sweep (NIST on long streams) on a LocalCluster of 1 worker and
   on one of 2 workers (processes, one thread each), rounds interleaved; speed-up = median(1 worker) /
   median(2 workers), efficiency = speed-up / 2 (target: speed-up >= 1.7). The same cells in a plain
   ``ProcessPoolExecutor`` of 1 and 2 processes, interleaved with them, measure what the machine gives two
   processes at the time (on a shared machine, less than 2x): Dask's speed-up over that one is its own share.
2. Overhead per cell: a sweep of fast cells (the energy model, ~2 ms a cell) on a 1-worker cluster against
   the same cells run in a plain loop in this process; (sweep - loop) / cells (target < 50 ms). It includes
   the task round trip, the part file of every cell and the final parquet merge (figures off).

    python benchmarks/bench_sweep.py [--rounds 2] [--cells 16] [--fast-cells 200]

Run it on an idle machine for the figure of merit: other load on the two cores lowers the 2-worker speed-up.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time


def _timed_sweep(spec, client) -> float:
    from cim_emu.sweep import run

    with tempfile.TemporaryDirectory(prefix="bench-sweep-") as directory:
        start = time.perf_counter()
        result = run(spec, os.path.join(directory, "out"), client, figures=False)
        elapsed = time.perf_counter() - start
    if not result.ok:
        raise RuntimeError(f"benchmark sweep failed: {result.failed}")
    return elapsed


def _pool_time(pool, spec) -> float:
    from cim_emu.sweep import run_one_cell

    start = time.perf_counter()
    outcomes = list(pool.map(run_one_cell, [spec] * spec.n_cells, range(spec.n_cells)))
    elapsed = time.perf_counter() - start
    if any(outcome.error for outcome in outcomes):
        raise RuntimeError("benchmark cell failed in the process pool")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2, help="interleaved rounds per configuration")
    parser.add_argument("--cells", type=int, default=16, help="cells of the CPU-bound sweep")
    parser.add_argument("--fast-cells", type=int, default=200, help="cells of the overhead sweep")
    args = parser.parse_args()

    import torch
    from distributed import Client, LocalCluster

    from cim_emu.sweep import parse_spec, run_one_cell
    from cim_emu.sweep.runner import set_single_thread

    set_single_thread()
    print(f"cpu capability: {torch.backends.cpu.get_cpu_capability()}; os.cpu_count() = {os.cpu_count()}; "
          f"load average {os.getloadavg()[0]:.2f} (1 min) at start")
    heavy = {"experiment": "trng", "seed": 0, "options": {"n_bits": 400_000, "n_devices": 2},
             "axes": {"card.p_bit.sigma_pulse_V": {"start": 0.2, "stop": 0.4, "num": args.cells}}}
    fast = {"experiment": "bench", "seed": 0,
            "axes": {"energy.write.pulse_width_s": {"start": 3e-10, "stop": 1.5e-9, "num": args.fast_cells}}}

    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    heavy_spec = parse_spec(heavy)
    context = multiprocessing.get_context("spawn")
    pools = {n: ProcessPoolExecutor(n, mp_context=context, initializer=set_single_thread) for n in (1, 2)}
    clusters = {n: LocalCluster(n_workers=n, threads_per_worker=1, processes=True, host="127.0.0.1",
                                dashboard_address=":0") for n in (1, 2)}
    clients = {n: Client(cluster) for n, cluster in clusters.items()}
    try:
        for client in clients.values():  # warm: imports, numba compiles, the first NIST run
            _timed_sweep({**heavy, "axes": {"card.p_bit.sigma_pulse_V": [0.2, 0.3]}}, client)
        warm = parse_spec({**heavy, "axes": {"card.p_bit.sigma_pulse_V": [0.2, 0.3]}})
        for pool in pools.values():
            _pool_time(pool, warm)
        times: dict[int, list[float]] = {1: [], 2: []}
        pool_times: dict[int, list[float]] = {1: [], 2: []}
        for _ in range(args.rounds):
            for n in (1, 2):
                times[n].append(_timed_sweep(heavy, clients[n]))
                pool_times[n].append(_pool_time(pools[n], heavy_spec))
        one, two = statistics.median(times[1]), statistics.median(times[2])
        speedup = one / two
        pool_speedup = statistics.median(pool_times[1]) / statistics.median(pool_times[2])
        print(f"CPU-bound sweep, {args.cells} TRNG cells of 2 x 400k bits + NIST: 1 worker {one:.2f} s, "
              f"2 workers {two:.2f} s (medians of {args.rounds}); speed-up {speedup:.2f}x (target >= 1.7x), "
              f"parallel efficiency {speedup / 2:.0%}")
        print(f"same cells in a plain process pool: 1 -> 2 processes {pool_speedup:.2f}x (what the machine gives "
              f"two processes now); Dask / pool speed-up {speedup / pool_speedup:.2f}")

        spec = parse_spec(fast)
        loop_times, sweep_times = [], []
        for _ in range(args.rounds):
            start = time.perf_counter()
            for index in range(spec.n_cells):
                run_one_cell(spec, index)
            loop_times.append(time.perf_counter() - start)
            sweep_times.append(_timed_sweep(fast, clients[1]))
        loop, sweep = statistics.median(loop_times), statistics.median(sweep_times)
        overhead_ms = 1e3 * (sweep - loop) / spec.n_cells
        print(f"overhead: {spec.n_cells} energy-model cells, plain loop {loop:.2f} s, sweep on 1 worker "
              f"{sweep:.2f} s (medians of {args.rounds}); {overhead_ms:.1f} ms per cell (target < 50 ms); "
              f"ratio sweep / loop {sweep / loop:.2f}x")
    finally:
        for pool in pools.values():
            pool.shutdown()
        for client in clients.values():
            client.close()
        for cluster in clusters.values():
            cluster.close()
    print(f"load average {os.getloadavg()[0]:.2f} (1 min) at the end")
    return 0


if __name__ == "__main__":
    sys.exit(main())
