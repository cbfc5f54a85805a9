"""Energy, throughput and area of p-bit generation and of emulated CIM runs.

* :mod:`~cim_emu.energy.circuit`: every circuit assumption as frozen, validated, documented fields;
* :mod:`~cim_emu.energy.pbit_generation`: in-situ vs ex-situ p-bits (the paper's Table II);
* :mod:`~cim_emu.energy.literature`: Table II as published (the comparison rows are quotes, not model output);
* :mod:`~cim_emu.energy.calibration`: how the few free fields were solved from Table II;
* :mod:`~cim_emu.energy.pdnn`: the p-DNN elementary-operation framework (Eq. 1-4, Table 1);
* :mod:`~cim_emu.energy.pricing`: operation counters -> joules and seconds, and the end-to-end report;
* :mod:`~cim_emu.energy.sweeps` and :mod:`~cim_emu.energy.plots`: one-parameter sweeps and figures;
* :mod:`~cim_emu.energy.report`: the ``cim-emu bench`` report (model vs Table II, errors, ratios);
* :mod:`~cim_emu.energy.config_io`: JSON configuration files.
"""

from cim_emu.energy.calibration import CalibrationResult, calibrate_to_table2
from cim_emu.energy.circuit import (
    BoardLink,
    CMOSTechnology,
    CrossbarArray,
    EnergyConfig,
    ExSituDesign,
    MTJElectrical,
    MVMPeriphery,
    SenseAmplifier,
    WriteCircuit,
    default_ex_situ_designs,
)
from cim_emu.energy.config_io import (
    energy_config_from_dict,
    energy_config_to_dict,
    load_energy_config,
    save_energy_config,
)
from cim_emu.energy.literature import (
    DESIGN_ROWS,
    LITERATURE_ROWS,
    PAPER_RATIOS,
    THIS_WORK_ROWS,
    Table2Row,
    literature_ranges,
    paper_row,
)
from cim_emu.energy.pbit_generation import (
    GenerationComparison,
    GenerationResult,
    WritePulseEnergy,
    compare_generation,
    ex_situ_generation,
    in_situ_generation,
    sense_time_s,
    write_pulse_energy,
)
from cim_emu.energy.pdnn import (
    VGG5,
    ActivationKind,
    FPGAReproduction,
    NetworkSize,
    OperationEnergy,
    PDNNCosts,
    PDNNReport,
    elementary_operation_energy,
    energy_gain,
    fpga_reproduction,
    network_inference_energy,
    pdnn_report,
)
from cim_emu.energy.plots import plot_sweep, plot_table2_landscape
from cim_emu.energy.pricing import (
    EndToEndReport,
    PricedOps,
    SchemeCost,
    UnitCosts,
    end_to_end_report,
    load_op_counts_file,
    price_op_counts,
    reference_mvm_counts,
    unit_costs,
)
from cim_emu.energy.report import (
    TABLE2_TOLERANCE,
    RowReproduction,
    Table2Reproduction,
    bench_report,
    table2_reproduction,
)
from cim_emu.energy.sweeps import (
    SweepResult,
    SweepSeries,
    all_sweeps,
    sweep_adc_bits,
    sweep_array_size,
    sweep_parallel_columns,
    sweep_pdnn_samples,
    sweep_pulse_amplitude,
    sweep_pulse_width,
    sweep_samples,
)

__all__ = [
    "ActivationKind",
    "BoardLink",
    "CMOSTechnology",
    "CalibrationResult",
    "CrossbarArray",
    "DESIGN_ROWS",
    "EndToEndReport",
    "EnergyConfig",
    "ExSituDesign",
    "FPGAReproduction",
    "GenerationComparison",
    "GenerationResult",
    "LITERATURE_ROWS",
    "MTJElectrical",
    "MVMPeriphery",
    "NetworkSize",
    "OperationEnergy",
    "PAPER_RATIOS",
    "PDNNCosts",
    "PDNNReport",
    "PricedOps",
    "RowReproduction",
    "SchemeCost",
    "SenseAmplifier",
    "SweepResult",
    "SweepSeries",
    "TABLE2_TOLERANCE",
    "THIS_WORK_ROWS",
    "Table2Reproduction",
    "Table2Row",
    "UnitCosts",
    "VGG5",
    "WriteCircuit",
    "WritePulseEnergy",
    "all_sweeps",
    "bench_report",
    "calibrate_to_table2",
    "compare_generation",
    "default_ex_situ_designs",
    "elementary_operation_energy",
    "end_to_end_report",
    "energy_config_from_dict",
    "energy_config_to_dict",
    "energy_gain",
    "ex_situ_generation",
    "fpga_reproduction",
    "in_situ_generation",
    "literature_ranges",
    "load_energy_config",
    "load_op_counts_file",
    "network_inference_energy",
    "paper_row",
    "pdnn_report",
    "plot_sweep",
    "plot_table2_landscape",
    "price_op_counts",
    "reference_mvm_counts",
    "save_energy_config",
    "sense_time_s",
    "sweep_adc_bits",
    "sweep_array_size",
    "sweep_parallel_columns",
    "sweep_pdnn_samples",
    "sweep_pulse_amplitude",
    "sweep_pulse_width",
    "sweep_samples",
    "table2_reproduction",
    "unit_costs",
    "write_pulse_energy",
]
