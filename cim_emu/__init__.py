"""Crossbars, stochastic layers, energy model, randomness suite and the CLI of cim-emu."""

from cim_emu.counters import COUNTER_FIELDS, OpCounts, record, track_ops

__all__ = ["COUNTER_FIELDS", "OpCounts", "record", "track_ops"]
