"""Output files shared by several commands: the regression's figure and metrics, the energy model's figures
(private to the CLI; ``cim-emu regress``/``bench`` and the demo write the same files)."""

from __future__ import annotations

import json
import os

__all__ = ["write_regression_outputs", "write_energy_plots"]


def write_regression_outputs(result, directory) -> tuple[str, str]:
    """Write regress.png and regress.json (the metrics) into ``directory``; returns their paths."""
    from cim_emu.experiments.regression import plot_regression
    from devices import atomic_write

    os.makedirs(directory, exist_ok=True)
    figure_path = os.path.join(directory, "regress.png")
    json_path = os.path.join(directory, "regress.json")
    plot_regression(result, figure_path)
    with atomic_write(json_path) as handle:
        json.dump(result.metrics(), handle, indent=2)
        handle.write("\n")
    return figure_path, json_path


def write_energy_plots(config, directory) -> list[tuple[str, str]]:
    """Every sweep figure and the Table II landscape as PNGs in ``directory``.

    Returns:
        ``(name, path)`` per figure: the sweep's name, or ``"table2_landscape"``.
    """
    from cim_emu.energy import all_sweeps, compare_generation, plot_sweep, plot_table2_landscape

    os.makedirs(directory, exist_ok=True)
    written = []
    for sweep in all_sweeps(config):
        path = os.path.join(directory, f"sweep_{sweep.name}.png")
        plot_sweep(sweep, path)
        written.append((sweep.name, path))
    path = os.path.join(directory, "table2_landscape.png")
    plot_table2_landscape(compare_generation(config), path)
    written.append(("table2_landscape", path))
    return written
