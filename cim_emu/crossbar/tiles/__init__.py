"""Crossbar tiles: conductance state and device physics of one layer's arrays."""

from cim_emu.crossbar.tiles.tile import CrossbarTile, ProbabilisticTile

__all__ = ["CrossbarTile", "ProbabilisticTile"]
