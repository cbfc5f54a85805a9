"""UMAP of real and generated feature sets, the analogue of the paper's Fig. 24.

UMAP (McInnes et al. 2018, the paper's ref. [7]) is fitted on the *real* features only; the
generated sets are then mapped into that fixed embedding with ``transform``, so every set is seen
through the same coordinates and a method that misses modes leaves parts of the real map empty.
"""

from __future__ import annotations

import warnings

import numpy as np

__all__ = ["umap_embedding"]


def umap_embedding(
    reference: np.ndarray,
    others: dict[str, np.ndarray],
    *,
    seed: int,
    n_neighbors: int = 15,
    min_dist: float = 0.1,
) -> dict[str, np.ndarray]:
    """Fit UMAP on ``reference`` features, transform the ``others`` into it.

    Args:
        reference: (n_ref, d) real features.
        others: name -> (n_i, d) features of generated sets.
        seed: UMAP's ``random_state`` (fixes the layout; UMAP then runs single-threaded).
        n_neighbors: UMAP neighbourhood size.
        min_dist: UMAP minimum distance.

    Returns:
        ``{"real": (n_ref, 2), name: (n_i, 2), ...}`` float64 coordinates.
    """
    reference = np.asarray(reference, dtype=np.float64)
    if reference.ndim != 2 or reference.shape[0] <= n_neighbors:
        raise ValueError(f"reference must be (n > n_neighbors={n_neighbors}, d), got {reference.shape}")
    for name, features in others.items():
        if np.asarray(features).shape[1:] != reference.shape[1:]:
            raise ValueError(
                f"features of {name!r} have shape {np.shape(features)}, expected (n, {reference.shape[1]})"
            )
    import umap

    reducer = umap.UMAP(n_neighbors=n_neighbors, min_dist=min_dist, random_state=int(seed), n_components=2)
    with warnings.catch_warnings():
        # umap warns that random_state disables parallelism: that is the point (reproducibility).
        warnings.simplefilter("ignore", UserWarning)
        embedded = {"real": np.asarray(reducer.fit_transform(reference), dtype=np.float64)}
        for name, features in others.items():
            embedded[name] = np.asarray(reducer.transform(np.asarray(features, dtype=np.float64)), dtype=np.float64)
    return embedded
