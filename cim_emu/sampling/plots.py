"""Figures of the sampling applications, built on ``matplotlib.figure.Figure`` (no pyplot state)."""

from __future__ import annotations

import numpy as np

__all__ = ["plot_ising", "plot_maxcut", "plot_bias", "plot_digit_grid"]


def plot_ising(mean_spin: np.ndarray, pair_correlation: np.ndarray, *, title: str = ""):
    """Marginals <m_i> (bars) and the correlation matrix <m_i m_j> (image)."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(10, 4), layout="constrained")
    bars, matrix = figure.subplots(1, 2)
    bars.bar(np.arange(len(mean_spin)), mean_spin, color="tab:blue")
    bars.set_xlabel("spin i")
    bars.set_ylabel("<m_i>")
    bars.set_ylim(-1, 1)
    image = matrix.imshow(pair_correlation, vmin=-1, vmax=1, cmap="RdBu_r")
    matrix.set_title("<m_i m_j>")
    figure.colorbar(image, ax=matrix)
    if title:
        figure.suptitle(title)
    return figure


def plot_maxcut(best_cut_per_sweep: np.ndarray, greedy_cut: float, *, label: str = "p-bit annealing"):
    """Best cut found against sweeps, beside the greedy local search's best cut."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(6, 4), layout="constrained")
    axes = figure.subplots()
    sweeps = np.arange(1, len(best_cut_per_sweep) + 1)
    axes.plot(sweeps, best_cut_per_sweep, label=label)
    axes.axhline(greedy_cut, color="tab:red", linestyle="--", label="greedy local search (best of restarts)")
    axes.set_xscale("log")
    axes.set_xlabel("sweeps")
    axes.set_ylabel("best cut")
    low = min(float(np.min(best_cut_per_sweep[len(best_cut_per_sweep) // 10:])), greedy_cut)
    axes.set_ylim(low - 0.02 * abs(low), None)
    axes.legend()
    return figure


def plot_bias(rows: list, *, title: str = ""):
    """Bars of the max marginal and correlation error of each non-ideality (rows of ``nonideality_bias``)."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(9, 4.5), layout="constrained")
    axes = figure.subplots()
    names = [row.name for row in rows]
    positions = np.arange(len(rows))
    axes.barh(positions - 0.2, [row.max_mean_error for row in rows], height=0.4, label="max |d<m_i>|")
    axes.barh(positions + 0.2, [row.max_correlation_error for row in rows], height=0.4, label="max |d<m_i m_j>|")
    axes.set_yticks(positions, names)
    axes.invert_yaxis()
    axes.set_xlabel("error against exact enumeration")
    axes.legend()
    if title:
        axes.set_title(title)
    return figure


def plot_digit_grid(images: dict, *, n_columns: int = 10):
    """One row block per entry of ``images`` (name -> (k, 8, 8) array in [0, 1])."""
    from matplotlib.figure import Figure

    n_rows = len(images)
    figure = Figure(figsize=(n_columns * 0.6, n_rows * 0.8 + 0.3), layout="constrained")
    grid = figure.subplots(n_rows, n_columns, squeeze=False)
    for row, (name, stack) in enumerate(images.items()):
        for column in range(n_columns):
            axes = grid[row, column]
            axes.set_axis_off()
            if column < len(stack):
                axes.imshow(np.asarray(stack[column]).reshape(8, 8), cmap="gray_r", vmin=0, vmax=1)
        grid[row, 0].set_title(name, fontsize=8, loc="left")
    return figure
