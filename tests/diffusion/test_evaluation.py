"""Scoring: one stream per comparison (adding the ablation changes nothing else), trajectories, the checks."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import torch

from cim_emu.rng import SeedStream
from diffusion import (
    VARIANCE_TOLERANCE,
    ImageFeatures,
    QualityMetrics,
    acceptance_checks,
    method_comparisons,
    multi_seed_checks,
    probe_steps,
    score,
    trajectory_noise,
)


def _features(shift: float, seed: int, n: int = 240) -> ImageFeatures:
    generator = torch.Generator().manual_seed(seed)
    features = torch.randn(n, 6, generator=generator) + shift
    return ImageFeatures(features=features, labels=np.arange(n) % 10)


def test_adding_the_ablation_leaves_every_other_comparison_unchanged():
    # n = 240 > the KID subset size (200): the subsets are random draws, so a shared stream would show.
    methods = {"in-situ": _features(0.0, 1), "ex-situ": _features(0.0, 2)}
    with_ablation = {**methods, "no-noise": _features(1.0, 3)}
    root = SeedStream(5)
    plain = method_comparisons(methods, stream=root)
    ablated = method_comparisons(with_ablation, stream=root)
    assert set(plain) == {"in-situ vs ex-situ"}
    assert set(ablated) == {"in-situ vs ex-situ", "no-noise vs ex-situ"}
    assert plain["in-situ vs ex-situ"] == ablated["in-situ vs ex-situ"]
    # Scoring order does not matter either: a method's score against the real set depends on its own name.
    real = _features(0.0, 4, n=300)
    first = score(methods["ex-situ"], real, comparison="ex-situ vs real", stream=root)
    score(with_ablation["no-noise"], real, comparison="no-noise vs real", stream=root)
    assert score(methods["ex-situ"], real, comparison="ex-situ vs real", stream=root) == first
    # ... and another root seed draws other subsets.
    assert score(methods["ex-situ"], real, comparison="ex-situ vs real", stream=SeedStream(6)) != first


def test_score_separates_a_shifted_set():
    real = _features(0.0, 4, n=300)
    same = score(_features(0.0, 5), real, comparison="same vs real", stream=0)
    shifted = score(_features(0.5, 6), real, comparison="shifted vs real", stream=0)
    # Same law: KID within 3 of its subset standard deviations of 0; a shift of half a std per feature is far out.
    assert abs(same.kid_mean) < 3 * same.kid_std
    assert shifted.kid_mean > same.kid_mean + 5 * same.kid_std
    assert shifted.label_entropy_bits == pytest.approx(math.log2(10))


def test_trajectory_noise_pools_each_step_and_reports_the_worst():
    generator = torch.Generator().manual_seed(0)
    scales = (1.0, 1.2)  # the second step has 44 % too much variance
    records = [(1.0 - 0.5 * i, 0.1 * scale * torch.randn(4000, 8, generator=generator), 0.1)
               for i, scale in enumerate(scales)]
    trajectory = trajectory_noise(records)
    assert trajectory.times == (1.0, 0.5)
    for ratio, stderr, scale in zip(trajectory.variance_ratio, trajectory.variance_ratio_stderr, scales, strict=True):
        assert abs(ratio - scale**2) < 5 * stderr
    assert trajectory.max_relative_variance_error == pytest.approx(abs(trajectory.variance_ratio[1] - 1.0))
    with pytest.raises(ValueError, match="at least one step"):
        trajectory_noise([])


def test_probe_steps_spread_over_the_grid():
    assert probe_steps(100, 0) == []
    assert probe_steps(100, 1) == [0]
    assert probe_steps(100, 6) == [0, 20, 40, 59, 79, 99]
    assert probe_steps(2, 6) == [0, 1]


@dataclasses.dataclass
class _Run:
    methods: dict
    config: dict
    out_dir: str = "run"


@dataclasses.dataclass
class _Method:
    metrics_vs_real: QualityMetrics
    trajectory: object = None


def _metrics(kid: float, precision: float, recall: float, kid_std: float = 0.01) -> QualityMetrics:
    return QualityMetrics(kid_mean=kid, kid_std=kid_std, frechet_distance=1.0, precision=precision, recall=recall,
                          label_entropy_bits=3.3, n_candidate=500, n_reference=539)


def test_acceptance_checks_decide_each_claim():
    good = trajectory_noise([(1.0, 0.1 * torch.randn(4000, 8, generator=torch.Generator().manual_seed(1)), 0.1)])
    bad = dataclasses.replace(good, max_relative_variance_error=VARIANCE_TOLERANCE + 0.01)
    methods = {"in-situ": _Method(_metrics(0.1, 0.9, 0.85), good), "ex-situ": _Method(_metrics(0.1, 0.9, 0.85), bad),
               "no-noise": _Method(_metrics(2.5, 0.9, 0.30))}
    checks = acceptance_checks(methods, {"in-situ vs ex-situ": _metrics(0.015, 0.9, 0.9)})
    assert checks == {"in-situ: per-step variance within 10% of g^2 dt": True,
                      "ex-situ: per-step variance within 10% of g^2 dt": False,
                      "in-situ vs ex-situ KID consistent with 0 (2 std)": True,
                      "no-noise ablation has lower recall than ex-situ": True}
    checks = acceptance_checks(methods, {"in-situ vs ex-situ": _metrics(0.025, 0.9, 0.9)})
    assert checks["in-situ vs ex-situ KID consistent with 0 (2 std)"] is False


def test_multi_seed_checks_average_over_seeds():
    runs = [_Run({"in-situ": _Method(_metrics(kid_in, 0.86, r_in)), "ex-situ": _Method(_metrics(kid_ex, 0.85, r_ex))},
                 {"seed": seed})
            for seed, (kid_in, kid_ex, r_in, r_ex) in enumerate([(0.20, 0.14, 0.82, 0.85), (0.10, 0.19, 0.86, 0.84)])]
    summary = multi_seed_checks(runs)
    assert summary["seeds"] == [0, 1]
    assert summary["ex-situ KID seed spread"] == pytest.approx(0.05)
    assert summary["KID method difference"] == pytest.approx(0.015)
    assert summary["kid_passed"] and summary["precision_recall_passed"] and summary["passed"]
    assert summary["recall difference mean"] == pytest.approx(-0.005)
    far = [dataclasses.replace(run, methods={**run.methods, "in-situ": _Method(_metrics(0.5, 0.86, 0.70))})
           for run in runs]
    summary = multi_seed_checks(far)
    assert not summary["kid_passed"] and not summary["precision_recall_passed"] and not summary["passed"]
    with pytest.raises(ValueError, match="at least two seeds"):
        multi_seed_checks(runs[:1])
    with pytest.raises(ValueError, match="lacks in-situ or ex-situ"):
        multi_seed_checks([runs[0], _Run({"in-situ": runs[0].methods["in-situ"]}, {"seed": 2})])
