"""Crossbar tiles: conductance state and device physics of one layer's arrays (execution: ``kernels.backend``)."""

from cim_emu.crossbar.tiles.crossbar_tile import CrossbarTile
from cim_emu.crossbar.tiles.probabilistic_tile import ProbabilisticTile

__all__ = ["CrossbarTile", "ProbabilisticTile"]
