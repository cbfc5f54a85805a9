"""PNG figures of the energy model (matplotlib, Agg backend): sweeps and the Table II landscape.

Plots convert SI to readable units at the edge (ns, V, bit/ns, pJ/bit) and say so on the axes.
Files are written atomically.
"""

from __future__ import annotations

import os

from cim_emu.energy.literature import LITERATURE_ROWS, THIS_WORK_ROWS
from cim_emu.energy.pbit_generation import GenerationComparison
from cim_emu.energy.sweeps import SweepResult

__all__ = ["plot_sweep", "plot_table2_landscape"]

# SI -> display unit: (scale, label).
_DISPLAY = {
    "s": (1e9, "ns"),
    "V": (1.0, "V"),
    "cells": (1.0, "cells"),
    "": (1.0, ""),
    "bit/s": (1e-9, "bit/ns"),
    "J/bit": (1e12, "pJ/bit"),
    "MVM/s": (1e-6, "MVM/us"),
    "J/MVM": (1e12, "pJ/MVM"),
    "inference/s": (1e-6, "inference/us"),
    "J/inference": (1e6, "uJ/inference"),
}


def _display(unit: str) -> tuple[float, str]:
    return _DISPLAY.get(unit, (1.0, unit))


def _figure(**subplots):
    """A ``(figure, axes)`` pair built on ``matplotlib.figure.Figure`` (no pyplot: no global matplotlib state)."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=subplots.pop("figsize"))
    return figure, figure.subplots(**subplots)


def plot_sweep(result: SweepResult, path: str | os.PathLike) -> None:
    """Throughput (top) and energy (bottom) against the swept parameter, operating point marked.

    Args:
        result: a sweep from :mod:`cim_emu.energy.sweeps`.
        path: PNG file to write.
    """
    with_throughput = any(series.throughput is not None for series in result.series)
    with_probability = result.switching_probability is not None
    n_panels = 1 + int(with_throughput) + int(with_probability)
    figure, axes = _figure(nrows=n_panels, ncols=1, figsize=(6.4, 2.6 + 2.4 * n_panels), sharex=True, squeeze=False)
    x_scale, x_unit = _display(result.unit)
    x_values = [v * x_scale for v in result.values]
    panels = [("energy", result.energy_unit)]
    if with_throughput:
        panels.insert(0, ("throughput", result.throughput_unit))
    for axis, (quantity, unit) in zip(axes[: len(panels), 0], panels, strict=True):
        y_scale, y_unit = _display(unit)
        for series in result.series:
            data = getattr(series, quantity)
            if data is None:
                continue
            axis.plot(x_values, [v * y_scale for v in data], marker="o", markersize=3, label=series.label)
        axis.set_ylabel(f"{quantity} ({y_unit})" if y_unit else quantity)
        axis.set_yscale("log")
    if with_probability:
        axis = axes[-1, 0]
        axis.plot(x_values, result.switching_probability, marker="o", markersize=3, color="k")
        axis.axhline(0.5, color="0.5", linewidth=0.8)
        axis.set_ylabel("p-bit switching\nprobability (card)")
        axis.set_ylim(0.0, 1.0)
    for axis in axes[:, 0]:
        axis.axvline(result.operating_point * x_scale, color="k", linestyle="--", linewidth=0.8)
        axis.grid(True, which="both", alpha=0.3)
    axes[0, 0].set_title(f"{result.parameter}: dashed line = operating point")
    axes[0, 0].legend(fontsize=7)
    bottom = axes[-1, 0]
    bottom.set_xlabel(f"{result.parameter} ({x_unit})" if x_unit else result.parameter)
    positive = all(v > 0 for v in result.values)
    if positive and max(result.values) / min(result.values) > 20:
        bottom.set_xscale("log")
    figure.tight_layout()
    from devices import atomic_write  # torch-heavy import, only when writing

    with atomic_write(path, "wb") as handle:
        figure.savefig(handle, dpi=120, format="png")


def plot_table2_landscape(comparison: GenerationComparison, path: str | os.PathLike) -> None:
    """Throughput against energy per bit: the model's rows, the paper's rows and the literature.

    Args:
        comparison: from :func:`cim_emu.energy.compare_generation`.
        path: PNG file to write.
    """
    figure, axis = _figure(figsize=(6.4, 4.8))
    for row in LITERATURE_ROWS:
        if row.garbled:
            continue
        axis.scatter(row.energy_pJ_per_bit, row.throughput_bit_per_ns, color="0.6", marker="s")
        axis.annotate(row.label, (row.energy_pJ_per_bit, row.throughput_bit_per_ns), fontsize=7, color="0.4")
    for index, row in enumerate(THIS_WORK_ROWS):
        axis.scatter(
            row.energy_pJ_per_bit,
            row.throughput_bit_per_ns,
            facecolors="none",
            edgecolors="C3",
            s=80,
            label="paper (Table II)" if index == 0 else None,
        )
    for index, result in enumerate((comparison.in_situ,) + comparison.ex_situ):
        units = result.paper_units()
        axis.scatter(
            units["energy_pJ_per_bit"],
            units["throughput_bit_per_ns"],
            color="C0",
            marker="x",
            label="model" if index == 0 else None,
        )
        axis.annotate(result.name, (units["energy_pJ_per_bit"], units["throughput_bit_per_ns"]), fontsize=7)
    axis.set_xscale("log")
    axis.set_yscale("log")
    axis.set_xlabel("energy per bit (pJ/bit), lower is better")
    axis.set_ylabel("throughput (bit/ns), higher is better")
    axis.grid(True, which="both", alpha=0.3)
    axis.legend(fontsize=8)
    figure.tight_layout()
    from devices import atomic_write  # torch-heavy import, only when writing

    with atomic_write(path, "wb") as handle:
        figure.savefig(handle, dpi=120, format="png")
