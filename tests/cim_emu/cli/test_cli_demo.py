"""``cim-emu demo``: stages write an HTML report atomically."""

from __future__ import annotations

import os
import stat

import pytest

from cim_emu.cli import main


def test_demo_device_stage_writes_report(tmp_path, capsys):
    out = tmp_path / "report"
    assert main(["demo", "--out", str(out), "--stages", "device"]) == 0
    index = (out / "index.html").read_text()
    assert "fig11_pulse_width.png" in index and (out / "device" / "fig11_pulse_width.png").is_file()
    assert "v50" in capsys.readouterr().out
    assert [p.name for p in tmp_path.iterdir()] == ["report"]  # no staging directory left behind
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(out.stat().st_mode) == 0o777 & ~mask  # not the staging directory's 0700


def test_demo_unknown_stage_is_exit_2_and_leaves_old_report(tmp_path, capsys):
    out = tmp_path / "report"
    out.mkdir()
    (out / "index.html").write_text("old")
    assert main(["demo", "--out", str(out), "--stages", "nope"]) == 2
    assert "unknown stage" in capsys.readouterr().err
    assert (out / "index.html").read_text() == "old"


def test_demo_bench_stage_without_generation_says_so(tmp_path):
    out = tmp_path / "report"
    assert main(["demo", "--out", str(out), "--stages", "bench"]) == 0
    index = (out / "index.html").read_text()
    assert "Table II" in index and "table2_landscape.png" in index
    assert "per generated image" not in index  # end to end needs the generation stage's counters


@pytest.mark.slow
def test_full_demo(tmp_path):
    out = tmp_path / "report"
    assert main(["demo", "--out", str(out)]) == 0
    index = (out / "index.html").read_text()
    for expected in ("fig11_pulse_width.png", "trng_summary.png", "regress.png", "umap.png", "per generated image"):
        assert expected in index
