"""One figure per metric of a sweep: a line over one axis or a heatmap over two, with the replica spread.

* no axis: the replicas' values as points, their mean and standard deviation;
* one axis: mean over replicas vs the axis, error bars of one standard deviation, every replica as a dot;
* two axes: heatmaps of the replica mean and of the replica standard deviation;
* three or more: a line over the first axis for every combination of the others (legend when <= 10 lines).

Cells that raised are left out (a metric that is NaN is a gap). Built with ``matplotlib.figure.Figure``
(no pyplot state) and written atomically.
"""

from __future__ import annotations

import itertools
import json
import math
import pathlib
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from devices import atomic_write

__all__ = ["plot_metric", "write_figures"]

_MAX_LEGEND = 10


def _label(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    return str(value)


def _numeric(values: Sequence[Any]) -> bool:
    return all(isinstance(value, (int, float)) and not isinstance(value, bool) for value in values)


def _key(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


class _Samples:
    """The metric's finite replica values per grid point (looked up by the point's axis values)."""

    def __init__(self, rows: Sequence[Mapping[str, Any]], axes: Sequence[Any], metric: str):
        self.names = [axis.name for axis in axes]
        self.table: dict[tuple[str, ...], list[float]] = {}
        for row in rows:
            value = row["metrics"].get(metric)
            if value is not None and math.isfinite(value):
                point = tuple(_key(row["values"][name]) for name in self.names)
                self.table.setdefault(point, []).append(float(value))

    def __call__(self, selection: Mapping[str, Any]) -> np.ndarray:
        return np.array(self.table.get(tuple(_key(selection[name]) for name in self.names), []), dtype=float)


def _mean_std(samples: np.ndarray) -> tuple[float, float]:
    if samples.size == 0:
        return math.nan, math.nan
    return float(samples.mean()), float(samples.std(ddof=1)) if samples.size > 1 else 0.0


def _positions(axis) -> tuple[np.ndarray, list[str] | None]:
    """x positions of an axis's values: the values themselves when numeric, else 0, 1, ... with labels."""
    if _numeric(axis.values):
        return np.array(axis.values, dtype=float), None
    return np.arange(len(axis.values), dtype=float), [_label(value) for value in axis.values]


def plot_metric(rows: Sequence[Mapping[str, Any]], axes: Sequence[Any], metric: str, *, title: str = ""):
    """The figure of one metric.

    Args:
        rows: part records (``values`` axis -> value, ``metrics`` name -> float).
        axes: the spec's :class:`~cim_emu.sweep.spec.Axis` objects.
        metric: the metric to draw.
        title: figure title.

    Returns:
        A ``matplotlib.figure.Figure``.
    """
    from matplotlib.figure import Figure

    samples_at = _Samples(rows, axes, metric)
    if len(axes) == 2:
        figure = Figure(figsize=(10, 4.2), layout="constrained")
        first, second = axes
        means = np.full((len(second.values), len(first.values)), np.nan)
        spreads = np.full_like(means, np.nan)
        for (i, x), (j, y) in itertools.product(enumerate(first.values), enumerate(second.values)):
            means[j, i], spreads[j, i] = _mean_std(samples_at({first.name: x, second.name: y}))
        for panel, (data, what) in enumerate(((means, "mean over replicas"), (spreads, "std over replicas"))):
            axis = figure.add_subplot(1, 2, panel + 1)
            image = axis.imshow(data, origin="lower", aspect="auto", cmap="viridis")
            axis.set_xticks(range(len(first.values)), [_label(v) for v in first.values], rotation=45)
            axis.set_yticks(range(len(second.values)), [_label(v) for v in second.values])
            axis.set_xlabel(first.name)
            axis.set_ylabel(second.name)
            axis.set_title(f"{metric}: {what}")
            figure.colorbar(image, ax=axis)
    else:
        figure = Figure(figsize=(6.4, 4.2), layout="constrained")
        axis = figure.add_subplot(1, 1, 1)
        if not axes:
            samples = samples_at({})
            mean, spread = _mean_std(samples)
            axis.scatter(np.zeros(samples.size), samples, s=12, alpha=0.5, label="replicas")
            axis.errorbar([0], [mean], yerr=[spread], fmt="o", color="k", capsize=4, label="mean +- std")
            axis.set_xticks([])
            axis.legend()
        else:
            first, others = axes[0], axes[1:]
            x, labels = _positions(first)
            combinations = list(itertools.product(*(other.values for other in others)))
            for combination in combinations:
                fixed = {other.name: value for other, value in zip(others, combination, strict=True)}
                stats = [samples_at({**fixed, first.name: value}) for value in first.values]
                mean_std = np.array([_mean_std(samples) for samples in stats])
                name = ", ".join(f"{key.rsplit('.', 1)[-1]}={_label(value)}" for key, value in fixed.items())
                line = axis.errorbar(x, mean_std[:, 0], yerr=mean_std[:, 1], marker="o", capsize=3,
                                     label=name or "mean +- std over replicas")
                for position, samples in zip(x, stats, strict=True):
                    axis.scatter(np.full(samples.size, position), samples, s=8, alpha=0.35,
                                 color=line[0].get_color())
            if first.log:
                axis.set_xscale("log")
            if labels is not None:
                axis.set_xticks(x, labels, rotation=30)
            axis.set_xlabel(first.name)
            if len(combinations) <= _MAX_LEGEND:
                axis.legend(fontsize="small")
        axis.set_ylabel(metric)
    figure.suptitle(title or metric)
    return figure


def write_figures(rows: Sequence[Mapping[str, Any]], axes: Sequence[Any], metrics: Sequence[str],
                  directory: str | pathlib.Path, *, title: str = "") -> list[pathlib.Path]:
    """``directory/<metric>.png`` for every metric (atomically); returns the paths."""
    directory = pathlib.Path(directory)
    written = []
    for metric in metrics:
        figure = plot_metric(rows, axes, metric, title=f"{title}: {metric}" if title else metric)
        path = directory / f"{metric}.png"
        with atomic_write(path, "wb") as handle:
            figure.savefig(handle, format="png", dpi=110)
        written.append(path)
    return written
