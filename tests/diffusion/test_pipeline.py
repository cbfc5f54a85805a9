"""The whole generation run on tiny settings: artefacts, reproducibility, counters, the CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from cim_emu.cli import main
from diffusion import GenerationConfig, Method, run_generation

TINY = dict(n_images=16, n_steps=4, umap=False, calibration_draws=512, n_probe_steps=1)


def _run(tmp_path, name, device="cpu", **changes):
    config = GenerationConfig(**{**TINY, "device": device, **changes})
    return run_generation(config, tmp_path / name)


def _check_run(tmp_path, device):
    result = _run(tmp_path, "first", device, methods=(Method.IN_SITU, Method.EX_SITU, Method.NO_NOISE))
    out = tmp_path / "first"
    for name in ("metrics.json", "op_counts.json", "calibration.png", "real_grid.png", "in_situ_grid.png",
                 "ex_situ_images.npy", "no_noise_images.npy"):
        assert (out / name).is_file(), name
    images = np.load(out / "in_situ_images.npy")
    assert images.shape == (16, 8, 8) and 0.0 <= images.min() and images.max() <= 1.0
    metrics = json.loads((out / "metrics.json").read_text())
    assert set(metrics["methods"]) == {"in-situ", "ex-situ", "no-noise"}
    assert "in-situ vs ex-situ" in metrics["comparisons"] and "real vs real" in metrics["references"]
    counts = json.loads((out / "op_counts.json").read_text())
    assert counts["n_images"] == 16 and set(counts) == {"n_images", "in_situ", "ex_situ"}
    # Where the randomness comes from: p-bit pulses in situ, TRNG bits moved ex situ, none without noise.
    bits = 16 * 4 * 32 * 16  # images x steps x latent entries x bits per entry
    assert counts["in_situ"]["pbit_pulses"] == bits and counts["in_situ"]["trng_bits_generated"] == 0
    assert counts["ex_situ"]["trng_bits_generated"] == bits == counts["ex_situ"]["bits_moved"]
    no_noise = result.methods["no-noise"].op_counts
    assert counts["ex_situ"]["pbit_pulses"] == 0 and no_noise["pbit_pulses"] == 0 == no_noise["trng_bits_generated"]
    # In situ: one extra (noise block) MVM per image and step; otherwise the same network work.
    assert counts["in_situ"]["mvm_calls"] - counts["ex_situ"]["mvm_calls"] == 16 * 4
    assert counts["ex_situ"]["mvm_calls"] == no_noise["mvm_calls"]
    # Same seed, same device: the same images; another seed: different ones.
    again = _run(tmp_path, "again", device, methods=(Method.IN_SITU,))
    assert np.array_equal(np.load(again.methods["in-situ"].images_file), images)
    other = _run(tmp_path, "other", device, methods=(Method.IN_SITU,), seed=1)
    assert not np.array_equal(np.load(other.methods["in-situ"].images_file), images)
    assert result.methods["in-situ"].noise_block is not None
    assert result.methods["ex-situ"].trajectory is not None and result.methods["no-noise"].trajectory is None


def test_generation_run_writes_everything_and_is_reproducible(tmp_path):
    _check_run(tmp_path, "cpu")


@pytest.mark.gpu
def test_generation_run_on_cuda(tmp_path):
    _check_run(tmp_path, "cuda")


def test_bad_generation_config_is_rejected():
    with pytest.raises(ValueError, match="n_images"):
        GenerationConfig(n_images=2)
    with pytest.raises(ValueError, match="methods"):
        GenerationConfig(methods=())
    with pytest.raises(ValueError, match="bits_per_sample"):
        GenerationConfig(bits_per_sample=5)
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA"):
            GenerationConfig(device="cuda")


def test_cli_generate_writes_outputs(tmp_path, capsys):
    code = main(["generate", "--method", "in-situ", "--n", "16", "--steps", "3", "--no-umap",
                 "--out", str(tmp_path / "cli")])
    assert code == 0
    assert json.loads((tmp_path / "cli" / "op_counts.json").read_text())["n_images"] == 16
    assert "in-situ vs real" in capsys.readouterr().out


def test_cli_generate_bad_input_exits_2_with_one_line(tmp_path, capsys):
    code = main(["generate", "--n", "0", "--out", str(tmp_path / "bad")])
    assert code == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and "n_images" in error[0]
    assert not (tmp_path / "bad" / "metrics.json").exists()
