"""``cim-emu fit`` and ``cim-emu device``: outputs, JSON keys, and bad input (exit 2, one line, nothing written)."""

from __future__ import annotations

import json
import pathlib
import shutil

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import calibration_data
import devices
from cim_emu.cli import main
from devices.fit import read_switching

DEVICE_KEYS = {"tmr_at_read", "tmr_low_bias", "r_p_median_ohm", "r_ap_median_ohm", "v50_V", "window_10_90_V",
               "first_peak_s", "pair_margin_sigma", "endurance_cycles"}


@pytest.fixture
def data_copy(tmp_path) -> pathlib.Path:
    target = tmp_path / "data"
    target.mkdir()
    for name in calibration_data.FILE_NAMES:
        with (calibration_data.data_dir() / name).open("rb") as source:
            (target / name).write_bytes(source.read())
    return target


def test_fit_writes_a_card_that_round_trips_and_plots(data_copy, tmp_path, capsys):
    out, plots = tmp_path / "card.json", tmp_path / "plots"
    assert main(["fit", str(data_copy), "--out", str(out), "--plots", str(plots)]) == 0
    card = devices.load_card(out)
    assert card.p_bit.v50_V == pytest.approx(devices.default_card().p_bit.v50_V, rel=1e-6)
    assert {p.name for p in plots.iterdir()} >= {"fig07_tmr_per_array.png", "fig09_pair_states.png",
                                                 "fig11_pulse_width.png", "fig12_voltage_standalone.png",
                                                 "fig13_voltage_array.png"}
    assert "p_bit.v50_V" in capsys.readouterr().out


def test_fit_json_report(data_copy, tmp_path, capsys):
    assert main(["fit", str(data_copy), "--out", str(tmp_path / "c.json"), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert set(report) >= {"card", "fits", "estimates", "summary"}
    assert report["estimates"]["p_bit.v50_V"]["standard_error"] > 0


def test_device_json_keys(capsys):
    assert main(["device", "--json"]) == 0
    figures = json.loads(capsys.readouterr().out)
    assert DEVICE_KEYS <= set(figures)
    assert figures["first_peak_s"] == pytest.approx(700e-12, abs=35e-12)


def _break(path: pathlib.Path, line: int, column: str, value: str) -> None:
    lines = path.read_text().splitlines()
    header = lines[0].split(",")
    cells = lines[line - 1].split(",")
    cells[header.index(column)] = value
    lines[line - 1] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n")


BAD_INPUTS = [
    ("non-numeric", "switching.csv", lambda p: _break(p, 5, "voltage_V", "1.5V"), "line 5, column 'voltage_V'"),
    ("nan", "switching.csv", lambda p: _break(p, 7, "pulse_width_s", "nan"), "line 7, column 'pulse_width_s'"),
    ("negative count", "switching.csv", lambda p: _break(p, 9, "n_switched", "-3"), "line 9, column 'n_switched'"),
    ("more switched than trials", "switching.csv", lambda p: _break(p, 10, "n_switched", "5000"),
     "line 10, column 'n_switched'"),
    ("zero trials", "switching.csv", lambda p: _break(p, 11, "n_trials", "0"), "line 11, column 'n_trials'"),
    ("negative resistance", "resistance.csv", lambda p: _break(p, 4, "resistance_ohm", "-1"),
     "line 4, column 'resistance_ohm'"),
    ("unknown state", "resistance.csv", lambda p: _break(p, 3, "state", "X"), "line 3, column 'state'"),
    ("pair state", "pair_conductance.csv", lambda p: _break(p, 2, "state", "2"), "line 2, column 'state'"),
    ("infinite", "tmr_bias.csv", lambda p: _break(p, 6, "resistance_ap_ohm", "inf"),
     "line 6, column 'resistance_ap_ohm'"),
    ("missing column", "tmr_bias.csv",
     lambda p: p.write_text(p.read_text().replace("resistance_ap_ohm", "r_ap", 1)),
     "missing column 'resistance_ap_ohm'"),
    ("empty file", "switching.csv", lambda p: p.write_text(""), "empty file"),
    ("header only", "pair_conductance.csv", lambda p: p.write_text("pair_id,state,conductance_S\n"), "no data rows"),
    ("bitstream character", "bitstream.txt", lambda p: p.write_text("0101\n01x1\n"), "line 2"),
]


@pytest.mark.parametrize(("case", "file_name", "damage", "expected"), BAD_INPUTS, ids=[c[0] for c in BAD_INPUTS])
def test_bad_input_exits_2_with_one_located_line_and_writes_nothing(data_copy, tmp_path, capsys, case, file_name,
                                                                     damage, expected):
    damage(data_copy / file_name)
    out = tmp_path / "card.json"
    plots = tmp_path / "plots"
    assert main(["fit", str(data_copy), "--out", str(out), "--plots", str(plots)]) == 2
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1
    assert file_name in error and expected in error, error
    assert not out.exists()
    assert not plots.exists()


def test_existing_card_is_untouched_on_bad_input(data_copy, tmp_path):
    out = tmp_path / "card.json"
    out.write_text("previous card")
    (data_copy / "switching.csv").write_text("device_id\n")
    assert main(["fit", str(data_copy), "--out", str(out)]) == 2
    assert out.read_text() == "previous card"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".card")] == []


def test_missing_directory_and_empty_directory(tmp_path, capsys):
    assert main(["fit", str(tmp_path / "nope"), "--out", str(tmp_path / "c.json")]) == 2
    assert "not a directory" in capsys.readouterr().err
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["fit", str(empty), "--out", str(tmp_path / "c.json")]) == 2
    assert "none of the calibration files" in capsys.readouterr().err


def test_subset_directory_fits(data_copy, tmp_path):
    for name in ("switching.csv", "bitstream.txt", "pair_conductance.csv"):
        (data_copy / name).unlink()
    assert main(["fit", str(data_copy), "--out", str(tmp_path / "c.json")]) == 0
    card = devices.load_card(tmp_path / "c.json")
    assert card.p_bit == devices.default_card().p_bit


_CELL = st.one_of(st.text(alphabet="0123456789.-+eEnaif xX,\"'", max_size=8),
                  st.sampled_from(["1", "0", "1000", "1.5", "7e-10", "-1", "nan", "inf", "", "S1", "A1"]))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.lists(_CELL, min_size=0, max_size=8), max_size=6), drop_header=st.booleans())
def test_csv_reader_fuzz_never_crashes_uncleanly(tmp_path, rows, drop_header):
    header = "device_id,array_id,voltage_V,pulse_width_s,n_trials,n_switched"
    lines = ([] if drop_header else [header]) + [",".join(row) for row in rows]
    path = tmp_path / "switching.csv"
    path.write_text("\n".join(lines))
    try:
        table = read_switching(path)
    except devices.DataError as error:
        assert str(path) in str(error)
        return
    # Whatever parsed must satisfy the schema.
    assert (table["n_switched"] <= table["n_trials"]).all()
    assert (table["n_trials"] >= 1).all() and (table["n_switched"] >= 0).all()
    assert (table["pulse_width_s"] > 0).all()


def test_shipped_files_are_found_from_the_package():
    directory = calibration_data.data_dir()
    for name in calibration_data.FILE_NAMES:
        assert (directory / name).is_file(), name
    assert shutil.which("cim-emu") is not None


def test_missing_card_file_is_exit_2(tmp_path, capsys):
    assert main(["device", "--card", str(tmp_path / "missing.json")]) == 2
    assert "missing.json" in capsys.readouterr().err


def test_wheel_ships_the_calibration_data_and_default_card(tmp_path):
    import subprocess
    import sys
    import zipfile

    root = pathlib.Path(__file__).resolve().parents[3]
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(root), "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(tmp_path)], check=True, capture_output=True)
    (wheel,) = tmp_path.glob("cim_emu-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for name in calibration_data.FILE_NAMES + ("truth.json",):
        assert f"calibration_data/{name}" in names
    assert "devices/cards/default.json" in names


def test_fit_reports_the_operating_point_and_the_unconstrained(data_copy, tmp_path, capsys):
    for name in ("resistance.csv", "tmr_bias.csv", "pair_conductance.csv", "bitstream.txt"):
        (data_copy / name).unlink()
    out = tmp_path / "card.json"
    assert main(["fit", str(data_copy), "--out", str(out), "--pulse-width", "6.5e-10"]) == 0
    text = capsys.readouterr().out
    assert "operating point:" in text and "given (--pulse-width)" in text
    assert "unconstrained by the data" in text and "data_bit.tmr0" in text
    card = devices.load_card(out)
    assert card.p_bit.pulse_width_s == 6.5e-10
    assert devices.summarize(card).switching_probability_at_operating_point == pytest.approx(0.5, abs=1e-9)
    assert main(["fit", str(data_copy), "--out", str(out), "--pulse-width", "nan"]) == 2
    assert "--pulse-width" in capsys.readouterr().err
