"""The tidy CSV schemas of the calibration files (units in the column names)."""

from __future__ import annotations

import os

import numpy as np

from devices.io import Column, DataError, read_bitstream, read_table

__all__ = ["read_switching", "read_resistance", "read_tmr_bias", "read_pair_conductance", "read_bitstream"]

SWITCHING = (
    Column(name="device_id", kind="str"),
    Column(name="array_id", kind="str"),
    Column(name="voltage_V", kind="float"),
    Column(name="pulse_width_s", kind="float", minimum=0.0, strict=True),
    Column(name="n_trials", kind="int", minimum=1),
    Column(name="n_switched", kind="int", minimum=0),
)
RESISTANCE = (
    Column(name="array_id", kind="str"),
    Column(name="device_id", kind="str"),
    Column(name="state", kind="str", choices=("P", "AP")),
    Column(name="read_voltage_V", kind="float", minimum=0.0, strict=True),
    Column(name="resistance_ohm", kind="float", minimum=0.0, strict=True),
)
TMR_BIAS = (
    Column(name="device_id", kind="str"),
    Column(name="bias_V", kind="float"),
    Column(name="resistance_p_ohm", kind="float", minimum=0.0, strict=True),
    Column(name="resistance_ap_ohm", kind="float", minimum=0.0, strict=True),
)
PAIR_CONDUCTANCE = (
    Column(name="pair_id", kind="str"),
    Column(name="state", kind="str", choices=("+1", "0", "-1")),
    Column(name="conductance_S", kind="float"),
)


def _switched_within_trials(row: dict) -> str | None:
    if row["n_switched"] > row["n_trials"]:
        return f"n_switched: {row['n_switched']} exceeds n_trials = {row['n_trials']} (a probability above 1)"
    return None


def read_switching(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Read ``switching.csv`` (counts validated: 0 <= n_switched <= n_trials, n_trials >= 1)."""
    return read_table(path, SWITCHING, row_check=_switched_within_trials)


def read_resistance(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Read ``resistance.csv`` (state P/AP, positive resistances)."""
    table = read_table(path, RESISTANCE)
    states = {(a, d): set() for a, d in zip(table["array_id"], table["device_id"], strict=True)}
    for a, d, s in zip(table["array_id"], table["device_id"], table["state"], strict=True):
        states[(a, d)].add(s)
    if not any(len(s) == 2 for s in states.values()):
        raise DataError(path, "no device was read in both states P and AP; the TMR needs both", column="state")
    return table


def read_tmr_bias(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Read ``tmr_bias.csv`` (positive resistances)."""
    return read_table(path, TMR_BIAS)


def read_pair_conductance(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Read ``pair_conductance.csv`` (states +1, 0, -1; each must appear at least twice)."""
    table = read_table(path, PAIR_CONDUCTANCE)
    for state in ("+1", "0", "-1"):
        if int(np.sum(table["state"] == state)) < 2:
            raise DataError(path, f"state {state} needs at least two rows to estimate its spread", column="state")
    return table
