"""Crossbars, stochastic layers, energy model, randomness suite and the CLI of cim-emu."""

from cim_emu.crossbar.counters import COUNTER_FIELDS, OpCounts, record, track_ops

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
    "BitFormat",
    "SequencesAnalysis",
    "SuiteConfig",
    "SuiteReport",
    "TestResult",
    "TRNGQuality",
    "analyse_sequences",
    "assess_quality",
    "plot_trng_summary",
    "read_bits",
    "run_suite",
    "run_suite_many",
]
# Every subpackage loads on first use of one of its names: the crossbar layers load torch and numba, the
# energy model and the randomness suite numpy and scipy. ``cim-emu --help`` imports none of them, and
# ``cim-emu nist`` only the randomness suite (no torch).
_LAZY = {
    "cim_emu.energy": (
        "EndToEndReport", "EnergyConfig", "ExSituDesign", "GenerationComparison", "GenerationResult", "PDNNCosts",
        "PricedOps", "bench_report", "calibrate_to_table2", "compare_generation", "end_to_end_report",
        "ex_situ_generation", "in_situ_generation", "load_energy_config", "load_op_counts_file", "pdnn_report",
        "price_op_counts", "save_energy_config",
    ),
    "cim_emu.randomness": (
        "BitFormat", "SequencesAnalysis", "SuiteConfig", "SuiteReport", "TestResult", "TRNGQuality",
        "analyse_sequences", "assess_quality", "plot_trng_summary", "read_bits", "run_suite", "run_suite_many",
    ),
    "cim_emu.crossbar.config": ("CrossbarConfig", "ReadNoiseModel", "WritePulse", "DAC", "ADC", "ColumnReadNoise",
                                "PerCellReadNoise", "FirstOrderIRDrop"),
    "cim_emu.crossbar.layers.linear": ("CrossbarLinear", "hardware_aware_linear"),
    "cim_emu.crossbar.kernels": ("MaskBackend", "keep_masks", "keep_thresholds", "masked_mvm"),
    "cim_emu.crossbar.kernels.dispatch": ("cpu_path_report",),
    "cim_emu.crossbar.layout": ("TileLayout",),
    "cim_emu.crossbar.layers.mc_dropconnect": ("MCDropConnectLinear",),
    "cim_emu.experiments.regression": ("RegressionConfig", "RegressionResult", "run_regression", "plot_regression"),
    "cim_emu.crossbar.tiles.tile": ("CrossbarTile", "ProbabilisticTile"),
    "cim_emu.crossbar.layers.noise.ex_situ": ("TRNGGaussianNoise",),
    "cim_emu.crossbar.layers.conv": ("CrossbarConv2d", "MCDropConnectConv2d"),
    "cim_emu.crossbar.layers.pbit": ("PBitActivation",),
    "cim_emu.crossbar.convert": ("convert", "program", "calibrate", "generator_scope", "ConversionReport"),
}
_LAZY_NAMES = {name: module for module, names in _LAZY.items() for name in names}


def __getattr__(name: str):
    if name in _LAZY_NAMES:
        import importlib

        value = getattr(importlib.import_module(_LAZY_NAMES[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'cim_emu' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY_NAMES))


__all__ += [
    "CrossbarConfig", "ReadNoiseModel", "WritePulse", "DAC", "ADC", "ColumnReadNoise", "PerCellReadNoise",
    "FirstOrderIRDrop",
    "CrossbarLinear", "hardware_aware_linear", "MCDropConnectLinear",
    "CrossbarTile", "ProbabilisticTile", "TileLayout",
    "MaskBackend", "keep_masks", "keep_thresholds", "masked_mvm", "cpu_path_report",
    "TRNGGaussianNoise",
    "CrossbarConv2d", "MCDropConnectConv2d", "PBitActivation",
    "convert", "program", "calibrate", "generator_scope", "ConversionReport",
    "RegressionConfig", "RegressionResult", "run_regression", "plot_regression",
]
