"""The image data set: scikit-learn's 8x8 handwritten digits, split once into train and test.

``load_digits`` ships with scikit-learn (no download), 1797 grey-scale images of 8x8 pixels with
integer intensities 0-16. Pixels are scaled to [0, 1]; the split is stratified by label and fixed
by a seed so that every model (VAE, score network, feature classifier) sees the same held-out set.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import torch

__all__ = ["DigitsSplit", "load_digits_split", "to_model_range", "from_model_range"]

_MAX_INTENSITY = 16.0


@dataclasses.dataclass(frozen=True)
class DigitsSplit:
    """Train and test images of the digits data set.

    Attributes:
        train_images: (n_train, 1, 8, 8) float32 tensor, pixel values in [0, 1].
        train_labels: (n_train,) int64 tensor, digit classes 0-9.
        test_images: (n_test, 1, 8, 8) float32 tensor, pixel values in [0, 1].
        test_labels: (n_test,) int64 tensor.
    """

    train_images: torch.Tensor
    train_labels: torch.Tensor
    test_images: torch.Tensor
    test_labels: torch.Tensor


def load_digits_split(*, test_fraction: float = 0.3, seed: int = 0) -> DigitsSplit:
    """Load the digits and split them, stratified by class, reproducibly from ``seed``.

    Args:
        test_fraction: share of every class put into the test split, in (0, 1).
        seed: seed of the permutation inside each class.

    Returns:
        The split, pixel values in [0, 1].
    """
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must lie in (0, 1), got {test_fraction}")
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = digits.images.astype(np.float32) / _MAX_INTENSITY
    labels = digits.target.astype(np.int64)
    rng = np.random.default_rng(seed)
    test_mask = np.zeros(labels.shape[0], dtype=bool)
    # Stratify by hand so that the split does not depend on scikit-learn's splitter internals.
    for digit in range(10):
        members = np.flatnonzero(labels == digit)
        n_test = int(round(test_fraction * members.size))
        test_mask[rng.permutation(members)[:n_test]] = True
    as_images = torch.from_numpy(images).unsqueeze(1)
    as_labels = torch.from_numpy(labels)
    return DigitsSplit(
        train_images=as_images[~test_mask].contiguous(),
        train_labels=as_labels[~test_mask].contiguous(),
        test_images=as_images[test_mask].contiguous(),
        test_labels=as_labels[test_mask].contiguous(),
    )


def to_model_range(images: torch.Tensor) -> torch.Tensor:
    """Map pixels from [0, 1] to the VAE's input range [-1, 1]."""
    return images * 2.0 - 1.0


def from_model_range(images: torch.Tensor) -> torch.Tensor:
    """Map VAE outputs from [-1, 1] back to pixels, clipped to [0, 1]."""
    return ((images + 1.0) * 0.5).clamp(0.0, 1.0)
