"""Maximum-likelihood fits of the device model to calibration CSVs (``cim-emu fit``)."""

from devices.fit.bitstream import fit_bitstream
from devices.fit.directory import CALIBRATION_FILES, CalibrationFit, fit_directory, operating_point
from devices.fit.pair import fit_pair_conductance
from devices.fit.report import Estimate, FileFit
from devices.fit.resistance import fit_resistance
from devices.fit.schemas import read_pair_conductance, read_resistance, read_switching, read_tmr_bias
from devices.fit.switching import aggregate_switching, fit_switching, voltage_sweep_width_s
from devices.fit.tmr_bias import fit_tmr_bias

__all__ = [
    "CALIBRATION_FILES", "CalibrationFit", "Estimate", "FileFit", "aggregate_switching", "fit_bitstream",
    "fit_directory", "operating_point", "voltage_sweep_width_s",
    "fit_pair_conductance", "fit_resistance", "fit_switching", "fit_tmr_bias", "read_pair_conductance",
    "read_resistance", "read_switching", "read_tmr_bias",
]
