"""The TRNG summary figure is written atomically from plain arrays."""

from __future__ import annotations

import os
import stat

import numpy as np
import pytest

from cim_emu.randomness import analyse_sequences, plot_trng_summary, run_suite, run_suite_many

PNG = b"\x89PNG\r\n\x1a\n"


def test_summary_of_several_streams_with_conductances(tmp_path):
    rng = np.random.default_rng(1)
    bits = rng.integers(0, 2, (8, 4096), dtype=np.uint8)
    conductances = np.where(bits == 1, 1 / 88e3, 1 / 145e3) * (1 + 0.01 * rng.standard_normal(bits.shape))
    path = plot_trng_summary(
        bits, tmp_path / "summary.png", conductances_S=conductances, p_values=run_suite(bits[0]), title="test"
    )
    assert path.read_bytes()[:8] == PNG
    assert sorted(p.name for p in tmp_path.iterdir()) == ["summary.png"]  # no temporary left


def test_summary_of_one_stream_and_of_an_analysis(tmp_path):
    bits = np.random.default_rng(2).integers(0, 2, 3000, dtype=np.uint8)
    plot_trng_summary(bits, tmp_path / "one.png", p_values={"Frequency": [0.3], "Serial": [0.2, 0.004]})
    reports = run_suite_many(np.random.default_rng(3).integers(0, 2, (3, 2000), dtype=np.uint8))
    plot_trng_summary(bits, tmp_path / "many.png", p_values=analyse_sequences(reports))
    assert (tmp_path / "one.png").read_bytes()[:8] == PNG
    assert (tmp_path / "many.png").read_bytes()[:8] == PNG


def test_bad_input_leaves_no_file(tmp_path):
    bits = np.random.default_rng(4).integers(0, 2, (2, 100), dtype=np.uint8)
    with pytest.raises(ValueError, match="conductances_S"):
        plot_trng_summary(bits, tmp_path / "x.png", conductances_S=np.ones((3, 100)))
    with pytest.raises(ValueError, match="at least 4 bits"):
        plot_trng_summary(bits[:, :2], tmp_path / "x.png")
    assert list(tmp_path.iterdir()) == []


def test_the_figure_gets_the_permissions_of_an_ordinary_file(tmp_path):
    # The suite's own atomic writer (it imports nothing else of cim-emu) must not leave mkstemp's 0600.
    bits = np.random.default_rng(5).integers(0, 2, 256, dtype=np.uint8)
    mask = os.umask(0o022)
    try:
        path = plot_trng_summary(bits, tmp_path / "summary.png")
    finally:
        os.umask(mask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
