"""``cim-emu sweep``: design and Monte-Carlo sweeps of an experiment on Dask (docs/sweeps.md).

Thin shell over :func:`cim_emu.sweep.run`: connects to ``--scheduler`` or lets the library start a
``LocalCluster``, draws the progress bar, prints the dashboard address and the summary.
"""

from __future__ import annotations

import argparse
import sys

_DESCRIPTION = """\
Run every cell of a sweep spec (TOML: the experiment, its fixed options, axes over device-card fields,
CrossbarConfig fields, the write pulse and experiment options, replicas and one root seed) on Dask, and write
DIR/results.parquet (one row per cell), DIR/sweep.json and DIR/figures/<metric>.png. Each finished cell is
kept as it lands; --resume runs only the missing (and failed) cells. Exit 1 when a cell failed, 2 on a bad spec.
"""


def register(subparsers) -> None:
    parser = subparsers.add_parser("sweep", help="run a parameter / Monte-Carlo sweep of an experiment on Dask",
                                   description=_DESCRIPTION)
    parser.add_argument("spec", metavar="SPEC.toml", help="the sweep spec (see docs/sweeps.md)")
    parser.add_argument("--out", required=True, metavar="DIR", help="result directory (new or empty, or --resume)")
    parser.add_argument("--scheduler", metavar="ADDRESS",
                        help="address of a running Dask scheduler (e.g. tcp://10.0.0.5:8786); default: start a "
                             "LocalCluster on this machine")
    parser.add_argument("--workers", type=int, metavar="N",
                        help="worker processes of the local cluster (default: one per core)")
    parser.add_argument("--resume", action="store_true", help="complete the sweep already in DIR")
    parser.add_argument("--max-cells", type=int, default=None, metavar="N",
                        help="refuse specs with more cells (default 10000)")
    parser.add_argument("--timeout", type=float, default=30.0, metavar="S",
                        help="seconds to wait for --scheduler to answer (default 30)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from cim_emu.cli import CommandFailed, Terminated
    from cim_emu.sweep import DEFAULT_MAX_CELLS, load_spec
    from cim_emu.sweep import run as run_sweep

    max_cells = DEFAULT_MAX_CELLS if args.max_cells is None else args.max_cells
    if max_cells < 1:
        raise ValueError(f"--max-cells: expected an integer >= 1, got {max_cells}")
    if args.workers is not None and args.workers < 1:
        raise ValueError(f"--workers: expected an integer >= 1, got {args.workers}")
    if args.workers is not None and args.scheduler:
        raise ValueError("--workers sizes the local cluster; with --scheduler the cluster's own workers run the "
                         "cells: drop one of the two")
    if not args.timeout > 0:
        raise ValueError(f"--timeout: expected seconds > 0, got {args.timeout}")
    spec = load_spec(args.spec, max_cells=max_cells)  # validated before anything connects or is written

    client = None
    if args.scheduler:
        from distributed import Client

        try:
            client = Client(args.scheduler, timeout=args.timeout)
        except (OSError, TimeoutError) as error:
            raise ValueError(f"--scheduler {args.scheduler}: no Dask scheduler answered within {args.timeout:g} s "
                             f"({type(error).__name__})") from None

    def on_cluster(info) -> None:
        where = "local cluster" if info.local else f"scheduler {info.scheduler}"
        print(f"{where}: {info.n_workers} worker(s), {info.n_threads} thread(s)", file=sys.stderr)
        if info.dashboard:
            print(f"dashboard: {info.dashboard}", file=sys.stderr)

    bar = tqdm(total=spec.n_cells, desc="cells", unit="cell", file=sys.stderr, disable=None)
    try:
        result = run_sweep(spec, args.out, client, resume=args.resume, n_workers=args.workers, max_cells=max_cells,
                           on_cluster=on_cluster, progress=lambda done, total: bar.update(done - bar.n))
    except (KeyboardInterrupt, Terminated):
        bar.close()
        print(f"cim-emu sweep: interrupted; the finished cells are kept in {args.out}: run again with --resume "
              "to complete the sweep", file=sys.stderr)
        return 130
    finally:
        bar.close()
        if client is not None:
            client.close()
    print(f"{result.n_cells} cells ({result.n_run} run now, {result.n_cells - result.n_run} kept from before) in "
          f"{result.wall_s:.1f} s; wrote {result.results}, {len(result.figures)} figure(s) and "
          f"{args.out}/sweep.json")
    if not result.ok:
        for index, error in result.failed:
            print(f"cell {index} failed: {error}", file=sys.stderr)
        raise CommandFailed(f"{result.n_failed} of {result.n_cells} cells failed (errors in results.parquet); "
                            "--resume reruns them")
    return 0
