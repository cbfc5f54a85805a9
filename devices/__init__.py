"""Physics of single VCMA-MTJ devices and differential pairs (imports nothing else of cim-emu).

SI units throughout; every stochastic function takes an explicit ``torch.Generator``.

The names below load their module on first use (PEP 562), so a torch-free part of ``devices`` (the card,
the closed-form laws of :mod:`devices.laws`) can be imported without loading torch.
"""

import importlib

# Public name -> the module that defines it.
_MODULE_NAMES = {
    "devices.bitstream": (
        "BitstreamResult", "WriteMode", "generate_bitstream"
    ),
    "devices.card": (
        "CARD_SCHEMA", "DataBitParams", "DeviceCard", "EnduranceParams", "PBitParams", "default_card", "load_card",
        "save_card"
    ),
    "devices.endurance": (
        "broken_fraction", "conductance_drift", "endurance_cycles"
    ),
    "devices.io": (
        "Column", "DataError", "atomic_write", "read_bitstream", "read_table"
    ),
    "devices.mtj": (
        "DeviceConductances", "apply_read_noise", "conductance_levels", "resistance_parallel_ohm",
        "retention_failure_probability", "retention_time_s", "sample_conductances", "sample_device_conductances",
        "thermal_stability_at", "tmr_at_bias"
    ),
    "devices.pair": (
        "PAIR_STATES", "PairStatistics", "pair_state_statistics", "probabilistic_pair_conductance",
        "ternary_pair_conductance"
    ),
    "devices.pbit": (
        "first_peak_width_s", "sample_v50_offsets", "switching_probability", "trimmed_voltages",
        "voltage_at_probability", "window_10_90_V"
    ),
    "devices.summary": (
        "DeviceSummary", "summarize"
    ),
    "devices.macrospin": (
        "DeviceVariation", "MacrospinParams", "SolverConfig", "SwitchingMap", "TrapezoidPulse", "simulate_switching",
        "switching_map", "trace_magnetisation", "write_switching_csv"
    ),
}
_HOME = {name: module for module, names in _MODULE_NAMES.items() for name in names}

__all__ = [
    "BitstreamResult", "WriteMode", "generate_bitstream",
    "CARD_SCHEMA", "DataBitParams", "DeviceCard", "EnduranceParams", "PBitParams", "default_card", "load_card",
    "save_card",
    "broken_fraction", "conductance_drift", "endurance_cycles",
    "Column", "DataError", "atomic_write", "read_bitstream", "read_table",
    "DeviceConductances", "apply_read_noise", "conductance_levels", "resistance_parallel_ohm",
    "retention_failure_probability", "retention_time_s", "sample_conductances", "sample_device_conductances",
    "thermal_stability_at", "tmr_at_bias",
    "PAIR_STATES", "PairStatistics", "pair_state_statistics", "probabilistic_pair_conductance",
    "ternary_pair_conductance",
    "first_peak_width_s", "sample_v50_offsets", "switching_probability", "trimmed_voltages", "voltage_at_probability",
    "window_10_90_V",
    "DeviceSummary", "summarize",
    "DeviceVariation", "MacrospinParams", "SolverConfig", "SwitchingMap", "TrapezoidPulse", "simulate_switching",
    "switching_map", "trace_magnetisation", "write_switching_csv",
]


def __getattr__(name: str):
    if name in _HOME:
        value = getattr(importlib.import_module(_HOME[name]), name)
        globals()[name] = value  # later look-ups skip this function
        return value
    try:  # a submodule used as an attribute (devices.macrospin.x after ``import devices``)
        return importlib.import_module(f"{__name__}.{name}")
    except ModuleNotFoundError as error:
        if error.name != f"{__name__}.{name}":
            raise
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
