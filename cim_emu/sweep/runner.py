"""What runs on a Dask worker: one cell, and the worker set-up (one thread, warm caches).

A cell never raises out of :func:`run_cell`: an exception of the experiment is caught and returned with the
cell's row, so one bad cell does not stop the sweep. Only the loss of the worker itself reaches the client
(Dask then runs the cell again on another worker).
"""

from __future__ import annotations

import dataclasses
import math
import os
import socket
import time
import traceback
from collections.abc import Mapping
from typing import Any

from distributed.diagnostics.plugin import WorkerPlugin

__all__ = ["CellOutcome", "CellTask", "SweepWorkerPlugin", "run_cell", "set_single_thread"]


@dataclasses.dataclass(frozen=True)
class CellTask:
    """Everything a worker needs for one cell (small and picklable).

    Attributes:
        experiment: the experiment's registered name.
        index: the cell's index in the sweep.
        root_seed: the spec's root seed; the cell draws from ``SeedStream(root_seed).index(index)``.
        settings: group -> settings object (frozen dataclasses built and validated on the client).
    """

    experiment: str
    index: int
    root_seed: int
    settings: Mapping[str, Any]


@dataclasses.dataclass(frozen=True)
class CellOutcome:
    """A finished cell.

    Attributes:
        index: the cell's index.
        metrics: metric name -> float (empty when the cell raised).
        error: ``"<ExceptionType>: <message>"`` when the cell raised, else None.
        wall_time_s: time spent in the experiment (seconds).
        worker: ``host:pid`` of the process that ran it.
        traceback: the formatted traceback when the cell raised (kept in the part file, not in the table).
    """

    index: int
    metrics: Mapping[str, float]
    error: str | None
    wall_time_s: float
    worker: str
    traceback: str | None = None


def set_single_thread() -> None:
    """One compute thread for torch, numba and the BLAS of this process (Dask runs one cell per thread)."""
    import torch

    torch.set_num_threads(1)
    try:
        import numba

        numba.set_num_threads(1)
    except (ImportError, ValueError):  # numba absent, or its thread pool fixed smaller already
        pass
    if torch.get_num_threads() != 1:  # numba's OpenMP layer may share torch's runtime
        torch.set_num_threads(1)


def _worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _check_metrics(metrics: Mapping[str, Any], experiment: str) -> dict[str, float]:
    clean = {}
    for name, value in metrics.items():
        if not isinstance(name, str) or not name or "." in name:
            raise ValueError(f"experiment {experiment!r} returned a metric named {name!r}: names are non-empty "
                             "and without dots (dots mark setting names)")
        if isinstance(value, bool):
            value = float(value)
        if not isinstance(value, (int, float)):
            raise ValueError(f"experiment {experiment!r} returned {name} = {value!r}: metrics are scalars")
        clean[name] = float(value)
    return clean


def run_cell(task: CellTask) -> CellOutcome:
    """Run one cell of the sweep (on a worker, or in-process).

    Returns:
        The cell's outcome; an exception of the experiment is recorded, not raised.
    """
    from cim_emu.rng import SeedStream
    from cim_emu.sweep.experiments import get_experiment

    start = time.perf_counter()
    try:
        experiment = get_experiment(task.experiment)
        metrics = _check_metrics(experiment.run(task.settings, SeedStream(task.root_seed).index(task.index)),
                                 task.experiment)
        error = trace = None
    except Exception as exception:  # a failing cell is data, not a crash of the sweep
        metrics = {}
        error = f"{type(exception).__name__}: {exception}".splitlines()[0]
        trace = traceback.format_exc()
    wall = time.perf_counter() - start
    return CellOutcome(task.index, metrics, error, wall if math.isfinite(wall) else math.nan, _worker_name(), trace)


class SweepWorkerPlugin(WorkerPlugin):
    """Sets every worker to one thread and warms the experiment's caches before its first cell.

    Registered by :func:`cim_emu.sweep.run` on the client; Dask also runs it on workers that join (or are
    restarted) later, so a replacement worker never starts cold.
    """

    name = "cim-emu-sweep"

    def __init__(self, experiment: str):
        self.experiment = experiment

    def setup(self, worker=None) -> None:
        from cim_emu.sweep.experiments import get_experiment

        set_single_thread()
        warm_up = get_experiment(self.experiment).warm_up
        if warm_up is not None:
            warm_up()
            set_single_thread()  # a warm-up that compiled numba kernels may have started a pool
