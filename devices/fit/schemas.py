"""The tidy CSV schemas of the calibration files (units in the column names)."""

from __future__ import annotations

import os

import numpy as np

from devices.io import Column, DataError, read_bitstream, read_table

__all__ = ["read_switching", "read_resistance", "read_tmr_bias", "read_pair_conductance", "read_bitstream"]

#: Sanity bounds of the measured quantities: beyond them a value is a unit mistake, not a device.
MAX_VOLTAGE_V = 100.0
MAX_PULSE_WIDTH_S = 1.0
MAX_RESISTANCE_OHM = 1e12
MAX_CONDUCTANCE_S = 1.0

SWITCHING = (
    Column(name="device_id", kind="str"),
    Column(name="array_id", kind="str"),
    Column(name="voltage_V", kind="float", minimum=-MAX_VOLTAGE_V, maximum=MAX_VOLTAGE_V),
    Column(name="pulse_width_s", kind="float", minimum=0.0, strict=True, maximum=MAX_PULSE_WIDTH_S),
    Column(name="n_trials", kind="int", minimum=1),
    Column(name="n_switched", kind="int", minimum=0),
)
RESISTANCE = (
    Column(name="array_id", kind="str"),
    Column(name="device_id", kind="str"),
    Column(name="state", kind="str", choices=("P", "AP")),
    Column(name="read_voltage_V", kind="float", minimum=0.0, strict=True, maximum=MAX_VOLTAGE_V),
    Column(name="resistance_ohm", kind="float", minimum=0.0, strict=True, maximum=MAX_RESISTANCE_OHM),
)
TMR_BIAS = (
    Column(name="device_id", kind="str"),
    Column(name="bias_V", kind="float", minimum=-MAX_VOLTAGE_V, maximum=MAX_VOLTAGE_V),
    Column(name="resistance_p_ohm", kind="float", minimum=0.0, strict=True, maximum=MAX_RESISTANCE_OHM),
    Column(name="resistance_ap_ohm", kind="float", minimum=0.0, strict=True, maximum=MAX_RESISTANCE_OHM),
)
PAIR_CONDUCTANCE = (
    Column(name="pair_id", kind="str"),
    Column(name="state", kind="str", choices=("+1", "0", "-1")),
    Column(name="conductance_S", kind="float", minimum=-MAX_CONDUCTANCE_S, maximum=MAX_CONDUCTANCE_S),
)


def _switched_within_trials(chunk: dict[str, np.ndarray]):
    return (chunk["n_switched"] > chunk["n_trials"],
            "n_switched: {row[n_switched]} exceeds n_trials = {row[n_trials]} (a probability above 1)")


def read_switching(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Read ``switching.csv`` (counts validated: 0 <= n_switched <= n_trials, n_trials >= 1)."""
    return read_table(path, SWITCHING, row_check=_switched_within_trials)


def read_resistance(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Read ``resistance.csv`` (state P/AP, positive resistances)."""
    table = read_table(path, RESISTANCE)
    states = {(a, d): set() for a, d in zip(table["array_id"], table["device_id"], strict=True)}
    for a, d, s in zip(table["array_id"], table["device_id"], table["state"], strict=True):
        states[(a, d)].add(s)
    both = sum(len(s) == 2 for s in states.values())
    if both < 2:
        raise DataError(path, f"{both} device(s) read in both states P and AP; the TMR and its device-to-device "
                              "spread need at least two such devices", column="state")
    per_array: dict[str, int] = {}
    for (array, _), device_states in states.items():
        per_array[array] = per_array.get(array, 0) + ("P" in device_states)
    if max(per_array.values()) < 2:
        raise DataError(path, "no array has two devices read in state P; the device-to-device spread of R_P needs "
                              "at least two devices in one array", column="device_id")
    return table


def read_tmr_bias(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Read ``tmr_bias.csv`` (positive resistances)."""
    return read_table(path, TMR_BIAS)


def read_pair_conductance(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Read ``pair_conductance.csv`` (states +1, 0, -1; each must appear at least twice)."""
    table = read_table(path, PAIR_CONDUCTANCE)
    for state in ("+1", "0", "-1"):
        values = table["conductance_S"][table["state"] == state]
        if values.size < 2:
            raise DataError(path, f"state {state} needs at least two rows to estimate its spread", column="state")
        if np.ptp(values) == 0:
            raise DataError(path, f"every conductance of state {state} is {values[0]!r}: a spread of zero leaves the "
                                  f"margin undefined; give the measured (unrounded) values", column="conductance_S")
    return table
