"""``cim-emu trng``: simulated p-bit streams written one per line, judged by the suite."""

from __future__ import annotations

import json

import pytest

from cim_emu.cli import main


def _lines(path):
    return path.read_text().split()


def test_streams_are_reproducible_and_independent_of_device_count(tmp_path):
    first, second, more = tmp_path / "a.txt", tmp_path / "b.txt", tmp_path / "c.txt"
    assert main(["trng", "--n-bits", "2000", "--devices", "2", "--out", str(first), "--seed", "3"]) == 0
    assert main(["trng", "--n-bits", "2000", "--devices", "2", "--out", str(second), "--seed", "3"]) == 0
    assert main(["trng", "--n-bits", "2000", "--devices", "3", "--out", str(more), "--seed", "3"]) == 0
    assert first.read_text() == second.read_text()
    assert _lines(more)[:2] == _lines(first)
    assert all(len(line) == 2000 and set(line) <= {"0", "1"} for line in _lines(more))


def test_trimmed_reset_streams_pass_and_report_json(tmp_path, capsys):
    out = tmp_path / "bits.txt"
    code = main(["trng", "--n-bits", "200000", "--devices", "2", "--out", str(out), "--test", "--json",
                 "--seed", "1"])
    report = json.loads(capsys.readouterr().out)
    assert report["switching_probabilities"] == pytest.approx([0.5, 0.5], abs=1e-9)
    assert set(report["quality"]) >= {"autocorrelation", "shannon_entropy_per_bit", "hamming_distance_mean"}
    assert set(report["nist"]["tests"]) >= {"Frequency", "Runs", "Serial", "LinearComplexity"}
    # Two good sequences: STS's final analysis passes unless a 1-in-many accident; the code follows the verdict.
    assert code == (0 if report["passed"] else 1)
    assert report["passed"]


def test_untrimmed_toggle_stream_is_rejected(tmp_path, capsys):
    # Far below the 50 % point a toggling p-bit flips rarely: long runs, strong correlation.
    out = tmp_path / "bits.txt"
    code = main(["trng", "--n-bits", "100000", "--mode", "toggle", "--untrimmed", "--voltage", "0.9",
                 "--out", str(out), "--test"])
    assert code == 1
    assert "rejected" in capsys.readouterr().err


@pytest.mark.parametrize("arguments, message", [
    (["--n-bits", "0"], "--n-bits"),
    (["--n-bits", "100", "--plot", "x.png"], "add --test"),
    (["--n-bits", "100", "--voltage", "1.2"], "--untrimmed"),
    (["--n-bits", "100", "--device", "missing-card.json"], "missing-card.json"),
])
def test_bad_arguments_exit_2(tmp_path, capsys, arguments, message):
    out = tmp_path / "bits.txt"
    assert main(["trng", *arguments, "--out", str(out)]) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()
