"""Sample-quality metrics in the feature space of the locally trained digit classifier.

Not Inception FID/KID: the features come from :class:`diffusion.classifier.DigitClassifier`, a small
CNN trained on the digits' train split, so values compare methods within this project only.

* KID (Binkowski et al. 2018): unbiased MMD^2 with the cubic polynomial kernel
  k(x, y) = (x.y / d + 1)^3, mean and standard deviation over random subsets (as torch-fidelity).
* Frechet distance (Heusel et al. 2017) between Gaussians fitted to the two feature sets.
* Precision and recall (Kynkaanniemi et al. 2019) with k-nearest-neighbour balls (k = 3):
  precision = share of candidates inside the reference manifold (fidelity),
  recall = share of references inside the candidate manifold (coverage).
* Entropy (bits) of the classifier's predicted labels: log2(10) = 3.32 for balanced digits.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import torch

__all__ = [
    "QualityMetrics",
    "kernel_inception_distance",
    "frechet_distance",
    "precision_recall",
    "label_entropy_bits",
    "compare_features",
    "evaluate_images",
]


@dataclasses.dataclass(frozen=True)
class QualityMetrics:
    """Quality of a candidate image set against a reference set (JSON-serialisable).

    Attributes:
        kid_mean: mean unbiased KID over subsets (0 for identical distributions; can be slightly negative).
        kid_std: standard deviation of the subset estimates.
        frechet_distance: Frechet distance of fitted Gaussians.
        precision: share of candidates within the reference k-NN manifold, in [0, 1].
        recall: share of references within the candidate k-NN manifold, in [0, 1].
        label_entropy_bits: entropy of the candidates' predicted labels (bits), None without labels.
        n_candidate: candidate set size.
        n_reference: reference set size.
    """

    kid_mean: float
    kid_std: float
    frechet_distance: float
    precision: float
    recall: float
    label_entropy_bits: float | None
    n_candidate: int
    n_reference: int

    def to_dict(self) -> dict[str, float | int]:
        """A JSON-ready dictionary."""
        return dataclasses.asdict(self)


def _as_float64(features: torch.Tensor | np.ndarray) -> np.ndarray:
    array = features.detach().cpu().numpy() if isinstance(features, torch.Tensor) else np.asarray(features)
    array = np.asarray(array, dtype=np.float64)
    if array.ndim != 2 or array.shape[0] < 2:
        raise ValueError(f"features must have shape (n >= 2, d), got {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError("features contain NaN or inf (did generation diverge?)")
    return array


def kernel_inception_distance(
    candidate: torch.Tensor | np.ndarray,
    reference: torch.Tensor | np.ndarray,
    *,
    generator: np.random.Generator,
    n_subsets: int = 100,
    subset_size: int | None = None,
) -> tuple[float, float]:
    """Unbiased KID, mean and std over ``n_subsets`` random subsets.

    Args:
        candidate: (n_a, d) features.
        reference: (n_b, d) features.
        generator: draws the subsets.
        n_subsets: number of subsets.
        subset_size: rows per subset and set; default min(n_a, n_b, 200).

    Returns:
        (mean, std) of the subset MMD^2 estimates.
    """
    a, b = _as_float64(candidate), _as_float64(reference)
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"feature dimensions differ: {a.shape[1]} vs {b.shape[1]}")
    size = min(a.shape[0], b.shape[0], 200) if subset_size is None else int(subset_size)
    if not 2 <= size <= min(a.shape[0], b.shape[0]):
        raise ValueError(f"subset_size must lie in [2, min(n_a, n_b)], got {size}")
    dimension = a.shape[1]
    estimates = np.empty(n_subsets)
    with _single_blas_thread():
        for index in range(n_subsets):
            x = a[generator.choice(a.shape[0], size, replace=False)]
            y = b[generator.choice(b.shape[0], size, replace=False)]
            k_xx = _cubic_kernel(x, x, dimension)
            k_yy = _cubic_kernel(y, y, dimension)
            k_xy = _cubic_kernel(x, y, dimension)
            # Unbiased MMD^2: drop the diagonal of the within-set kernel matrices.
            within = (k_xx.sum() - np.trace(k_xx) + k_yy.sum() - np.trace(k_yy)) / (size * (size - 1))
            estimates[index] = within - 2.0 * k_xy.mean()
    return float(estimates.mean()), float(estimates.std(ddof=1))


def _cubic_kernel(x: np.ndarray, y: np.ndarray, dimension: int) -> np.ndarray:
    base = x @ y.T / dimension + 1.0
    return base * base * base


def _single_blas_thread():
    # The matrices are small (a few hundred rows): BLAS threads only add contention, 10-20x slower
    # on a loaded 2-core machine. threadpoolctl ships with scikit-learn.
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="blas")


def _psd_sqrt(matrix: np.ndarray) -> np.ndarray:
    eigenvalues, eigenvectors = np.linalg.eigh((matrix + matrix.T) / 2.0)
    return (eigenvectors * np.sqrt(np.clip(eigenvalues, 0.0, None))) @ eigenvectors.T


def frechet_distance(candidate: torch.Tensor | np.ndarray, reference: torch.Tensor | np.ndarray) -> float:
    """Frechet distance ||mu_a - mu_b||^2 + tr(S_a + S_b - 2 (S_a^1/2 S_b S_a^1/2)^1/2).

    The symmetric form with eigendecompositions stays finite for singular covariances (more
    dimensions than samples), where ``scipy.linalg.sqrtm`` of S_a S_b does not.
    """
    a, b = _as_float64(candidate), _as_float64(reference)
    mean_a, mean_b = a.mean(axis=0), b.mean(axis=0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    root_a = _psd_sqrt(cov_a)
    cross = np.linalg.eigvalsh(root_a @ cov_b @ root_a)
    trace_term = np.trace(cov_a) + np.trace(cov_b) - 2.0 * np.sqrt(np.clip(cross, 0.0, None)).sum()
    return float(np.sum((mean_a - mean_b) ** 2) + trace_term)


def _kth_neighbour_radii(points: np.ndarray, k: int) -> np.ndarray:
    distances = np.sqrt(np.clip(_squared_distances(points, points), 0.0, None))
    # Column 0 of the sorted rows is the point itself (distance 0).
    return np.sort(distances, axis=1)[:, k]


def _squared_distances(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return (x**2).sum(1)[:, None] + (y**2).sum(1)[None, :] - 2.0 * x @ y.T


def precision_recall(
    candidate: torch.Tensor | np.ndarray, reference: torch.Tensor | np.ndarray, *, k: int = 3
) -> tuple[float, float]:
    """Improved precision and recall (Kynkaanniemi et al. 2019) with k-NN balls.

    Returns:
        (precision, recall): candidates inside the union of reference balls, and references
        inside the union of candidate balls, each ball reaching the k-th nearest neighbour.
    """
    a, b = _as_float64(candidate), _as_float64(reference)
    if min(a.shape[0], b.shape[0]) <= k:
        raise ValueError(f"precision/recall with k={k} needs more than {k} points per set")
    with _single_blas_thread():
        radii_a, radii_b = _kth_neighbour_radii(a, k), _kth_neighbour_radii(b, k)
        distances = np.sqrt(np.clip(_squared_distances(a, b), 0.0, None))
    precision = float(np.mean(np.any(distances <= radii_b[None, :], axis=1)))
    recall = float(np.mean(np.any(distances <= radii_a[:, None], axis=0)))
    return precision, recall


def label_entropy_bits(labels: torch.Tensor | np.ndarray, n_classes: int = 10) -> float:
    """Entropy (bits) of the empirical label distribution."""
    array = labels.cpu().numpy() if isinstance(labels, torch.Tensor) else np.asarray(labels)
    counts = np.bincount(array.astype(np.int64).ravel(), minlength=n_classes).astype(np.float64)
    share = counts[counts > 0] / counts.sum()
    return float(-(share * np.log2(share)).sum())


def compare_features(
    candidate: torch.Tensor | np.ndarray,
    reference: torch.Tensor | np.ndarray,
    *,
    generator: np.random.Generator,
    candidate_labels: torch.Tensor | np.ndarray | None = None,
    n_subsets: int = 100,
    subset_size: int | None = None,
    k: int = 3,
) -> QualityMetrics:
    """All metrics of a candidate feature set against a reference feature set."""
    kid_mean, kid_std = kernel_inception_distance(
        candidate, reference, generator=generator, n_subsets=n_subsets, subset_size=subset_size
    )
    precision, recall = precision_recall(candidate, reference, k=k)
    entropy = None if candidate_labels is None else label_entropy_bits(candidate_labels)
    return QualityMetrics(
        kid_mean=kid_mean,
        kid_std=kid_std,
        frechet_distance=frechet_distance(candidate, reference),
        precision=precision,
        recall=recall,
        label_entropy_bits=entropy,
        n_candidate=int(len(candidate)),
        n_reference=int(len(reference)),
    )


def evaluate_images(
    candidate_images: torch.Tensor,
    reference_images: torch.Tensor,
    classifier,
    *,
    generator: np.random.Generator,
    n_subsets: int = 100,
    subset_size: int | None = None,
) -> QualityMetrics:
    """Metrics of candidate images (n, 1, 8, 8) in [0, 1] against reference images.

    Args:
        candidate_images: the images judged.
        reference_images: the real images they are compared with.
        classifier: a trained :class:`~diffusion.classifier.DigitClassifier` (features, labels).
        generator: draws the KID subsets.
        n_subsets: KID subsets.
        subset_size: KID subset size (default min(n_a, n_b, 200)).
    """
    device = next(classifier.parameters()).device
    candidate_images = candidate_images.to(device)
    return compare_features(
        classifier.features(candidate_images),
        classifier.features(reference_images.to(device)),
        generator=generator,
        candidate_labels=classifier.predict(candidate_images).cpu(),
        n_subsets=n_subsets,
        subset_size=subset_size,
    )
