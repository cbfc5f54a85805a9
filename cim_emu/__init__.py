"""Crossbars, stochastic layers, energy model, randomness suite and the CLI of cim-emu."""

from cim_emu.counters import COUNTER_FIELDS, OpCounts, record, track_ops
from cim_emu.energy import (
    EndToEndReport,
    EnergyConfig,
    ExSituDesign,
    GenerationComparison,
    GenerationResult,
    PDNNCosts,
    PricedOps,
    bench_report,
    calibrate_to_table2,
    compare_generation,
    end_to_end_report,
    ex_situ_generation,
    in_situ_generation,
    load_energy_config,
    load_op_counts_file,
    pdnn_report,
    price_op_counts,
    save_energy_config,
)

__all__ = ["COUNTER_FIELDS", "OpCounts", "record", "track_ops"]
__all__ += [
    "EndToEndReport",
    "EnergyConfig",
    "ExSituDesign",
    "GenerationComparison",
    "GenerationResult",
    "PDNNCosts",
    "PricedOps",
    "bench_report",
    "calibrate_to_table2",
    "compare_generation",
    "end_to_end_report",
    "ex_situ_generation",
    "in_situ_generation",
    "load_energy_config",
    "load_op_counts_file",
    "pdnn_report",
    "price_op_counts",
    "save_energy_config",
]
