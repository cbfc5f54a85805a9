"""Old home of both tiles, kept importable: :mod:`.crossbar_tile` and :mod:`.probabilistic_tile` hold them now."""

from cim_emu.crossbar.tiles.base import derived_generator
from cim_emu.crossbar.tiles.crossbar_tile import CrossbarTile
from cim_emu.crossbar.tiles.probabilistic_tile import ProbabilisticTile

__all__ = ["CrossbarTile", "ProbabilisticTile", "derived_generator"]
