"""The generation experiment end to end on tiny settings: artefacts, counters, streams, the CLI; full size slow."""

from __future__ import annotations

import json
import pathlib
import re

import numpy as np
import pytest
import torch

from cim_emu.cli import main
from cim_emu.experiments.generation import GenerationConfig, GenerationRunResult, GenerationSize, run_generation
from cim_emu.rng import SeedStream
from diffusion import (
    VARIANCE_TOLERANCE,
    Method,
    SamplerGenerators,
    build_noise_source,
    deploy_model,
    image_features,
    load_classifier,
    load_digits_split,
    load_model,
    multi_seed_checks,
    sample,
    score,
    torch_stream,
)

ALL = (Method.IN_SITU, Method.EX_SITU, Method.NO_NOISE)
# Tiny: no step probes here (the CLI test below runs them, tests/diffusion/test_calibration.py tests them).
TINY = dict(n_images=8, n_steps=2, umap=False, calibration_draws=512, n_probe_steps=0)
SMALL = dict(n_images=16, n_steps=4, umap=False, calibration_draws=512, n_probe_steps=1)


def _run(tmp_path, name, device="cpu", **changes) -> GenerationRunResult:
    config = GenerationConfig(**{**TINY, "device": device, **changes})
    return run_generation(config, tmp_path / name)


def _check_artefacts_and_counters(result: GenerationRunResult, n_images: int, n_steps: int) -> None:
    out = result.out_dir
    for name in ("metrics.json", "op_counts.json", "calibration.png", "real_grid.png", "in_situ_grid.png",
                 "ex_situ_images.npy", "no_noise_images.npy", "no_noise_grid.png"):
        assert (pathlib.Path(out) / name).is_file(), name
    images = np.load(result.methods["in-situ"].images_file)
    assert images.shape == (n_images, 8, 8) and 0.0 <= images.min() and images.max() <= 1.0
    metrics = json.loads(pathlib.Path(result.files["metrics"]).read_text())
    assert set(metrics) == {"out_dir", "config", "device", "methods", "references", "comparisons", "checks", "files"}
    assert set(metrics["methods"]) == {"in-situ", "ex-situ", "no-noise"}
    assert set(metrics["comparisons"]) == {"in-situ vs ex-situ", "no-noise vs ex-situ"}
    assert set(metrics["references"]) == {"real vs real", "vae reconstruction vs real"}
    assert set(metrics["methods"]["in-situ"]) == {
        "method", "n_images", "sampling_s", "decoding_s", "images_per_second", "metrics_vs_real", "trajectory",
        "step_calibration", "noise_block", "op_counts", "images_file", "grid_file"}
    assert metrics["config"]["methods"] == ["in-situ", "ex-situ", "no-noise"]
    counts = json.loads(pathlib.Path(result.files["op_counts"]).read_text())
    assert counts["n_images"] == n_images and set(counts) == {"n_images", "in_situ", "ex_situ"}
    # Where the randomness comes from: p-bit pulses in situ, TRNG bits moved ex situ, none without noise.
    bits = n_images * n_steps * 32 * 16  # images x steps x latent entries x bits per entry
    assert counts["in_situ"]["pbit_pulses"] == bits and counts["in_situ"]["trng_bits_generated"] == 0
    assert counts["ex_situ"]["trng_bits_generated"] == bits == counts["ex_situ"]["bits_moved"]
    no_noise = result.methods["no-noise"].op_counts
    assert counts["ex_situ"]["pbit_pulses"] == 0 and no_noise["pbit_pulses"] == 0 == no_noise["trng_bits_generated"]
    # In situ: one extra (noise block) MVM per image and step; otherwise the same network work.
    assert counts["in_situ"]["mvm_calls"] - counts["ex_situ"]["mvm_calls"] == n_images * n_steps
    assert counts["ex_situ"]["mvm_calls"] == no_noise["mvm_calls"]
    assert result.methods["in-situ"].noise_block is not None and result.methods["ex-situ"].noise_block is None
    assert result.methods["ex-situ"].trajectory is not None and result.methods["no-noise"].trajectory is None
    assert len(result.methods["in-situ"].trajectory.variance_ratio) == n_steps


def test_run_writes_every_artefact_and_composes_the_library(tmp_path):
    result = _run(tmp_path, "run", methods=ALL, seed=3)
    _check_artefacts_and_counters(result, n_images=8, n_steps=2)
    assert not list(tmp_path.glob(".run.partial-*")), "the staging directory is removed"
    # The runner is the library with named streams of one root: diffusion.sample with the same streams
    # (same chip, same noise block, same initial latents) gives the same images, bit for bit.
    root = SeedStream(3)
    model = load_model(n_steps=2)
    train_latents = model.encode(load_digits_split().train_images)
    deploy_model(model, stream=root, calibration_latents=train_latents)
    source, _ = build_noise_source(Method.IN_SITU, 32, stream=root, calibration_draws=512)
    generators = SamplerGenerators(*(torch_stream(root, name) for name in ("initial_latents", "read_noise",
                                                                             "sde_noise")))
    images = sample(model, source, 8, generators=generators)
    assert np.array_equal(np.load(result.methods["in-situ"].images_file), images.reshape(-1, 8, 8).numpy())
    # Each comparison is scored from its own stream: recomputed from the two image sets alone it is identical,
    # so neither the ablation nor the scoring order can change it.
    classifier = load_classifier()
    in_situ, ex_situ = (image_features(classifier, torch.from_numpy(np.load(result.methods[name].images_file))
                                       .reshape(-1, 1, 8, 8)) for name in ("in-situ", "ex-situ"))
    assert score(in_situ, ex_situ, comparison="in-situ vs ex-situ", stream=root) == result.comparisons[
        "in-situ vs ex-situ"]


def test_a_failed_run_leaves_no_output(tmp_path, monkeypatch):
    import cim_emu.experiments.generation as generation

    def broken(*args, **kwargs):
        raise ValueError("decoder exploded")

    monkeypatch.setattr(generation, "method_comparisons", broken)
    with pytest.raises(ValueError, match="exploded"):
        # The missing parents of out_dir are created for the staging folder and removed again.
        _run(tmp_path, "deep/er/failed", methods=(Method.EX_SITU,), n_probe_steps=0, column_calibration=False)
    assert list(tmp_path.iterdir()) == []
    (tmp_path / "a_file").write_text("")
    with pytest.raises(ValueError, match="not a directory"):
        _run(tmp_path, "a_file")


def test_sizes_of_a_run_and_the_sane_limits(tmp_path, monkeypatch):
    import cim_emu.experiments.generation as generation

    size = GenerationConfig().size()
    assert size == GenerationSize(images=500, image_steps=500 * 100 * 2, noise_bits_per_read=131072 * 16)
    assert size.beyond() == []
    huge = GenerationConfig(n_images=10**10).size()
    assert huge.image_steps == 2 * 10**12 and huge.noise_bits_per_read == 16 * 10**10
    assert len(huge.beyond()) == 3
    # Only the in-situ block reads its calibration rows at once.
    assert GenerationConfig(methods=(Method.EX_SITU,), bits_per_sample=200).size().noise_bits_per_read == 500 * 200
    wide = GenerationConfig(bits_per_sample=100000)
    assert [text.split(",")[0] for text in wide.size().beyond()] == [
        "the run would take 1.311e+10 noise bits per latent entry in one read (max(n_images"]
    for config, expected in ((GenerationConfig(n_images=10**10), "1e+10 images per method"),
                             (wide, "1.311e+10 noise bits"),
                             (GenerationConfig(n_images=1000, n_steps=5000, methods=(Method.EX_SITU,)),
                              "5e+06 image steps")):
        # Refused before any work: not even the missing parent folders are created.
        with pytest.raises(ValueError, match=rf"{re.escape(expected)}.*allow_large=True"):
            run_generation(config, tmp_path / "a" / "b")
    assert list(tmp_path.iterdir()) == []
    # allow_large runs what the limits refuse (tiny limits here, so that the test stays small).
    monkeypatch.setattr(generation, "SIZE_LIMITS", {"images": 4, "image_steps": 4, "noise_bits_per_read": 4})
    tiny = GenerationConfig(**{**TINY, "methods": (Method.EX_SITU,), "column_calibration": False})
    with pytest.raises(ValueError, match="8 images per method, beyond the limit 4"):
        run_generation(tiny, tmp_path / "refused")
    result = run_generation(tiny, tmp_path / "allowed", allow_large=True)
    assert np.load(result.methods["ex-situ"].images_file).shape == (8, 8, 8)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["allowed"]


def test_bad_model_arguments_get_a_clear_error(tmp_path):
    for kwargs, expected in ((dict(n_steps=2.5), "n_steps: must be an integer >= 1"),
                             (dict(n_steps=True), "n_steps: must be an integer >= 1"),
                             (dict(weights_dir=tmp_path / "missing"), "not a directory; give the folder holding"),
                             (dict(device="foo"), "device: expected 'cpu' or 'cuda'")):
        with pytest.raises(ValueError, match=expected):
            load_model(**kwargs)
    for latent_dim in (0, 2.5, True):
        with pytest.raises(ValueError, match="latent_dim: must be an integer >= 1"):
            build_noise_source(Method.EX_SITU, latent_dim, stream=SeedStream(0))
    with pytest.raises(ValueError, match="device: expected"):
        build_noise_source(Method.IN_SITU, 4, stream=SeedStream(0), device="foo", calibration_draws=200)


def test_bad_generation_config_is_rejected():
    with pytest.raises(ValueError, match="n_images"):
        GenerationConfig(n_images=2)
    with pytest.raises(ValueError, match="methods"):
        GenerationConfig(methods=())
    with pytest.raises(ValueError, match="repeats"):
        GenerationConfig(methods=(Method.IN_SITU, Method.IN_SITU))
    with pytest.raises(ValueError, match="bits_per_sample"):
        GenerationConfig(bits_per_sample=5)
    with pytest.raises(ValueError, match="device"):
        GenerationConfig(device="tpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA"):
            GenerationConfig(device="cuda")


def test_cli_generate_bad_input_exits_2_with_one_line_naming_the_flag(tmp_path, capsys):
    for flags, flag in ((["--n", "0"], "--n"), (["--bits", "5"], "--bits"), (["--device", "tpu"], "--device")):
        code = main(["generate", *flags, "--out", str(tmp_path / "bad")])
        assert code == 2
        error = capsys.readouterr().err.strip().splitlines()
        assert len(error) == 1 and flag in error[0], error
    assert not (tmp_path / "bad").exists()


def test_cli_generate_prints_the_summary_and_a_failed_check_is_exit_1(tmp_path, capsys, monkeypatch):
    import cim_emu.experiments.generation as generation

    # The verdict is forced here; the checks themselves are tested in tests/diffusion/test_evaluation.py.
    monkeypatch.setattr(generation, "acceptance_checks", lambda methods, comparisons: {"forced check": False})
    code = main(["generate", "--method", "ex-situ", "--n", "8", "--steps", "2", "--no-umap", "--check",
                 "--out", str(tmp_path / "cli")])
    captured = capsys.readouterr()
    assert code == 1
    assert "ex-situ vs real" in captured.out and "[FAIL] forced check" in captured.out
    # stderr: the progress bar, then one line of verdict, no traceback.
    assert "acceptance check failed" in captured.err.strip().splitlines()[-1] and "Traceback" not in captured.err
    metrics = json.loads((tmp_path / "cli" / "metrics.json").read_text())
    assert metrics["config"]["n_images"] == 8 and metrics["checks"] == {"forced check": False}
    # The CLI's defaults probe up to 6 steps: both steps of this 2-step run.
    assert [probe["step_index"] for probe in metrics["methods"]["ex-situ"]["step_calibration"]] == [0, 1]
    assert json.loads((tmp_path / "cli" / "op_counts.json").read_text()) == {
        "n_images": 8, "ex_situ": metrics["methods"]["ex-situ"]["op_counts"]}


@pytest.mark.slow
def test_cli_generate_writes_outputs(tmp_path, capsys):
    code = main(["generate", "--method", "in-situ", "--n", "16", "--steps", "3", "--no-umap",
                 "--out", str(tmp_path / "cli")])
    assert code == 0
    assert json.loads((tmp_path / "cli" / "op_counts.json").read_text())["n_images"] == 16
    assert "in-situ vs real" in capsys.readouterr().out


def _check_full_run(tmp_path, device):
    result = _run(tmp_path, "first", device, methods=ALL, **SMALL)
    _check_artefacts_and_counters(result, n_images=16, n_steps=4)
    assert all(len(method.step_calibration) == 1 for method in result.methods.values())
    images = np.load(result.methods["in-situ"].images_file)
    # Same seed, same device: the same images; another seed: different ones.
    again = _run(tmp_path, "again", device, methods=(Method.IN_SITU,), **SMALL)
    assert np.array_equal(np.load(again.methods["in-situ"].images_file), images)
    other = _run(tmp_path, "other", device, methods=(Method.IN_SITU,), **{**SMALL, "seed": 1})
    assert not np.array_equal(np.load(other.methods["in-situ"].images_file), images)
    # The ablation changes no other method's numbers (each comparison has its own stream).
    both = _run(tmp_path, "both", device, methods=(Method.IN_SITU, Method.EX_SITU), **SMALL)
    assert both.comparisons["in-situ vs ex-situ"] == result.comparisons["in-situ vs ex-situ"]
    for name in ("in-situ", "ex-situ"):
        assert both.methods[name].metrics_vs_real == result.methods[name].metrics_vs_real
    assert both.references == result.references


@pytest.mark.slow
def test_full_generation_run_is_reproducible_and_independent_of_the_ablation(tmp_path):
    _check_full_run(tmp_path, "cpu")


@pytest.mark.gpu
def test_generation_run_on_cuda(tmp_path):
    _check_full_run(tmp_path, "cuda")


@pytest.mark.slow
def test_in_situ_matches_ex_situ_over_seeds(tmp_path):
    """The full-quality acceptance run (six seeds x 500 images per method, a few minutes)."""
    results = []
    for seed in range(6):
        methods = (Method.IN_SITU, Method.EX_SITU) + ((Method.NO_NOISE,) if seed == 0 else ())
        config = GenerationConfig(methods=methods, seed=seed, umap=False, n_probe_steps=2 if seed == 0 else 0)
        results.append(run_generation(config, tmp_path / f"seed{seed}"))
    for result in results:
        failed = [name for name, passed in result.checks.items() if not passed]
        assert not failed, (result.config["seed"], failed)
        for name in ("in-situ", "ex-situ"):
            assert result.methods[name].trajectory.max_relative_variance_error <= VARIANCE_TOLERANCE
    # "Two seeds each" for the KID spread; all six for the precision/recall differences.
    assert multi_seed_checks(results[:2])["kid_passed"]
    summary = multi_seed_checks(results)
    assert summary["precision_recall_passed"], summary
