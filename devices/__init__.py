"""Physics of single VCMA-MTJ devices and differential pairs (imports nothing else of cim-emu).

SI units throughout; every stochastic function takes an explicit ``torch.Generator``.
"""

from devices.bitstream import BitstreamResult, WriteMode, generate_bitstream
from devices.card import (
    CARD_SCHEMA,
    DataBitParams,
    DeviceCard,
    EnduranceParams,
    PBitParams,
    default_card,
    load_card,
    save_card,
)
from devices.endurance import broken_fraction, conductance_drift, endurance_cycles
from devices.io import Column, DataError, atomic_write, read_bitstream, read_table
from devices.macrospin import (
    DeviceVariation,
    MacrospinParams,
    SolverConfig,
    SwitchingMap,
    TrapezoidPulse,
    simulate_switching,
    switching_map,
    trace_magnetisation,
    write_switching_csv,
)
from devices.mtj import (
    DeviceConductances,
    apply_read_noise,
    conductance_levels,
    resistance_parallel_ohm,
    retention_failure_probability,
    retention_time_s,
    sample_conductances,
    sample_device_conductances,
    thermal_stability_at,
    tmr_at_bias,
)
from devices.pair import (
    PAIR_STATES,
    PairStatistics,
    pair_state_statistics,
    probabilistic_pair_conductance,
    ternary_pair_conductance,
)
from devices.pbit import (
    first_peak_width_s,
    sample_v50_offsets,
    switching_probability,
    trimmed_voltages,
    voltage_at_probability,
    window_10_90_V,
)
from devices.summary import DeviceSummary, summarize

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
