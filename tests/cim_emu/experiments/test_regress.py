"""The paper's Fig. 22 (fast configuration) and ``cim-emu regress``."""

from __future__ import annotations

import json

import pytest

from cim_emu import RegressionConfig, run_regression
from cim_emu.cli import main


@pytest.fixture(scope="module")
def result():
    return run_regression(RegressionConfig.fast())


def test_mc_dropconnect_is_calibrated_and_the_ann_collapses(result):
    # The acceptance: MC coverage within 5 points of 90 %, NLL below the ANN's.
    assert abs(result.mc_coverage - 0.9) <= 0.05
    assert result.mc_nll < result.ann_nll
    assert result.accepted
    # The ANN's spread is only read noise: its 90 % intervals hold few of the targets.
    assert result.ann_coverage < 0.5
    # Both predict the mean: the error is close to the data's own mean absolute noise (~0.2).
    assert result.mc_mean_abs_error < 0.3 and result.ann_mean_abs_error < 0.3


def test_metrics_are_json_ready(result):
    metrics = json.loads(json.dumps(result.metrics()))
    assert set(metrics) >= {"ann_nll", "mc_nll", "ann_coverage", "mc_coverage", "accepted", "config"}
    assert metrics["config"]["crossbar"]["weight_bits"] == 1


def test_cli_writes_figure_and_json(tmp_path, capsys):
    # Five training steps: the run completes and writes its outputs, and the verdict is negative (exit 1).
    code = main(["regress", "--fast", "--steps", "5", "--out", str(tmp_path)])
    metrics = json.loads((tmp_path / "regress.json").read_text())
    assert (tmp_path / "regress.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert code == (0 if metrics["accepted"] else 1)
    assert "interval coverage" in capsys.readouterr().out


def test_cli_bad_card_is_exit_code_2(tmp_path, capsys):
    card = tmp_path / "card.json"
    card.write_text('{"data_bit": {}}')
    assert main(["regress", "--fast", "--card", str(card), "--out", str(tmp_path / "out")]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "card.json" in error
    assert not (tmp_path / "out").exists()


def test_bad_config_is_rejected():
    with pytest.raises(ValueError, match="n_train_samples: the energy score needs >= 2 samples"):
        RegressionConfig(n_train_samples=1)
