"""Running a sweep on Dask distributed: :func:`run`.

The client validates the spec and builds every cell's settings, submits one task per missing cell, and writes
each result to its part file the moment it arrives (so a crash or Ctrl-C loses no finished cell); at the end
it merges the parts into ``results.parquet``, draws one figure per metric and records ``sweep.json``.

Reproducibility: cell ``i`` draws only from ``SeedStream(seed).index(i)`` and every worker computes on one
thread, so the rows do not depend on the number of workers, on the order cells finish, or on resuming.
Faults: a worker that dies has its cells rerun elsewhere by the scheduler (a cell's part is written once,
by the client, when its result arrives: nothing is lost or duplicated); a cell that raises is recorded with
its error and the sweep goes on.
"""

from __future__ import annotations

import dataclasses
import datetime
import os
import pathlib
import platform
import time
import uuid
from collections.abc import Callable, Mapping
from importlib import metadata
from typing import Any

from cim_emu.sweep.runner import CellOutcome, CellTask, SweepWorkerPlugin, run_cell
from cim_emu.sweep.spec import DEFAULT_MAX_CELLS, Cell, SweepSpec, load_spec, parse_spec
from cim_emu.sweep.store import SWEEP_SCHEMA, ResultStore, part_record

__all__ = ["ClusterInfo", "SweepResult", "cell_seed", "run", "run_one_cell"]

_PACKAGES = ("cim-emu", "torch", "numpy", "scipy", "numba", "dask", "distributed", "pyarrow", "matplotlib")


@dataclasses.dataclass(frozen=True)
class ClusterInfo:
    """The cluster a sweep runs on (handed to ``on_cluster`` before the first cell, recorded in sweep.json).

    Attributes:
        scheduler: the scheduler's address.
        dashboard: the dashboard's URL, or None when the scheduler serves none.
        n_workers: workers connected when the sweep started.
        n_threads: their threads in total.
        local: True for the embedded ``LocalCluster``.
    """

    scheduler: str
    dashboard: str | None
    n_workers: int
    n_threads: int
    local: bool


@dataclasses.dataclass(frozen=True)
class SweepResult:
    """What a sweep left in its directory.

    Attributes:
        out: the directory.
        n_cells: cells in the spec.
        n_run: cells run by this call (the others were resumed from part files).
        n_failed: cells whose part records an error (they rerun on ``--resume``).
        failed: ``(cell index, error)`` of the first few failed cells.
        results: path of ``results.parquet``.
        figures: paths of the metric figures.
        wall_s: wall time of this call (seconds).
        cluster: the cluster used.
    """

    out: str
    n_cells: int
    n_run: int
    n_failed: int
    failed: tuple[tuple[int, str], ...]
    results: str
    figures: tuple[str, ...]
    wall_s: float
    cluster: ClusterInfo

    @property
    def ok(self) -> bool:
        return self.n_failed == 0


def cell_seed(spec: SweepSpec, index: int) -> int:
    """The recorded seed of cell ``index``: ``SeedStream(spec.seed).index(index).integer()`` (63 bits)."""
    from cim_emu.rng import SeedStream

    return SeedStream(spec.seed).index(index).integer()


def run_one_cell(spec: SweepSpec, index: int) -> CellOutcome:
    """Run cell ``index`` of ``spec`` in this process (to reproduce or debug one row of a sweep)."""
    return run_cell(CellTask(spec.experiment, index, spec.seed, spec.build(spec.cell(index))))


def _versions() -> dict[str, str | None]:
    versions: dict[str, str | None] = {"python": platform.python_version()}
    for name in _PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def _cluster_info(client, local: bool) -> ClusterInfo:
    info = client.scheduler_info()
    workers = info.get("workers", {})
    dashboard = None
    if "dashboard" in info.get("services", {}):
        try:
            dashboard = client.dashboard_link
        except Exception:  # a link template that cannot be filled in: report none rather than fail
            dashboard = None
    return ClusterInfo(scheduler=str(client.scheduler.address), dashboard=dashboard, n_workers=len(workers),
                       n_threads=sum(int(worker.get("nthreads", 0)) for worker in workers.values()), local=local)


def _local_client(n_workers: int | None, n_cells: int):
    """An embedded ``LocalCluster``: one single-threaded worker process per core (at most one per cell)."""
    from distributed import Client, LocalCluster

    if n_workers is None:
        n_workers = max(1, min(os.cpu_count() or 1, n_cells))
    # The dashboard (when bokeh is installed) on a free port, so that several sweeps can run side by side.
    cluster = LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                           dashboard_address=":0")
    try:
        return Client(cluster), cluster
    except BaseException:
        cluster.close()
        raise


def _as_spec(spec: SweepSpec | Mapping | str | os.PathLike, max_cells: int) -> SweepSpec:
    if isinstance(spec, SweepSpec):
        return spec
    if isinstance(spec, Mapping):
        return parse_spec(spec, max_cells=max_cells)
    return load_spec(spec, max_cells=max_cells)


def run(spec: SweepSpec | Mapping | str | os.PathLike, out: str | os.PathLike, client=None, *,
        resume: bool = False, n_workers: int | None = None, max_cells: int = DEFAULT_MAX_CELLS,
        on_cluster: Callable[[ClusterInfo], None] | None = None,
        progress: Callable[[int, int], None] | None = None, figures: bool = True) -> SweepResult:
    """Run a sweep on Dask and write its results into ``out``.

    Args:
        spec: a :class:`SweepSpec`, a spec dictionary, or the path of a TOML spec.
        out: result directory (created; must be new or empty unless ``resume``).
        client: a ``distributed.Client`` of an existing cluster; None starts an embedded ``LocalCluster``
            (closed at the end).
        resume: complete the sweep already in ``out`` (same spec): run only the cells without a part file
            and those that failed.
        n_workers: worker processes of the embedded cluster (default: one per core, at most one per cell).
            Not allowed with ``client``.
        max_cells: refuse specs with more cells.
        on_cluster: called once with the :class:`ClusterInfo` before the first cell (the CLI prints it).
        progress: called as ``progress(done, total)`` after each finished cell (``done`` counts resumed cells).
        figures: draw ``figures/<metric>.png`` (about 0.1 s a metric); False leaves the figures to the caller.

    Returns:
        A :class:`SweepResult`. Failed cells do not raise: check ``result.ok``.

    Raises:
        ValueError: a bad spec, or an ``out`` that holds something else (nothing is written then).
        KeyboardInterrupt: after recording the finished cells and marking ``sweep.json`` as interrupted.
    """
    started, clock = _now(), time.perf_counter()
    spec = _as_spec(spec, max_cells)
    if client is not None and n_workers is not None:
        raise ValueError("n_workers sizes the embedded LocalCluster; with a client the cluster's own workers run "
                         "the cells (drop --workers, or drop --scheduler)")
    if n_workers is not None and (isinstance(n_workers, bool) or not isinstance(n_workers, int) or n_workers < 1):
        raise ValueError(f"n_workers (--workers): expected an integer >= 1, got {n_workers!r}")
    digest = spec.digest()
    store = ResultStore(out)
    store.prepare(digest, resume=resume)
    cells = spec.cells()
    done = store.completed_cells(digest) if resume else set()
    pending = [cell for cell in cells if cell.index not in done]
    settings_of_point: dict[int, Mapping[str, Any]] = {}  # replicas of a point share its (frozen) settings
    tasks = {}
    for cell in pending:
        if cell.point not in settings_of_point:
            settings_of_point[cell.point] = spec.build(cell)
        tasks[cell.index] = CellTask(spec.experiment, cell.index, spec.seed, settings_of_point[cell.point])

    previous = store.read_manifest() if resume else None
    sessions = list(previous.get("sessions", [])) if previous else []
    manifest: dict[str, Any] = {"schema": SWEEP_SCHEMA, "status": "running", "spec_digest": digest,
                                "spec": spec.to_dict(), "spec_source": spec.source, "n_cells": spec.n_cells,
                                "versions": _versions(), "sessions": sessions}
    store.out.mkdir(parents=True, exist_ok=True)
    store.write_manifest(manifest)

    own_cluster = None
    session: dict[str, Any] = {"started_utc": started, "cells_run": 0, "cells_failed": 0, "cell_wall_s_total": 0.0}
    cluster = ClusterInfo(scheduler="", dashboard=None, n_workers=0, n_threads=0, local=client is None)
    status = "interrupted"  # until the last cell is in: what sweep.json says if anything below raises
    try:
        if pending:
            if client is None:
                client, own_cluster = _local_client(n_workers, len(pending))
            try:
                client.register_plugin(SweepWorkerPlugin(spec.experiment), name=SweepWorkerPlugin.name)
            except Exception as error:  # e.g. a worker without cim-emu installed: bad set-up, not a failed cell
                status = "set-up failed"
                raise ValueError(f"the Dask workers could not be set up for {spec.experiment!r} "
                                 f"({type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}); "
                                 "install the same cim-emu on every worker") from None
            cluster = _cluster_info(client, own_cluster is not None)
            if on_cluster is not None:
                on_cluster(cluster)
            _execute(client, spec, tasks, pending, store, digest, session, done_before=len(done),
                     total=len(cells), progress=progress)
        status = "complete"
    finally:
        if own_cluster is not None:
            client.close()
            own_cluster.close()
        session.update({"finished_utc": _now(), "wall_s": time.perf_counter() - clock, "status": status,
                        "cluster": dataclasses.asdict(cluster)})
        manifest["sessions"] = [*sessions, session]
        manifest["status"] = status
        if status != "complete":
            store.write_manifest(manifest)
    return _finish(spec, store, digest, manifest, session, cluster, clock, figures)


def _execute(client, spec: SweepSpec, tasks: Mapping[int, CellTask], pending: list[Cell], store: ResultStore,
             digest: str, session: dict, *, done_before: int, total: int,
             progress: Callable[[int, int], None] | None) -> None:
    """Submit the pending cells and write each part as its result arrives."""
    from distributed import as_completed

    token = uuid.uuid4().hex[:8]  # unique keys: a resubmitted cell never picks up a stale result
    futures = {client.submit(run_cell, tasks[cell.index], key=f"cim-emu-sweep-{token}-cell-{cell.index}",
                             pure=False): cell for cell in pending}
    done = done_before
    if progress is not None and done_before:
        progress(done_before, total)  # resumed cells count as done from the start
    try:
        # Each result is fetched here, in the calling thread: as_completed(with_results=True) gathers in
        # background tasks, and one that dies on a connection error (seen under heavy load) never reports,
        # which would hang the sweep. An error here is a lost worker or connection, not a failing cell.
        for future in as_completed(futures):
            cell = futures[future]
            try:
                outcome = future.result()
            except Exception as error:
                outcome = CellOutcome(cell.index, {}, f"{type(error).__name__}: {error}".splitlines()[0], 0.0,
                                      "unknown")
            store.write_part(part_record(cell, cell_seed(spec, cell.index), outcome, digest))
            session["cells_run"] += 1
            session["cells_failed"] += outcome.error is not None
            session["cell_wall_s_total"] += outcome.wall_time_s
            done += 1
            if progress is not None:
                progress(done, total)
    finally:
        unfinished = [future for future in futures if not future.done()]
        if unfinished:
            client.cancel(unfinished)


def _finish(spec: SweepSpec, store: ResultStore, digest: str, manifest: dict, session: dict, cluster: ClusterInfo,
            clock: float, draw: bool) -> SweepResult:
    from cim_emu.sweep.plots import write_figures

    records = list(store.read_parts(digest).values())
    axis_names = [axis.name for axis in spec.axes]
    results = store.merge(records, axis_names)
    metrics: list[str] = []
    for record in sorted(records, key=lambda record: record["cell"]):
        metrics.extend(name for name in record["metrics"] if name not in metrics)
    figures = write_figures(records, spec.axes, metrics, store.figures_dir, title=spec.experiment) if draw else []
    failed = sorted((record["cell"], record["error"]) for record in records if record["error"] is not None)
    wall = time.perf_counter() - clock
    session["wall_s"] = wall
    manifest.update({"status": "complete", "n_failed": len(failed), "metrics": metrics,
                     "results": str(pathlib.Path(results).name),
                     "figures": [str(path.relative_to(store.out)) for path in figures],
                     "timing": {"first_started_utc": manifest["sessions"][0]["started_utc"],
                                "finished_utc": _now(),
                                "wall_s_total": sum(s.get("wall_s", 0.0) for s in manifest["sessions"]),
                                "cell_wall_s_total": sum(float(r["wall_time_s"]) for r in records)},
                     "cluster": dataclasses.asdict(cluster)})
    store.write_manifest(manifest)
    return SweepResult(out=str(store.out), n_cells=spec.n_cells, n_run=session["cells_run"], n_failed=len(failed),
                       failed=tuple(failed[:10]), results=str(results), figures=tuple(map(str, figures)),
                       wall_s=wall, cluster=cluster)
