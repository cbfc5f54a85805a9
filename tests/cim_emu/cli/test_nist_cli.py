"""``cim-emu nist``: output formats, exit codes, bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest

from cim_emu.cli import main
from cim_emu.randomness import TEST_NAMES
from tests.cim_emu.randomness.nist_constants import constant_bits


def write_ascii(path, bits, width=64):
    text = "".join(map(str, bits.tolist()))
    path.write_text("\n".join(text[i : i + width] for i in range(0, len(text), width)) + "\n")
    return path


@pytest.fixture(scope="module")
def e_file(tmp_path_factory):
    return write_ascii(tmp_path_factory.mktemp("nist") / "data.e", constant_bits("e"))


def test_json_output_of_e(e_file, capsys):
    assert main(["nist", str(e_file), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["n_bits"] == 1_000_000 and data["alpha"] == 0.01
    assert list(data["tests"]) == list(TEST_NAMES)
    assert round(data["tests"]["Frequency"]["p_values"][0], 6) == 0.953749
    assert [round(p, 6) for p in data["tests"]["CumulativeSums"]["p_values"]] == [0.669886, 0.724265]
    assert all(entry["applicable"] and entry["passed"] for entry in data["tests"].values())


def test_table_output_and_corrected_mode(e_file, capsys):
    assert main(["nist", str(e_file), "--corrected"]) == 0
    out = capsys.readouterr().out
    assert "corrected arithmetic" in out and "1000000 bits" in out
    for name in TEST_NAMES:
        assert name in out


def test_bytes_format_reads_msb_first(tmp_path, capsys):
    bits = np.random.default_rng(1).integers(0, 2, 80_000, dtype=np.uint8)
    path = tmp_path / "stream.bin"
    path.write_bytes(np.packbits(bits).tobytes())
    ascii_path = write_ascii(tmp_path / "stream.txt", bits)
    main(["nist", str(path), "--format", "bytes", "--json"])
    from_bytes = json.loads(capsys.readouterr().out)
    main(["nist", str(ascii_path), "--json"])
    from_ascii = json.loads(capsys.readouterr().out)
    assert from_bytes == from_ascii


def test_rejected_stream_exits_1(tmp_path, capsys):
    path = write_ascii(tmp_path / "biased.txt", (np.random.default_rng(2).random(20_000) < 0.6).astype(np.uint8))
    assert main(["nist", str(path), "--json"]) == 1
    captured = capsys.readouterr()
    assert json.loads(captured.out)["tests"]["Frequency"]["passed"] is False
    assert "Frequency" in captured.err and captured.err.count("\n") == 1


def test_several_sequences_give_the_final_analysis(tmp_path, capsys):
    bits = np.random.default_rng(3).integers(0, 2, 10 * 20_001 + 7, dtype=np.uint8)
    path = write_ascii(tmp_path / "ten.txt", bits)
    plot = tmp_path / "summary.png"
    code = main(["nist", str(path), "--n-sequences", "10", "--json", "--plot", str(plot)])
    data = json.loads(capsys.readouterr().out)
    assert code == (0 if data["passed"] else 1)
    assert data["n_sequences"] == 10 and data["n_bits"] == 20_001 and data["discarded_bits"] == 7
    assert len(data["sequences"]) == 10
    frequency = data["tests"]["Frequency"]
    assert len(frequency["p_values"]) == 1 and frequency["sample_sizes"] == [10]
    assert data["analysis"]["tests"]["Frequency"]["slots"][0]["sample_size"] == 10
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    main(["nist", str(path), "--n-sequences", "10"])
    assert "PROPORTION" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("content", "arguments", "message"),
    [
        ("", [], "no bits found"),
        ("  \n\t\n", [], "no bits found"),
        ("0101\n01x1\n", [], "line 2, column 3"),
        ("0" * 50, [], "at least 100"),
        ("01" * 100, ["--n-sequences", "3"], "at least 100"),
        ("01" * 100, ["--n-sequences", "0"], "--n-sequences"),
        ("01" * 100, ["--alpha", "2"], "--alpha"),
    ],
)
def test_bad_input_exits_2_with_one_line(tmp_path, capsys, content, arguments, message):
    path = tmp_path / "bad.txt"
    path.write_text(content)
    assert main(["nist", str(path), *arguments]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert message in captured.err and captured.err.count("\n") == 1
    assert str(path) in captured.err or message.startswith("--")


def test_missing_and_empty_binary_files_exit_2(tmp_path, capsys):
    assert main(["nist", str(tmp_path / "missing.bin")]) == 2
    assert "missing.bin" in capsys.readouterr().err
    empty = tmp_path / "empty.bin"
    empty.write_bytes(b"")
    assert main(["nist", str(empty), "--format", "bytes"]) == 2
    assert "empty" in capsys.readouterr().err
