"""Crossbars, stochastic layers, energy model, randomness suite and the CLI of cim-emu."""

from cim_emu.config import CrossbarConfig, ReadNoiseModel, WritePulse
from cim_emu.counters import COUNTER_FIELDS, OpCounts, record, track_ops
from cim_emu.crossbar_linear import CrossbarLinear, hardware_aware_linear
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
from cim_emu.kernels import MaskBackend, keep_masks, keep_thresholds, masked_mvm
from cim_emu.layout import TileLayout
from cim_emu.mc_dropconnect import MCDropConnectLinear
from cim_emu.regression import RegressionConfig, RegressionResult, plot_regression, run_regression
from cim_emu.tile import CrossbarTile, ProbabilisticTile
from cim_emu.trng_noise import TRNGGaussianNoise

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
__all__ += [
    "CrossbarConfig", "ReadNoiseModel", "WritePulse",
    "CrossbarLinear", "hardware_aware_linear", "MCDropConnectLinear",
    "CrossbarTile", "ProbabilisticTile", "TileLayout",
    "MaskBackend", "keep_masks", "keep_thresholds", "masked_mvm",
    "TRNGGaussianNoise",
    "RegressionConfig", "RegressionResult", "run_regression", "plot_regression",
]
