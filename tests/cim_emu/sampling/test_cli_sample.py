"""``cim-emu sample``: JSON schema, outputs, and exit 2 with one line naming the file / line / flag."""

from __future__ import annotations

import json

import numpy as np
import pytest

from cim_emu.cli import main
from cim_emu.sampling import IsingModel, boltzmann_distribution, moments


def _run(capsys, *argv):
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_ising_json_has_the_issue_keys_and_matches_enumeration(tmp_path, capsys):
    model = IsingModel.random(6, density=0.8, generator=np.random.default_rng(0))
    path = tmp_path / "model.npz"
    model.save_npz(path)
    code, out, err = _run(capsys, "sample", "ising", "--model", str(path), "--ideal", "--sweeps", "2000",
                          "--chains", "32", "--beta", "0.7", "--seed", "3", "--json", "--out", str(tmp_path / "o"))
    assert code == 0, err
    data = json.loads(out)
    assert {"n_spins", "n_samples", "mean_spin", "pair_correlation", "flips_per_s"} <= set(data)
    assert data["n_spins"] == 6 and data["n_samples"] == 1800 * 32
    correlation = np.array(data["pair_correlation"])
    assert correlation.shape == (6, 6) and np.allclose(np.diag(correlation), 1.0)
    exact = moments(boltzmann_distribution(model, 0.7), 6)
    # 57600 autocorrelated samples; a fast-mixing 6-spin model: 0.03 is many standard errors of the mean.
    assert np.abs(np.array(data["mean_spin"]) - exact.mean_spin.numpy()).max() < 0.03
    assert (tmp_path / "o" / "ising.json").exists() and (tmp_path / "o" / "ising.png").exists()


def test_ising_hardware_reports_energy_per_flip(tmp_path, capsys):
    model = IsingModel.random(5, generator=np.random.default_rng(1))
    model.save_npz(tmp_path / "m.npz")
    code, out, _ = _run(capsys, "sample", "ising", "--model", str(tmp_path / "m.npz"), "--sweeps", "4",
                        "--chains", "2", "--json")
    assert code == 0
    energy = json.loads(out)["energy"]
    assert energy["in_situ"]["pJ_per_flip"] > 0 and energy["energy_ratio"] > 1


@pytest.mark.parametrize("arrays, expected", [
    (dict(J=np.array([[0.0, 1.0], [2.0, 0.0]]), h=np.zeros(2)), "not symmetric"),
    (dict(J=np.eye(2), h=np.zeros(2)), "diagonal entry (0, 0)"),
    (dict(J=np.zeros((2, 3)), h=np.zeros(2)), "square"),
    (dict(J=np.array([[0.0, np.nan], [np.nan, 0.0]]), h=np.zeros(2)), "is nan"),
    (dict(J=np.zeros((2, 2))), "missing array(s) ['h']"),
])
def test_bad_models_exit_2_naming_the_file(tmp_path, capsys, arrays, expected):
    path = tmp_path / "bad.npz"
    np.savez(path, **arrays)
    code, _, err = _run(capsys, "sample", "ising", "--model", str(path), "--out", str(tmp_path / "o"))
    assert code == 2
    assert err.count("\n") == 1 and "bad.npz" in err and expected in err
    assert not (tmp_path / "o").exists()   # nothing half-written


def test_bad_flags_exit_2(tmp_path, capsys):
    model = IsingModel.random(3, generator=np.random.default_rng(0))
    model.save_npz(tmp_path / "m.npz")
    for flag, value in (("--beta", "-1"), ("--beta", "nan"), ("--sweeps", "0")):
        try:
            code = main(["sample", "ising", "--model", str(tmp_path / "m.npz"), flag, value])
        except SystemExit as exit_info:   # argparse's usage error, if main lets it through
            code = exit_info.code
        assert code == 2
        assert flag in capsys.readouterr().err


def test_maxcut_and_graph_commands(tmp_path, capsys):
    graph_path = tmp_path / "g.txt"
    code, _, _ = _run(capsys, "sample", "graph", "--out", str(graph_path), "--nodes", "40", "--density", "0.2")
    assert code == 0 and graph_path.read_text().startswith("40 ")
    code, out, err = _run(capsys, "sample", "maxcut", "--graph", str(graph_path), "--sweeps", "50", "--ideal",
                          "--restarts", "3", "--json", "--out", str(tmp_path / "mc"))
    assert code == 0, err
    data = json.loads(out)
    assert len(data["best_cut_per_sweep"]) == 50 and data["best_cut"] == data["best_cut_per_sweep"][-1]
    assert data["best_cut"] >= 0.95 * data["greedy_cut"]
    assert (tmp_path / "mc" / "maxcut.png").exists()


def test_bad_graph_line_exits_2_naming_file_and_line(tmp_path, capsys):
    path = tmp_path / "edges.txt"
    path.write_text("3 2\n1 2 1\n2 x 1\n")
    code, _, err = _run(capsys, "sample", "maxcut", "--graph", str(path), "--ideal")
    assert code == 2 and "edges.txt:3:" in err and err.count("\n") == 1


@pytest.mark.slow
def test_dtm_command_writes_samples_and_metrics(tmp_path, capsys):
    code, out, err = _run(capsys, "sample", "dtm", "--images", "40", "--epochs", "2", "--sweeps", "5", "--no-sde",
                          "--json", "--out", str(tmp_path / "dtm"))
    assert code == 0, err
    data = json.loads(out)
    assert {"binarized real vs real", "dtm ideal vs real", "dtm hardware vs real"} == set(data["metrics"])
    assert data["energy"]["dtm hardware"]["in_situ"]["pJ_per_flip"] > 0
    for name in ("dtm.json", "dtm_samples.png", "dtm_trajectory.png", "dtm_hardware_images.npy"):
        assert (tmp_path / "dtm" / name).exists()
