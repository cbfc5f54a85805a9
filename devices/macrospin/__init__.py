"""Macrospin stochastic-LLG solver for VCMA-MTJ free layers (the physics behind the compact p-bit model).

Public API (see ``docs/macrospin.md``)::

    from devices.macrospin import MacrospinParams, SolverConfig, TrapezoidPulse, simulate_switching, switching_map
    params = MacrospinParams()                       # the documented paper set (SI units)
    outcome = simulate_switching(params, amplitude_V, pulse_width_s, generator=torch.Generator().manual_seed(0))
    table = switching_map(params, voltages_V, widths_s, n_trials=1000, generator=gen)
    write_switching_csv(table, "switching.csv")     # the calibration schema that ``cim-emu fit`` reads
"""

from devices.macrospin.demag import cylinder_demagnetising_factors
from devices.macrospin.kernel import TrialTensors, advance_torch, heun_update, llg_rate, reduced_energy_T
from devices.macrospin.noise import Stream, box_muller_torch, draw_key, philox4x32_torch, philox_normals_torch
from devices.macrospin.params import (
    BOLTZMANN_J_PER_K,
    ELECTRON_GYROMAGNETIC_RATIO,
    MU_0,
    DeviceVariation,
    MacrospinParams,
    load_device_variation,
    load_macrospin_params,
)
from devices.macrospin.pulse import TrapezoidPulse
from devices.macrospin.reference import heun_steps_numpy, simulate_switching_numpy
from devices.macrospin.solver import (
    Backend,
    DeviceSample,
    Precision,
    SolverConfig,
    SwitchingOutcome,
    Trajectory,
    nominal_devices,
    sample_devices,
    simulate_switching,
    thermal_states,
    trace_magnetisation,
)
from devices.macrospin.sweep import (
    SWITCHING_CSV_COLUMNS,
    SwitchingMap,
    crossing_voltages,
    jitter_average,
    peak_pulse_width_s,
    plot_switching_map,
    switching_map,
    write_switching_csv,
)

__all__ = [
    "BOLTZMANN_J_PER_K",
    "ELECTRON_GYROMAGNETIC_RATIO",
    "MU_0",
    "SWITCHING_CSV_COLUMNS",
    "Backend",
    "DeviceSample",
    "DeviceVariation",
    "MacrospinParams",
    "Precision",
    "SolverConfig",
    "Stream",
    "SwitchingMap",
    "SwitchingOutcome",
    "Trajectory",
    "TrapezoidPulse",
    "TrialTensors",
    "advance_torch",
    "box_muller_torch",
    "crossing_voltages",
    "cylinder_demagnetising_factors",
    "draw_key",
    "heun_steps_numpy",
    "jitter_average",
    "heun_update",
    "llg_rate",
    "load_device_variation",
    "load_macrospin_params",
    "nominal_devices",
    "peak_pulse_width_s",
    "philox4x32_torch",
    "philox_normals_torch",
    "plot_switching_map",
    "reduced_energy_T",
    "sample_devices",
    "simulate_switching",
    "simulate_switching_numpy",
    "switching_map",
    "thermal_states",
    "trace_magnetisation",
    "write_switching_csv",
]
