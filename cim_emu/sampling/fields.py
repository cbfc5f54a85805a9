"""Local fields of one update block, I_b = m J_b^T + h_b: exactly (ideal mode) or on crossbar tiles.

Both backends work on spins already permuted so that every update block is a contiguous range
``[start, stop)``; :mod:`cim_emu.sampling.gibbs` does the permutation.

On tiles, block b's rows of J are programmed on their own :class:`~cim_emu.crossbar.tiles.CrossbarTile`
(|b| outputs; one input row per spin coupled to the block, zero-coupling spins left unwired): the spins drive
the rows as DAC voltages (+-1 are exact DAC codes), each column pair
sums its currents with read noise and goes through the ADC, and the digital scale restores the units of J.
The field h is added digitally after the ADC (exact). With ``calibrate`` (the default) each tile's
digital per-column gain and offset are fitted on random spin patterns after programming
(``CrossbarTile.calibrate``), as a CIM macro's column calibration does: it removes the array-to-array gain
spread, not the cell-by-cell variation. A column's output depends only on its own cells, so
splitting J by block is the physical array read one column group at a time; the tiles' array-to-array
variation is drawn per block tile, an assumption noted in ``docs/sampling.md``.
"""

from __future__ import annotations

import torch

import devices
from cim_emu.crossbar.config import CrossbarConfig
from cim_emu.crossbar.tiles import CrossbarTile
from cim_emu.rng import SeedStream

__all__ = ["IdealFields", "TileFields"]


class IdealFields:
    """Exact fields in float32 (float64 for models of <= 20 spins, the validation sizes)."""

    def __init__(self, couplings: torch.Tensor, fields: torch.Tensor, ranges: list[tuple[int, int]]):
        self.dtype = torch.float64 if couplings.shape[0] <= 20 else torch.float32
        # (n, |b|) per block: one contiguous GEMM operand per update.
        self.weights = [couplings[start:stop].T.contiguous().to(self.dtype) for start, stop in ranges]
        self.biases = [fields[start:stop].to(self.dtype) for start, stop in ranges]

    def __call__(self, block: int, spins: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """(chains, n) spins -> (chains, |b|) fields of block ``block``."""
        return torch.addmm(self.biases[block], spins, self.weights[block])


class TileFields:
    """Fields computed on one programmed crossbar tile per update block."""

    def __init__(self, couplings: torch.Tensor, fields: torch.Tensor, ranges: list[tuple[int, int]], *,
                 config: CrossbarConfig, card: devices.DeviceCard, stream: SeedStream, calibrate: bool = True,
                 n_calibration_rows: int = 256):
        self.dtype = torch.float32
        self.config = config
        self.tiles, self.inputs = [], []
        for number, (start, stop) in enumerate(ranges):
            generator = stream.index(number).torch_generator() if config.device_variation else None
            # Only spins coupled to the block drive rows of its tile: a zero-coupling row would add nothing but
            # its cells' variation and read noise (and the block's own spins are never coupled to it).
            used = torch.nonzero((couplings[start:stop] != 0).any(dim=0)).flatten()
            if used.numel() == 0:
                used = torch.tensor([0 if start > 0 else couplings.shape[0] - 1])
            self.inputs.append(used)
            weight = couplings[start:stop][:, used].to(self.dtype)
            tile = CrossbarTile.program(weight, config=config, card=card, generator=generator)
            if calibrate:
                # The macro's column calibration on random spin patterns: removes the array gain spread.
                patterns = torch.randint(0, 2, (n_calibration_rows, weight.shape[1]),
                                         generator=stream.child("calibration").index(number).torch_generator())
                patterns = patterns.mul_(2).sub_(1).to(self.dtype)
                tile.calibrate(patterns, patterns @ weight.T)
            self.tiles.append(tile)
        self.biases = [fields[start:stop].to(self.dtype) for start, stop in ranges]

    def __call__(self, block: int, spins: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """(chains, n) spins -> (chains, |b|) fields of block ``block`` read from its tile."""
        inputs = spins[:, self.inputs[block]]
        return self.tiles[block](inputs, generator=generator if self.config.read_noise else None) + self.biases[block]
