"""Figures of the generation run: image grids, the UMAP map (Fig. 24 analogue), calibration curves.

Plotting only: every function takes finished numbers and returns a ``matplotlib.figure.Figure`` built
directly (no pyplot, no backend switch: library code leaves matplotlib's global state alone); saving is
:func:`diffusion.io.save_figure`'s job.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["image_grid_figure", "umap_figure", "calibration_figure"]


def _figure(**kwargs):
    from matplotlib.figure import Figure

    return Figure(**kwargs)


def image_grid_figure(images, *, n_columns: int = 16, title: str | None = None):
    """A grid of grey-scale digits.

    Args:
        images: (n, 1, 8, 8) or (n, 8, 8) array/tensor, pixels in [0, 1].
        n_columns: images per row.
        title: optional figure title.
    """
    array = np.asarray(images.detach().cpu() if hasattr(images, "detach") else images, dtype=np.float64)
    array = array.reshape(array.shape[0], 8, 8)
    n_rows = max(1, math.ceil(array.shape[0] / n_columns))
    canvas = np.ones((n_rows * 9 + 1, n_columns * 9 + 1))
    for index, image in enumerate(array):
        row, column = divmod(index, n_columns)
        canvas[1 + row * 9 : 9 + row * 9, 1 + column * 9 : 9 + column * 9] = 1.0 - image
    figure = _figure(figsize=(n_columns * 0.4, n_rows * 0.4 + (0.4 if title else 0.0)))
    axes = figure.subplots()
    axes.imshow(canvas, cmap="gray", vmin=0.0, vmax=1.0, interpolation="nearest")
    axes.set_axis_off()
    if title:
        axes.set_title(title)
    return figure


def umap_figure(embeddings: dict[str, np.ndarray], labels: dict[str, np.ndarray] | None = None):
    """Real vs generated sets in the UMAP fitted on the real features.

    Args:
        embeddings: ``{"real": (n, 2), name: (n_i, 2), ...}`` from :func:`diffusion.embedding.umap_embedding`.
        labels: optional predicted classes per set (colours); without them every set is one colour.
    """
    from matplotlib import colormaps

    names = list(embeddings)
    figure = _figure(figsize=(4.0 * len(names), 4.0))
    axes = np.atleast_1d(figure.subplots(1, len(names), sharex=True, sharey=True))
    real = embeddings["real"]
    colour_map = colormaps["tab10"]
    for axis, name in zip(axes, names, strict=True):
        if name != "real":
            # The real map in grey behind every generated set shows what it covers and what it misses.
            axis.scatter(real[:, 0], real[:, 1], s=4, color="0.85", label="real")
        points = embeddings[name]
        if labels is not None and name in labels:
            colours = colour_map(np.asarray(labels[name]) % 10)
        else:
            colours = "C0"
        axis.scatter(points[:, 0], points[:, 1], s=5, c=colours)
        axis.set_title(f"{name} (n={points.shape[0]})")
        axis.set_xticks([])
        axis.set_yticks([])
    figure.suptitle("UMAP fitted on real features; generated sets transformed into it (colour: predicted digit)")
    return figure


def calibration_figure(times: np.ndarray, series: dict[str, np.ndarray], *, tolerance: float = 0.1):
    """Variance ratio (produced / required g(t)^2 dt) of each noise source against diffusion time.

    Args:
        times: (n,) probe times t.
        series: method name -> (n,) variance ratios.
        tolerance: half-width of the acceptance band drawn around 1.
    """
    figure = _figure(figsize=(5.5, 3.5))
    axis = figure.subplots()
    axis.axhspan(1.0 - tolerance, 1.0 + tolerance, color="0.9", label=f"1 +- {tolerance:g}")
    axis.axhline(1.0, color="0.5", linewidth=0.8)
    for index, (name, ratios) in enumerate(series.items()):
        axis.plot(times, ratios, marker="o", markersize=3, color=f"C{index}", label=name)
    axis.set_xlabel("diffusion time t")
    axis.set_ylabel("produced / required variance")
    axis.invert_xaxis()
    axis.legend(frameon=False)
    return figure
