"""A small digit classifier whose penultimate layer is the feature space of the quality metrics.

This plays the role Inception-v3 plays for FID/KID on natural images, but it is trained here on the
8x8 digits (train split only), so the numbers it yields are *not* Inception FID/KID and are not
comparable with published values; they compare methods within this project.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import torch
from torch import nn

from diffusion.data import DigitsSplit
from diffusion.initialisation import initialise_parameters

__all__ = ["ClassifierConfig", "ClassifierTrainingReport", "DigitClassifier", "train_classifier"]


@dataclasses.dataclass(frozen=True, kw_only=True)
class ClassifierConfig:
    """Architecture and optimisation of the feature classifier.

    Attributes:
        n_features: width of the penultimate (feature) layer.
        n_epochs: passes over the training images.
        batch_size: images per step.
        learning_rate: AdamW step size.
        shift_pixels: maximal random translation (pixels) used as augmentation.
    """

    n_features: int = 64
    n_epochs: int = 25
    batch_size: int = 64
    learning_rate: float = 2e-3
    shift_pixels: int = 1

    def __post_init__(self) -> None:
        if self.n_features < 2 or self.n_epochs < 1 or self.batch_size < 1:
            raise ValueError("n_features must be >= 2, n_epochs and batch_size >= 1")
        if self.learning_rate <= 0 or self.shift_pixels < 0:
            raise ValueError("learning_rate must be > 0 and shift_pixels >= 0")


@dataclasses.dataclass(frozen=True)
class ClassifierTrainingReport:
    """Accuracy of the trained classifier (fractions in [0, 1])."""

    train_accuracy: float
    test_accuracy: float


class DigitClassifier(nn.Module):
    """CNN 8x8 -> features -> 10 logits.

    Buffers ``feature_mean`` and ``feature_std`` (set after training from the training images)
    standardise the features, which keeps polynomial-kernel KID on a sane scale.
    """

    def __init__(self, config: ClassifierConfig):
        super().__init__()
        self.config = config
        self.body = nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(32, 32, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1),
            nn.ReLU(),
            nn.Flatten(),
            nn.Linear(64 * 16, config.n_features),
        )
        # The features are the pre-activations of the penultimate layer: after a ReLU, dead
        # units would leave many feature dimensions constant.
        self.head = nn.Sequential(nn.ReLU(), nn.Linear(config.n_features, 10))
        self.register_buffer("feature_mean", torch.zeros(config.n_features))
        self.register_buffer("feature_std", torch.ones(config.n_features))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Images (n, 1, 8, 8) in [0, 1] -> logits (n, 10)."""
        return self.head(self.body(images))

    @torch.no_grad()
    def features(self, images: torch.Tensor, *, batch_size: int = 1024) -> torch.Tensor:
        """Standardised penultimate-layer pre-activations (n, n_features), float64 on the CPU."""
        chunks = [self.body(images[i : i + batch_size]) for i in range(0, images.shape[0], batch_size)]
        raw = torch.cat(chunks).double().cpu()
        return (raw - self.feature_mean.double().cpu()) / self.feature_std.double().cpu()

    @torch.no_grad()
    def predict(self, images: torch.Tensor) -> torch.Tensor:
        """Predicted classes (n,) int64."""
        return self.forward(images).argmax(dim=1)


def _shift(images: torch.Tensor, max_shift: int, generator: torch.Generator) -> torch.Tensor:
    # Random integer translation with zero fill: digits are not always centred in generated images.
    if max_shift == 0:
        return images
    padded = nn.functional.pad(images, (max_shift,) * 4)
    offsets = torch.randint(0, 2 * max_shift + 1, (images.shape[0], 2), generator=generator)
    rows = offsets[:, 0, None] + torch.arange(8)
    cols = offsets[:, 1, None] + torch.arange(8)
    batch = torch.arange(images.shape[0])[:, None, None]
    return padded[batch, 0, rows[:, :, None], cols[:, None, :]].unsqueeze(1)


def train_classifier(
    split: DigitsSplit,
    config: ClassifierConfig,
    *,
    generator: torch.Generator,
    on_epoch: Callable[[int, float], None] | None = None,
) -> tuple[DigitClassifier, ClassifierTrainingReport]:
    """Train the classifier on the train split (cross-entropy, shift augmentation), on the CPU.

    Args:
        split: the digits data.
        config: architecture and optimisation.
        generator: CPU generator for initialisation, shuffling and augmentation.
        on_epoch: optional callback ``(epoch, train_loss)``.

    Returns:
        The trained classifier in eval mode (feature standardisation set) and its accuracies.
    """
    model = initialise_parameters(DigitClassifier(config), generator=generator)
    # Buffers are not parameters; make sure the standardisation starts neutral.
    model.feature_mean.zero_()
    model.feature_std.fill_(1.0)
    optimiser = torch.optim.AdamW(model.parameters(), lr=config.learning_rate)
    images, labels = split.train_images, split.train_labels
    model.train()
    for epoch in range(config.n_epochs):
        order = torch.randperm(images.shape[0], generator=generator)
        total, seen = 0.0, 0
        for start in range(0, images.shape[0], config.batch_size):
            index = order[start : start + config.batch_size]
            batch = _shift(images[index], config.shift_pixels, generator)
            loss = nn.functional.cross_entropy(model(batch), labels[index])
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
            total += float(loss.detach()) * index.numel()
            seen += index.numel()
        if on_epoch is not None:
            on_epoch(epoch, total / seen)
    model.eval()
    with torch.no_grad():
        raw = model.body(images)
        model.feature_mean.copy_(raw.mean(dim=0))
        # Dead ReLU units have zero spread; a floor keeps them at zero instead of dividing by zero.
        model.feature_std.copy_(raw.std(dim=0).clamp_min(1e-3))
        train_accuracy = float((model.predict(images) == labels).double().mean())
        test_accuracy = float((model.predict(split.test_images) == split.test_labels).double().mean())
    return model, ClassifierTrainingReport(train_accuracy=train_accuracy, test_accuracy=test_accuracy)
