"""Quality metrics: reference values on constructed feature sets, and their behaviour on real digits."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from diffusion import (
    compare_features,
    evaluate_images,
    frechet_distance,
    kernel_inception_distance,
    label_entropy_bits,
    load_classifier,
    load_digits_split,
    precision_recall,
)


def test_frechet_distance_of_shifted_copy_is_squared_shift(numpy_generator):
    features = numpy_generator.normal(size=(400, 8))
    shift = np.arange(8) / 4.0
    assert frechet_distance(features, features) == pytest.approx(0.0, abs=1e-8)
    # Same covariance, means differ by `shift`: the trace term vanishes exactly.
    assert frechet_distance(features + shift, features) == pytest.approx(float(shift @ shift), rel=1e-9)


def test_frechet_distance_of_scaled_gaussians_matches_closed_form(numpy_generator):
    # N(0, I) vs N(0, 4 I) in d dims: FD = d (1 + 4 - 2 * 2) = d; sampling error ~ d * sqrt(2/n).
    d, n = 4, 200_000
    first = numpy_generator.normal(size=(n, d))
    second = 2.0 * numpy_generator.normal(size=(n, d))
    assert frechet_distance(first, second) == pytest.approx(d, abs=5 * d * math.sqrt(2.0 / n) * 4)


def test_frechet_distance_stays_finite_with_singular_covariance(numpy_generator):
    features = numpy_generator.normal(size=(20, 64))  # 20 points in 64 dims: rank-deficient covariance
    assert math.isfinite(frechet_distance(features, features[::-1] + 0.1))


def test_kid_of_same_law_is_consistent_with_zero_and_shift_is_detected(numpy_generator):
    first = numpy_generator.normal(size=(600, 16))
    second = numpy_generator.normal(size=(600, 16))
    mean, std = kernel_inception_distance(first, second, generator=numpy_generator)
    assert abs(mean) < 2 * std
    shifted_mean, shifted_std = kernel_inception_distance(first, second + 0.5, generator=numpy_generator)
    assert shifted_mean > mean + 5 * max(std, shifted_std)


def test_precision_recall_reference_cases(numpy_generator):
    features = numpy_generator.normal(size=(200, 4))
    assert precision_recall(features, features, k=3) == (1.0, 1.0)
    assert precision_recall(features + 100.0, features, k=3) == (0.0, 0.0)
    # Half the reference set far away: a candidate covering only the near half has recall ~ 1/2.
    reference = np.concatenate([features[:100], features[100:] + 100.0])
    precision, recall = precision_recall(features[:100], reference, k=3)
    assert precision == 1.0 and recall == pytest.approx(0.5, abs=0.01)


def test_label_entropy():
    assert label_entropy_bits(np.arange(1000) % 10) == pytest.approx(math.log2(10))
    assert label_entropy_bits(np.zeros(50, dtype=int)) == 0.0
    assert label_entropy_bits(np.arange(1000) % 4) == pytest.approx(2.0)


def test_bad_features_are_rejected():
    with pytest.raises(ValueError, match="NaN"):
        frechet_distance(np.full((10, 3), np.nan), np.zeros((10, 3)))
    with pytest.raises(ValueError, match="dimensions differ"):
        kernel_inception_distance(np.zeros((10, 3)), np.zeros((10, 4)), generator=np.random.default_rng(0))


@pytest.fixture(scope="module")
def digits_and_classifier():
    torch.set_num_threads(1)
    return load_digits_split(), load_classifier()


def test_metrics_separate_real_blurry_and_missing_modes(digits_and_classifier):
    """The behaviour the metrics must have: a real-vs-real floor, blur and missing modes detected."""
    split, classifier = digits_and_classifier
    generator = np.random.default_rng(7)
    n = split.test_images.shape[0]
    order = torch.randperm(split.train_images.shape[0], generator=torch.Generator().manual_seed(7))
    real = split.train_images[order[:n]]
    kernel = torch.tensor([[1.0, 2.0, 1.0], [2.0, 4.0, 2.0], [1.0, 2.0, 1.0]]) / 16.0
    blurry = torch.nn.functional.conv2d(real, kernel[None, None], padding=1)
    low_digits = split.train_images[split.train_labels < 5][:n]

    floor = evaluate_images(real, split.test_images, classifier, generator=generator)
    blur = evaluate_images(blurry, split.test_images, classifier, generator=generator)
    missing = evaluate_images(low_digits, split.test_images, classifier, generator=generator)

    assert abs(floor.kid_mean) < 2 * floor.kid_std
    assert floor.precision > 0.85 and floor.recall > 0.85
    assert floor.label_entropy_bits == pytest.approx(math.log2(10), abs=0.05)
    assert blur.kid_mean > floor.kid_mean + 5 * blur.kid_std
    assert blur.recall < floor.recall - 0.3
    # Half the modes missing: coverage halves, fidelity stays, labels carry log2(5) bits.
    assert missing.recall < floor.recall - 0.3
    assert missing.precision > floor.precision - 0.1
    assert missing.label_entropy_bits == pytest.approx(math.log2(5), abs=0.05)
    assert missing.kid_mean > floor.kid_mean + 2 * missing.kid_std


def test_compare_features_is_json_ready_and_reproducible(digits_and_classifier):
    split, classifier = digits_and_classifier
    features = classifier.features(split.test_images)
    first = compare_features(features[:200], features[200:], generator=np.random.default_rng(3))
    second = compare_features(features[:200], features[200:], generator=np.random.default_rng(3))
    assert first == second
    assert set(first.to_dict()) >= {"kid_mean", "kid_std", "frechet_distance", "precision", "recall"}
