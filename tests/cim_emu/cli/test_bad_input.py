"""Issue 16, section 2: every bad input exits 2 with one located line, writes nothing and loses no user file."""

from __future__ import annotations

import json
import os
import pathlib
import signal
import subprocess
import sys
import time

import pytest
import torch

import calibration_data
import devices
from cim_emu.cli import main
from cim_emu.cli._outputs import Staging, remove_stale_staging


def _copy(names, target: pathlib.Path) -> pathlib.Path:
    target.mkdir(exist_ok=True)
    for name in names:
        with (calibration_data.data_dir() / name).open("rb") as source:
            (target / name).write_bytes(source.read())
    return target


def _exit_2(capsys, argv, *expected) -> str:
    code = main([str(a) for a in argv])
    error = capsys.readouterr().err.strip()
    assert code == 2, error
    assert len(error.splitlines()) == 1, error
    assert "Traceback" not in error
    for text in expected:
        assert text in error, error
    return error


def _listing(directory: pathlib.Path) -> list[str]:
    return sorted(str(p.relative_to(directory)) for p in directory.rglob("*"))


# --- data loss ------------------------------------------------------------------------------------------------

def test_demo_never_renames_a_users_file(tmp_path, capsys):
    user_file = tmp_path / "f"
    user_file.write_text("x\n")
    _exit_2(capsys, ["demo", "--out", user_file, "--stages", "bench"], str(user_file), "not a directory")
    assert user_file.read_text() == "x\n"
    assert _listing(tmp_path) == ["f"]


def test_stale_staging_of_a_killed_run_is_removed(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = tmp_path / f".report.staging-{dead.pid}-abc"
    stale.mkdir()
    (stale / "index.html").write_text("half")
    ours = tmp_path / f".report.staging-{os.getpid()}-def"
    ours.mkdir()
    remove_stale_staging(tmp_path, "report")
    assert not stale.exists() and ours.exists()  # a live process's staging is never touched


def test_staging_is_removed_on_any_exception_and_never_replaces_a_file(tmp_path):
    with pytest.raises(KeyboardInterrupt), Staging(tmp_path / "out") as staging:
        staging.path("x").write_text("partial")
        raise KeyboardInterrupt
    assert _listing(tmp_path) == []
    (tmp_path / "out").write_text("user data")
    with Staging(tmp_path / "out") as staging:
        staging.path("d").mkdir()
        (staging.path("d") / "a.png").write_text("figure")
        with pytest.raises(ValueError, match="not a directory"):
            staging.publish_directory("d", tmp_path / "out")
    assert (tmp_path / "out").read_text() == "user data"
    assert _listing(tmp_path) == ["out"]


def _wait_for(predicate, timeout: float = 60.0) -> None:
    start = time.monotonic()
    while not predicate():
        if time.monotonic() - start > timeout:
            raise TimeoutError
        time.sleep(0.05)


@pytest.mark.parametrize(("signal_number", "code", "word"), [(signal.SIGTERM, 143, "terminated"),
                                                              (signal.SIGINT, 130, "interrupted")])
def test_a_signal_during_demo_leaves_nothing_and_prints_one_line(tmp_path, signal_number, code, word):
    # A job started in the background (e.g. `pytest &`) inherits an ignored SIGINT, and the CLI rightly leaves an
    # ignored SIGINT ignored; the child starts as a foreground command would, with Python's own SIGINT handler.
    script = ("import signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
              "from cim_emu.cli import main; sys.exit(main())")
    process = subprocess.Popen([sys.executable, "-c", script,
                                "demo", "--out", str(tmp_path / "report"), "--stages", "device"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                               restore_signals=True)
    try:
        _wait_for(lambda: any(tmp_path.iterdir()))  # the staging folder exists: the demo is at work
        process.send_signal(signal_number)
        _, error = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == code
    lines = error.strip().splitlines()
    assert len(lines) == 1 and word in lines[0], error
    assert _listing(tmp_path) == []


# --- usage errors ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("argv", [["trng"], ["fit"], ["nope"], ["trng", "--n-bits", "x", "--out", "o"],
                                  ["sllg", "sweep", "--voltages", "1"]])
def test_usage_errors_are_one_line(capsys, argv):
    assert main(argv) == 2
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1 and "error:" in error and "--help" in error, error


# --- CSV and card contents ------------------------------------------------------------------------------------

def _replace_cell(path: pathlib.Path, line: int, column: str, value: str) -> None:
    lines = path.read_text().splitlines()
    header = lines[0].split(",")
    cells = lines[line - 1].split(",")
    cells[header.index(column)] = value
    lines[line - 1] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n")


@pytest.mark.parametrize("value", ["1e30", "99999999999999999999"])
def test_huge_integer_cells_are_located(tmp_path, capsys, value):
    data = _copy(["switching.csv"], tmp_path / "data")
    _replace_cell(data / "switching.csv", 4, "n_trials", value)
    _exit_2(capsys, ["fit", data, "--out", tmp_path / "c.json"], "switching.csv, line 4, column 'n_trials'",
            "<= 9.0072e+15")
    assert _listing(tmp_path) == ["data", "data/switching.csv"]


def test_resistance_of_one_device_is_refused(tmp_path, capsys):
    data = tmp_path / "data"
    data.mkdir()
    (data / "resistance.csv").write_text("array_id,device_id,state,read_voltage_V,resistance_ohm\n"
                                         "A1,D1,P,0.2,90000\nA1,D1,AP,0.2,150000\n")
    _exit_2(capsys, ["fit", data, "--out", tmp_path / "c.json"], "resistance.csv", "at least two")


def test_a_huge_resistance_is_refused(tmp_path, capsys):
    data = _copy(["resistance.csv"], tmp_path / "data")
    _replace_cell(data / "resistance.csv", 3, "resistance_ohm", "1e300")
    _exit_2(capsys, ["fit", data, "--out", tmp_path / "c.json"], "line 3, column 'resistance_ohm'")


def test_pair_states_without_spread_are_refused(tmp_path, capsys):
    data = tmp_path / "data"
    data.mkdir()
    rows = [f"p{i},{state},{value}" for i in range(3) for state, value in (("+1", 2e-5), ("0", 0.0), ("-1", -2e-5))]
    (data / "pair_conductance.csv").write_text("pair_id,state,conductance_S\n" + "\n".join(rows) + "\n")
    _exit_2(capsys, ["fit", data, "--out", tmp_path / "c.json"], "pair_conductance.csv", "spread of zero")


def _card_with(tmp_path: pathlib.Path, edit) -> pathlib.Path:
    data = devices.default_card().to_dict()
    edit(data)
    path = tmp_path / "card.json"
    path.write_text(json.dumps(data))
    return path


@pytest.mark.parametrize(("edit", "expected"), [
    (lambda d: d["data_bit"].update(diameter_m=1e-300), "data_bit.diameter_m"),
    (lambda d: d.update(provenance=[1, 2]), "provenance"),
    (lambda d: d["p_bit"].update(v50_V=10 ** 400), "p_bit.v50_V"),
    (lambda d: d["p_bit"].update(v50_V="1.5"), "p_bit.v50_V"),
], ids=["tiny diameter", "provenance list", "400-digit integer", "text number"])
def test_bad_cards_are_located(tmp_path, capsys, edit, expected):
    _exit_2(capsys, ["device", "--card", _card_with(tmp_path, edit)], "card.json", expected)


def test_deeply_nested_and_undecodable_cards(tmp_path, capsys):
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    _exit_2(capsys, ["device", "--card", deep], "deep.json", "nested too deeply")
    latin = tmp_path / "latin.json"
    latin.write_bytes(b'{\n "name": "caf\xe9"}')
    _exit_2(capsys, ["device", "--card", latin], "latin.json, line 2", "not valid UTF-8")


@pytest.mark.parametrize(("content", "expected"), [
    (b"device_id,array_id\n\xff\xfe", "line 2"),
    ("device_id,array_id,voltage_V\n".encode("utf-16"), "UTF-16"),
], ids=["invalid utf-8", "utf-16"])
def test_undecodable_csv_names_file_and_line(tmp_path, capsys, content, expected):
    data = tmp_path / "data"
    data.mkdir()
    (data / "switching.csv").write_bytes(content)
    _exit_2(capsys, ["fit", data, "--out", tmp_path / "c.json"], "switching.csv", expected)


def test_bom_and_comment_lines_are_read(tmp_path):
    data = _copy(["tmr_bias.csv"], tmp_path / "data")
    text = (data / "tmr_bias.csv").read_text()
    (data / "tmr_bias.csv").write_bytes(b"\xef\xbb\xbf# measured on probe station 2\n" + text.encode())
    assert main(["fit", str(data), "--out", str(tmp_path / "c.json")]) == 0
    assert devices.load_card(tmp_path / "c.json").provenance["files"] == ["tmr_bias.csv"]


@pytest.mark.parametrize(("rows", "expected"), [
    (["S1,standalone,1.5,7e-10,100,50"], "1 distinct voltage"),
    ([f"S1,standalone,1.5,{w}e-10,100,{k}" for w, k in ((5, 20), (7, 50), (9, 70))], "1 distinct voltage"),
    ([f"S1,standalone,-{v},7e-10,100,0" for v in (1, 2, 3, 4)], "never switched"),
], ids=["one row", "constant voltage", "negative voltages"])
def test_degenerate_switching_data_say_what_to_add(tmp_path, capsys, rows, expected):
    data = tmp_path / "data"
    data.mkdir()
    (data / "switching.csv").write_text("device_id,array_id,voltage_V,pulse_width_s,n_trials,n_switched\n"
                                        + "\n".join(rows) + "\n")
    _exit_2(capsys, ["fit", data, "--out", tmp_path / "c.json"], "switching.csv", expected)
    assert _listing(tmp_path) == ["data", "data/switching.csv"]


def _strict_json(text: str):
    def refuse(token):
        raise AssertionError(f"{token} is not JSON")

    return json.loads(text, parse_constant=refuse)


def test_an_all_zero_bitstream_gives_a_valid_json_card(tmp_path, capsys):
    data = tmp_path / "data"
    data.mkdir()
    (data / "bitstream.txt").write_text("0" * 1000 + "\n")
    assert main(["fit", str(data), "--out", str(tmp_path / "c.json")]) == 0
    capsys.readouterr()
    card = _strict_json((tmp_path / "c.json").read_text())
    assert card["provenance"]["files"] == ["bitstream.txt"]
    # The lag-1 autocorrelation of a constant stream is undefined: null, not a bare NaN token.
    assert card["provenance"]["goodness"]["bitstream.txt"]["independence_z"] is None
    assert main(["fit", str(data), "--out", str(tmp_path / "c.json"), "--json"]) == 0
    _strict_json(capsys.readouterr().out)


# --- flags ----------------------------------------------------------------------------------------------------

def test_unavailable_torch_devices_are_refused(tmp_path, capsys):
    out = tmp_path / "bits.txt"
    _exit_2(capsys, ["trng", "--n-bits", "100", "--torch-device", "foo", "--out", out], "--torch-device", "foo")
    if not torch.cuda.is_available():
        _exit_2(capsys, ["trng", "--n-bits", "100", "--torch-device", "cuda", "--out", out], "CUDA")
        _exit_2(capsys, ["sllg", "sweep", "--voltages", "1", "--widths", "1ns", "--trials", "1", "--device", "cuda",
                         "--out", tmp_path / "s.csv"], "--device", "CUDA")
    assert _listing(tmp_path) == []


@pytest.mark.parametrize(("argv", "expected"), [
    (["--n-bits", str(10 ** 12)], "--max-bits"),
    (["--n-bits", "2000", "--devices", str(10 ** 9)], "--max-bits"),
    (["--n-bits", "1000", "--untrimmed", "--voltage", "nan"], "--voltage"),
    (["--n-bits", "1000", "--pulse-width", "nan"], "--pulse-width"),
    (["--n-bits", "1000", "--pulse-width", "inf"], "--pulse-width"),
    (["--n-bits", "1000", "--pulse-width", "-7e-10"], "--pulse-width"),
    (["--n-bits", "50", "--test"], "at least 100 bits"),
    (["--n-bits", "1000", "--seed", "-1"], "--seed"),
], ids=["n-bits 1e12", "devices 1e9", "voltage nan", "width nan", "width inf", "width negative", "too short for test",
        "negative seed"])
def test_trng_flags_are_checked_before_any_work(tmp_path, capsys, argv, expected):
    _exit_2(capsys, ["trng", *argv, "--out", tmp_path / "bits.txt"], expected)
    assert _listing(tmp_path) == []


def test_outputs_are_checked_before_any_work(tmp_path, capsys):
    _exit_2(capsys, ["trng", "--n-bits", "1000", "--test", "--plot", "/proc/x/p.png", "--out", tmp_path / "bits.txt"],
            "--plot", "/proc/x/p.png")
    _exit_2(capsys, ["fit", "--plots", tmp_path / "P", "--out", "/proc/x/c.json"], "--out", "/proc/x/c.json")
    (tmp_path / "adir").mkdir()
    _exit_2(capsys, ["trng", "--n-bits", "100", "--out", tmp_path / "adir"], "is a directory")
    assert _listing(tmp_path) == ["adir"]


@pytest.mark.parametrize(("argv", "expected"), [
    (["sweep", "--voltages", "0:1:1e-12", "--widths", "1ns", "--trials", "10"], "--max-values"),
    (["sweep", "--voltages", "1,2", "--widths", "1ns", "--trials", str(10 ** 9)], "--max-pulses"),
    (["sweep", "--voltages", "nan", "--widths", "1ns", "--trials", "10"], "--voltages"),
    (["sweep", "--voltages", "1", "--widths", "1ns", "--trials", "10", "--dt", "0"], "--dt"),
    (["trace", "--voltage", "1.5", "--width", "1ns", "--duration", "1s"], "--max-steps"),
    (["window", "--width", "inf"], "--width"),
], ids=["sweep 1e12 voltages", "sweep 1e9 trials", "sweep nan", "zero dt", "trace 1 s", "window inf"])
def test_sllg_work_beyond_the_limits_is_refused_up_front(tmp_path, capsys, argv, expected):
    _exit_2(capsys, ["sllg", *argv, "--out", tmp_path / "x.csv"] if argv[0] != "window" else ["sllg", *argv],
            expected)
    assert _listing(tmp_path) == []


@pytest.mark.parametrize(("argv", "expected"), [
    (["--n", str(10 ** 10)], ["--n 10000000000", "1e+10 images per method", "--allow-large"]),
    (["--bits", "100000"], ["--bits 100000", "1.311e+10 noise bits", "--allow-large"]),
    (["--n", "1000", "--steps", "5000", "--ablation"], ["1.5e+07 image steps", "--allow-large"]),
    (["--device", "foo"], ["--device", "'foo'"]),
    (["--device", ""], ["--device", "''"]),
], ids=["n 1e10", "bits 1e5", "image steps", "device foo", "device empty"])
def test_generate_work_beyond_the_limits_is_refused_up_front(tmp_path, capsys, argv, expected):
    _exit_2(capsys, ["generate", *argv, "--no-umap", "--out", tmp_path / "deep" / "gen"], *expected)
    assert _listing(tmp_path) == []


def test_generate_checks_its_output_folder_before_any_work(tmp_path, capsys):
    (tmp_path / "a_file").write_text("user data")
    _exit_2(capsys, ["generate", "--n", "8", "--steps", "1", "--out", tmp_path / "a_file"], "--out", "not a directory")
    _exit_2(capsys, ["generate", "--n", "8", "--steps", "1", "--out", "/proc/x/gen"], "--out", "/proc/x/gen")
    assert _listing(tmp_path) == ["a_file"] and (tmp_path / "a_file").read_text() == "user data"


def test_classify_checks_its_outputs_before_any_work(tmp_path, capsys):
    (tmp_path / "a_file").write_text("user data")
    _exit_2(capsys, ["classify", "--out", tmp_path / "a_file"], "--out", "not a directory")
    _exit_2(capsys, ["classify", "--out", "/proc/x/c"], "--out /proc/x/c", "cannot write")
    _exit_2(capsys, ["classify", "--train", "--weights", "/proc/x/w.npz"], "--weights /proc/x/w.npz")
    _exit_2(capsys, ["classify", "--train", "--weights", tmp_path], "--weights", "is a directory")
    assert _listing(tmp_path) == ["a_file"] and (tmp_path / "a_file").read_text() == "user data"


@pytest.mark.parametrize("error", [MemoryError(), RuntimeError("[enforce fail at alloc_cpu.cpp:127] "
                                                               "DefaultCPUAllocator: can't allocate memory")])
def test_out_of_memory_is_one_line_exit_2(monkeypatch, capsys, error):
    import cim_emu.cli.cmd_device

    def run(args):
        raise error

    monkeypatch.setattr(cim_emu.cli.cmd_device, "run", run)
    _exit_2(capsys, ["device"], "out of memory")


def test_a_real_bug_keeps_its_traceback(monkeypatch):
    import cim_emu.cli.cmd_device

    def run(args):
        raise RuntimeError("a bug")

    monkeypatch.setattr(cim_emu.cli.cmd_device, "run", run)
    with pytest.raises(RuntimeError, match="a bug"):
        main(["device"])
