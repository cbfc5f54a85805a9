"""``cim-emu sllg``: outputs in the calibration schema, parameter files, and bad input (exit 2, nothing written)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from cim_emu.cli import main
from devices.fit import read_switching
from devices.macrospin import MacrospinParams


def test_sweep_writes_a_fit_ready_csv_and_a_plot(tmp_path, capsys):
    out, plot = tmp_path / "switching.csv", tmp_path / "map.png"
    args = ["sllg", "sweep", "--voltages", "1.0:2.0:0.5", "--widths", "500ps,0.7ns", "--trials", "20",
            "--out", str(out), "--plot", str(plot), "--devices", "2", "--seed", "3"]
    assert main(args) == 0
    table = read_switching(out)
    assert len(table["voltage_V"]) == 2 * 3 * 2
    np.testing.assert_allclose(sorted(set(table["pulse_width_s"])), [5e-10, 7e-10])
    assert plot.read_bytes()[:4] == b"\x89PNG"
    assert "V50" in capsys.readouterr().out
    first = out.read_text()
    assert main(args) == 0 and out.read_text() == first  # same seed, same file


def test_params_file_round_trip_and_derived_json(tmp_path, capsys):
    written = tmp_path / "params.json"
    assert main(["sllg", "params", "--write", str(written), "--json"]) == 0
    derived = json.loads(capsys.readouterr().out)["derived"]
    assert derived["effective_anisotropy_field_T"] == pytest.approx(MacrospinParams().effective_anisotropy_field_T)
    data = json.loads(written.read_text())
    data["bias_field_T"] = 0.03
    written.write_text(json.dumps(data))
    assert main(["sllg", "params", "--params", str(written), "--json"]) == 0
    half_period = json.loads(capsys.readouterr().out)["derived"]["precession_half_period_s"]
    assert half_period == pytest.approx(MacrospinParams(bias_field_T=0.03).precession_half_period_s)


def test_trace_and_window(tmp_path, capsys):
    out = tmp_path / "trace.csv"
    assert main(["sllg", "trace", "--voltage", "2.0", "--width", "700ps", "--trials", "2", "--duration", "2ns",
                 "--interval", "10ps", "--out", str(out)]) == 0
    lines = out.read_text().splitlines()
    assert lines[0] == "time_s,trial,voltage_V,m_x,m_y,m_z" and len(lines) == 1 + 201 * 2
    capsys.readouterr()
    assert main(["sllg", "window", "--voltages", "1.2:1.8:0.1", "--trials", "40", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert set(report) >= {"thermal_only", "with_jitter"}
    assert report["thermal_only"]["pulse_jitter_V"] == 0.0


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--voltages", "1.0:x"], "--voltages"),
        (["--widths", "700parsecs"], "--widths"),
        (["--trials", "0"], "--trials"),
        (["--dt", "1ns"], "time_step_s"),
    ],
)
def test_bad_sweep_arguments_exit_2_without_output(tmp_path, capsys, extra, message):
    out = tmp_path / "switching.csv"
    base = {"--voltages": "1.5", "--widths": "700ps", "--trials": "5", "--out": str(out)}
    for flag, value in zip(extra[::2], extra[1::2], strict=True):
        base[flag] = value
    args = ["sllg", "sweep", *[item for pair in base.items() for item in pair]]
    assert main(args) == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and message in error[0]
    assert not out.exists()


def test_bad_parameter_file_names_file_and_field(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"bias_feld_T": 0.02}))
    assert main(["sllg", "params", "--params", str(bad)]) == 2
    error = capsys.readouterr().err
    assert str(bad) in error and "bias_feld_T" in error
    bad.write_text(json.dumps({"damping": "0.02"}))
    assert main(["sllg", "params", "--params", str(bad)]) == 2
    assert "damping" in capsys.readouterr().err
