"""The digits split: stratified, disjoint, deterministic; bad fractions refused."""

from __future__ import annotations

import pytest
import torch

from diffusion import load_digits_split


def test_split_is_stratified_disjoint_and_deterministic():
    split = load_digits_split()
    assert split.train_images.shape[1:] == (1, 8, 8)
    assert split.train_images.shape[0] + split.test_images.shape[0] == 1797
    assert 0.0 <= float(split.train_images.min()) and float(split.train_images.max()) <= 1.0
    for digit in range(10):
        n_train = int((split.train_labels == digit).sum())
        n_test = int((split.test_labels == digit).sum())
        assert n_test == round(0.3 * (n_train + n_test))
    again = load_digits_split()
    assert torch.equal(again.test_images, split.test_images)
    # Disjoint: no test image appears among the training images.
    flat_train = split.train_images.reshape(split.train_images.shape[0], -1)
    flat_test = split.test_images.reshape(split.test_images.shape[0], -1)
    duplicates = (torch.cdist(flat_test, flat_train) == 0).any(dim=1)
    assert int(duplicates.sum()) <= 2  # load_digits has a couple of identical images in different rows


def test_bad_split_fraction_is_rejected():
    with pytest.raises(ValueError, match="test_fraction"):
        load_digits_split(test_fraction=1.0)
