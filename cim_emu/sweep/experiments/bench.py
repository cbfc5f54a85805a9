"""Sweep adapter: the circuit-level energy model (``cim-emu bench``): in-situ vs ex-situ p-bits, p-DNN energy.

The model is deterministic: a cell's seed is recorded but draws nothing. The ``energy`` group is the
:class:`cim_emu.energy.EnergyConfig` (``write.pulse_width_s``, ``mtj.tmr_low_bias``, ``array.n_rows``, ...).
When a spec sets a ``card.*`` field or a ``card_file``, the configuration first takes the card's junction and
p-bit operating point (:meth:`EnergyConfig.from_card`), then the spec's ``energy.*`` fields on top.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from cim_emu.sweep.experiments import Experiment, Group, card_group, metric_name

__all__ = ["EXPERIMENT", "run_bench_cell"]


def _energy_base(context):
    from cim_emu.energy import EnergyConfig

    uses_card = context.uses_card_file or any(key.startswith("card.") for key in context.touched)
    return EnergyConfig.from_card(context.built["card"]) if uses_card else EnergyConfig()


def run_bench_cell(settings: Mapping[str, Any], stream) -> dict[str, float]:
    """The energy report's scalars for one configuration.

    Args:
        settings: ``card`` (DeviceCard) and ``energy`` (EnergyConfig).
        stream: the cell's ``SeedStream`` (unused: the model is deterministic).

    Returns:
        In-situ throughput (bit/ns), energy (pJ/bit) and added area (um^2); the same for every ex-situ design;
        the headline throughput and efficiency ratios; the largest relative Table II error; the p-DNN
        break-even number of samples.
    """
    from cim_emu.energy.report import bench_report

    report = bench_report(settings["energy"])
    metrics = {}
    for entry in [report["in_situ"], *report["ex_situ"]]:
        for quantity in ("throughput_bit_per_ns", "energy_pJ_per_bit", "area_um2"):
            value = entry[quantity]  # None where a design has no such figure (a board link adds no area)
            metrics[metric_name(entry["name"], quantity)] = math.nan if value is None else float(value)
    metrics["throughput_ratio"] = float(report["ratios"]["throughput"])
    metrics["efficiency_ratio"] = float(report["ratios"]["efficiency"])
    metrics["table2_max_abs_relative_error"] = float(report["table2"]["max_abs_relative_error"])
    metrics["pdnn_break_even_samples"] = float(report["pdnn"]["break_even_samples"])
    return metrics


def _warm_up() -> None:
    from cim_emu.energy import EnergyConfig
    from cim_emu.energy.report import bench_report

    bench_report(EnergyConfig())


EXPERIMENT = Experiment(
    name="bench",
    description="circuit energy model: in-situ vs ex-situ p-bit generation (Table II) and p-DNN energy",
    groups=(card_group(),
            Group("energy", _energy_base, "circuit configuration (cim_emu.energy.EnergyConfig): mtj.*, "
                                          "technology.*, array.*, write.*, periphery.*")),
    run=run_bench_cell,
    warm_up=_warm_up,
)
