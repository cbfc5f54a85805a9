"""Sweeps on real Dask clusters: identity across worker counts, resume, failing cells, killed workers, CLI."""

from __future__ import annotations

import dataclasses
import json
import math
import os
import signal

import pyarrow.parquet as pq
import pytest
from distributed import Client, LocalCluster

from cim_emu.cli import main
from cim_emu.sweep import Experiment, Group, parse_spec, register_experiment, run, run_one_cell

# Tiny TRNG sweep: 2 x 2 grid points x 2 replicas of 256-bit streams (milliseconds a cell once warm).
TINY = {"experiment": "trng", "seed": 11, "replicas": 2, "options": {"n_bits": 256},
        "axes": {"card.p_bit.sigma_v50_device_V": [0.0, 0.05], "options.mode": ["reset", "toggle"]}}
# Columns that describe where and how fast a cell ran, not what it computed.
RUN_COLUMNS = ("wall_time_s", "worker")


def _rows(directory) -> list[dict]:
    rows = pq.read_table(os.path.join(directory, "results.parquet")).to_pylist()
    return [{key: value for key, value in row.items() if key not in RUN_COLUMNS} for row in rows]


def _same(rows_a: list[dict], rows_b: list[dict]) -> bool:
    """Bit-identical rows (NaN equal to NaN: a NIST test not applicable at this length is NaN in both)."""
    def canonical(row):
        return {key: ("nan" if isinstance(value, float) and math.isnan(value) else value) for key, value in row.items()}
    return [canonical(row) for row in rows_a] == [canonical(row) for row in rows_b]


@pytest.fixture(scope="module")
def in_process_client():
    """One single-threaded worker in this process (fast to start; sees experiments registered here)."""
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=":0") as cluster, \
            Client(cluster) as client:
        yield client


@pytest.fixture(scope="module")
def reference(tmp_path_factory, in_process_client):
    """The tiny sweep run on one worker: the rows every other run must reproduce."""
    out = tmp_path_factory.mktemp("reference") / "sweep"
    result = run(TINY, out, in_process_client, figures=False)
    assert result.ok and result.n_run == 8
    return _rows(out)


def test_one_and_two_worker_processes_give_identical_rows(reference, tmp_path):
    # A real LocalCluster of 2 processes, started and stopped here.
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=":0") as cluster, Client(cluster) as client:
        result = run(TINY, tmp_path / "two", client, figures=False)
        workers = client.run(os.getpid)
    assert result.ok and result.cluster.n_workers == 2
    assert _same(_rows(tmp_path / "two"), reference)
    table = pq.read_table(tmp_path / "two" / "results.parquet")
    assert table.column("cell").to_pylist() == list(range(8))
    assert {worker.split(":")[1] for worker in table.column("worker").to_pylist()} <= {str(p) for p in
                                                                                      workers.values()}
    # sweep.json holds the spec, package versions, cluster size and timing.
    manifest = json.loads((tmp_path / "two" / "sweep.json").read_text())
    assert manifest["status"] == "complete" and manifest["cluster"]["n_workers"] == 2
    assert manifest["spec"]["axes"][0]["name"] == "card.p_bit.sigma_v50_device_V"
    assert manifest["versions"]["dask"] and manifest["timing"]["wall_s_total"] > 0
    # A row equals its cell rerun alone in this process.
    spec = parse_spec(TINY)
    alone = run_one_cell(spec, 5)
    assert alone.metrics["ones_fraction_mean"] == reference[5]["ones_fraction_mean"]
    assert alone.metrics["nist_pass_fraction"] == reference[5]["nist_pass_fraction"]


def test_interrupt_keeps_finished_cells_and_resume_completes(reference, tmp_path, in_process_client):
    out = tmp_path / "sweep"

    def interrupt_after_three(done, total):
        if done == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run(TINY, out, in_process_client, progress=interrupt_after_three, figures=False)
    kept = sorted(os.listdir(out / "parts"))
    assert len(kept) == 3 and not (out / "results.parquet").exists()
    assert json.loads((out / "sweep.json").read_text())["status"] == "interrupted"
    # Without --resume the directory is refused; with it only the 5 missing cells run.
    with pytest.raises(ValueError, match="holds a sweep already; pass --resume"):
        run(TINY, out, in_process_client)
    calls = []
    result = run(TINY, out, in_process_client, resume=True, figures=False,
                 progress=lambda done, total: calls.append((done, total)))
    assert result.ok and result.n_run == 5
    assert calls == [(done, 8) for done in range(3, 9)]  # the bar starts at the cells kept
    assert _same(_rows(out), reference)
    # A different spec cannot resume into this directory.
    with pytest.raises(ValueError, match="records a different spec"):
        run({**TINY, "seed": 12}, out, in_process_client, resume=True)


@dataclasses.dataclass(frozen=True, kw_only=True)
class _Options:
    x: float = 1.0


def _square_or_fail(settings, stream):
    if settings["options"].x < 0:
        raise RuntimeError(f"negative x = {settings['options'].x}")
    return {"square": settings["options"].x ** 2, "draw": float(stream.numpy_generator().random())}


def test_a_failing_cell_is_recorded_and_the_sweep_goes_on(tmp_path, in_process_client, capsys):
    register_experiment(Experiment(name="test-square", description="x^2, fails for x < 0",
                                   groups=(Group("options", lambda context: _Options(), "x"),),
                                   run=_square_or_fail))
    spec = {"experiment": "test-square", "seed": 3, "axes": {"options.x": [1.0, -2.0, 3.0]}}
    result = run(spec, tmp_path / "lib", in_process_client)
    assert result.n_failed == 1 and result.failed == ((1, "RuntimeError: negative x = -2.0"),)
    rows = pq.read_table(tmp_path / "lib" / "results.parquet").to_pylist()
    assert [row["square"] for row in rows][::2] == [1.0, 9.0] and rows[1]["square"] is None
    assert rows[1]["error"] == "RuntimeError: negative x = -2.0" and rows[0]["error"] is None
    part = json.loads((tmp_path / "lib" / "parts" / "cell-000001.json").read_text())
    assert "Traceback" in part["traceback"]
    # One figure per metric.
    manifest = json.loads((tmp_path / "lib" / "sweep.json").read_text())
    assert manifest["metrics"] == ["square", "draw"] and manifest["n_failed"] == 1
    assert sorted(os.listdir(tmp_path / "lib" / "figures")) == ["draw.png", "square.png"]
    # The failed cell (only) reruns on resume.
    rerun = run(spec, tmp_path / "lib", in_process_client, resume=True, figures=False)
    assert rerun.n_run == 1 and rerun.n_failed == 1
    # The CLI on the same (in-process) scheduler: exit 1 at the end, every cell recorded.
    spec_file = tmp_path / "square.toml"
    spec_file.write_text('experiment = "test-square"\nseed = 3\n[axes]\n"options.x" = [1.0, -2.0, 3.0]\n')
    code = main(["sweep", str(spec_file), "--out", str(tmp_path / "cli"), "--scheduler",
                 in_process_client.scheduler.address])
    captured = capsys.readouterr()
    assert code == 1 and "1 of 3 cells failed" in captured.err
    assert _same(_rows(tmp_path / "cli"), _rows(tmp_path / "lib"))


def _cold_warm_up():
    raise ImportError("no module named 'missing_dependency'")


def test_workers_that_cannot_be_set_up_stop_the_sweep_before_any_cell(tmp_path, in_process_client):
    register_experiment(Experiment(name="test-unwarmable", description="its warm-up fails",
                                   groups=(Group("options", lambda context: _Options(), "x"),),
                                   run=_square_or_fail, warm_up=_cold_warm_up))
    with pytest.raises(ValueError, match="could not be set up for 'test-unwarmable' .*missing_dependency"):
        run({"experiment": "test-unwarmable"}, tmp_path / "out", in_process_client)
    assert not (tmp_path / "out" / "parts").exists()
    assert json.loads((tmp_path / "out" / "sweep.json").read_text())["status"] == "set-up failed"
    in_process_client.unregister_worker_plugin("cim-emu-sweep")


@pytest.mark.parametrize("args, expected", [
    (['experiment = "trng"\n[axes]\n"card.p_bit.sigma_v50" = [0.1]\n'], "axes.card.p_bit.sigma_v50"),
    (['experiment = "trng"\n[axes]\n"options.n_bits" = []\n'], "axes.options.n_bits: an empty axis"),
    (['experiment = "trng"\n[options]\nn_bits = "many"\n'], "options.n_bits: expected an integer"),
])
def test_cli_bad_spec_exits_2_naming_the_key_and_writes_nothing(args, expected, tmp_path, capsys):
    spec_file = tmp_path / "spec.toml"
    spec_file.write_text(args[0])
    out = tmp_path / "out"
    code = main(["sweep", str(spec_file), "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 2 and not out.exists()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("cim-emu sweep: error: ") and expected in lines[0], lines
    assert "Traceback" not in captured.err


def test_cli_refuses_workers_with_a_scheduler_and_a_dead_scheduler(tmp_path, capsys):
    spec_file = tmp_path / "spec.toml"
    spec_file.write_text('experiment = "bench"\n')
    assert main(["sweep", str(spec_file), "--out", str(tmp_path / "a"), "--scheduler", "tcp://127.0.0.1:9",
                 "--workers", "2"]) == 2
    assert "--workers sizes the local cluster" in capsys.readouterr().err
    assert main(["sweep", str(spec_file), "--out", str(tmp_path / "b"), "--scheduler", "tcp://127.0.0.1:9",
                 "--timeout", "1"]) == 2
    assert "no Dask scheduler answered" in capsys.readouterr().err
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


@pytest.mark.slow
def test_a_killed_worker_loses_and_duplicates_nothing(tmp_path):
    # Cells long enough (~0.1 s) that the other worker is mid-cell when one is killed.
    spec = {"experiment": "trng", "seed": 2, "options": {"n_bits": 200_000, "n_devices": 2},
            "axes": {"card.p_bit.sigma_pulse_V": {"start": 0.2, "stop": 0.4, "num": 12}}}
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=":0") as cluster, Client(cluster) as client:
        pids = client.run(os.getpid)
        victim = sorted(pids.values())[0]
        killed = []

        def kill_once(done, total):
            if done == 2 and not killed:
                os.kill(victim, signal.SIGKILL)
                killed.append(victim)

        result = run(spec, tmp_path / "sweep", client, progress=kill_once, figures=False)
    assert killed and result.ok and result.n_run == 12
    rows = pq.read_table(tmp_path / "sweep" / "results.parquet").to_pylist()
    assert [row["cell"] for row in rows] == list(range(12))
    assert len(os.listdir(tmp_path / "sweep" / "parts")) == 12
    parsed = parse_spec(spec)
    for index in (0, 7, 11):  # rows equal their cells rerun alone, whichever worker ran them
        alone = run_one_cell(parsed, index)
        assert alone.metrics["ones_fraction_mean"] == rows[index]["ones_fraction_mean"]
