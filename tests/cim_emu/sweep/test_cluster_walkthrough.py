"""The docs' "joining a cluster" walk-through: `dask scheduler` + `dask worker` on localhost, then the CLI.

Everything listens on 127.0.0.1 only, every wait is bounded, and every process started here is ended here.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time

import pyarrow.parquet as pq
import pytest

SPEC = """\
experiment = "bench"
seed = 4
replicas = 2

[axes]
"energy.write.pulse_width_s" = { start = 5e-10, stop = 9e-10, num = 3 }
"""


def _stop(process: subprocess.Popen) -> None:
    """End a process started here, and its children (it leads its own session), by id."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=15)


@pytest.mark.slow
def test_scheduler_and_worker_on_localhost(tmp_path):
    dask = shutil.which("dask")
    if dask is None:
        pytest.skip("the dask command is not on PATH")
    scheduler_file = tmp_path / "scheduler.json"
    logs = {name: open(tmp_path / f"{name}.log", "w") for name in ("scheduler", "worker")}
    processes = []
    try:
        processes.append(subprocess.Popen(
            [dask, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
             "--scheduler-file", str(scheduler_file)],
            stdout=logs["scheduler"], stderr=subprocess.STDOUT, start_new_session=True))
        deadline = time.monotonic() + 60
        while not scheduler_file.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert scheduler_file.exists(), (tmp_path / "scheduler.log").read_text()
        address = json.loads(scheduler_file.read_text())["address"]
        assert address.startswith("tcp://127.0.0.1:")
        processes.append(subprocess.Popen(
            [dask, "worker", address, "--nworkers", "2", "--nthreads", "1", "--host", "127.0.0.1",
             "--no-dashboard"],
            stdout=logs["worker"], stderr=subprocess.STDOUT, start_new_session=True))
        spec_file = tmp_path / "spec.toml"
        spec_file.write_text(SPEC)
        out = tmp_path / "sweep"
        # The CLI waits for the scheduler, then for cells; workers joining late still get the set-up plugin.
        completed = subprocess.run(
            [sys.executable, "-m", "cim_emu", "sweep", str(spec_file), "--out", str(out), "--scheduler", address],
            capture_output=True, text=True, timeout=300)
        assert completed.returncode == 0, completed.stderr
        assert f"scheduler {address}" in completed.stderr
        rows = pq.read_table(out / "results.parquet").to_pylist()
        assert [row["cell"] for row in rows] == list(range(6))
        assert all(row["error"] is None for row in rows)
        # Replicas of a deterministic model agree; the pulse width changes the in-situ throughput.
        throughput = [row["in_situ_throughput_bit_per_ns"] for row in rows]
        assert throughput[0] == throughput[1] and throughput[0] != throughput[2]
        manifest = json.loads((out / "sweep.json").read_text())
        assert manifest["cluster"]["scheduler"] == address and not manifest["cluster"]["local"]
    finally:
        for process in reversed(processes):
            _stop(process)
        for handle in logs.values():
            handle.close()


@pytest.mark.slow
def test_ctrl_c_keeps_finished_cells_and_resume_completes(tmp_path):
    spec_file = tmp_path / "spec.toml"
    spec_file.write_text('experiment = "trng"\nseed = 6\n[options]\nn_bits = 400000\nn_devices = 2\n'
                         '[axes]\n"card.p_bit.sigma_pulse_V" = { start = 0.2, stop = 0.4, num = 10 }\n')
    out = tmp_path / "sweep"
    command = [sys.executable, "-m", "cim_emu", "sweep", str(spec_file), "--out", str(out), "--workers", "1"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               start_new_session=True)
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and process.poll() is None and \
                len(list((out / "parts").glob("cell-*.json")) if (out / "parts").exists() else []) < 2:
            time.sleep(0.1)
        assert process.poll() is None, process.communicate()
        process.send_signal(signal.SIGINT)  # Ctrl-C, to the command only
        _, stderr = process.communicate(timeout=120)
    finally:
        _stop(process)
    assert process.returncode == 130, stderr
    assert "run again with --resume" in stderr and "Traceback" not in stderr
    kept = len(list((out / "parts").glob("cell-*.json")))
    assert 2 <= kept < 10 and not (out / "results.parquet").exists()
    assert json.loads((out / "sweep.json").read_text())["status"] == "interrupted"
    resumed = subprocess.run([*command, "--resume"], capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert f"{10 - kept} run now, {kept} kept from before" in resumed.stdout
    rows = pq.read_table(out / "results.parquet").to_pylist()
    assert [row["cell"] for row in rows] == list(range(10)) and all(row["error"] is None for row in rows)
