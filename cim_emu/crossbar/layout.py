"""Partitioning of a layer over physical arrays (row blocks x column blocks).

Logical columns are ordered slice-major, ``c = k * out_features + j`` (slice k of output j): each bit-slice
forms its own column group. Input i and logical column c sit in array ``(i // array_rows, c // array_cols)``;
each array has its own DACs (one per driven row) and ADCs (one per pair column), and the partial sums of
the row blocks are added digitally.
"""

from __future__ import annotations

import dataclasses
import math

import torch

from cim_emu.crossbar.counters import record

__all__ = ["TileLayout"]


@dataclasses.dataclass(frozen=True)
class TileLayout:
    """How a (out_features x in_features) layer with ``n_slices`` pairs per weight maps onto arrays.

    Attributes:
        in_features: inputs (rows of the logical matrix).
        out_features: outputs.
        n_slices: differential pairs per weight (bit-slices).
        array_rows: word lines per array.
        array_cols: pair columns per array.
    """

    in_features: int
    out_features: int
    n_slices: int
    array_rows: int
    array_cols: int

    @classmethod
    def of(cls, in_features: int, out_features: int, config) -> TileLayout:
        """The layout of a layer under a :class:`cim_emu.crossbar.config.CrossbarConfig`."""
        return cls(in_features, out_features, config.n_slices, config.array_rows, config.array_cols)

    def record_mvms(self, n_rows: int, cells_per_row: int) -> None:
        """Count the hardware events of ``n_rows`` MVMs (one per input row and sample) on this layout.

        One analog MVM per physical array, ``cells_per_row`` MTJs sensed, one DAC conversion per driven row of
        every array, one ADC conversion per pair column of every row block, and the digital additions of the
        row-block partial sums and of the bit-slices.
        """
        record(mvm_calls=n_rows * self.n_arrays, cell_reads=n_rows * cells_per_row,
               dac_conversions=n_rows * self.in_features * self.n_col_blocks,
               adc_conversions=n_rows * self.n_columns * self.n_row_blocks,
               digital_adds=n_rows * (self.n_columns * (self.n_row_blocks - 1)
                                      + self.out_features * (self.n_slices - 1)))

    @property
    def n_columns(self) -> int:
        """Logical pair columns: out_features * n_slices."""
        return self.out_features * self.n_slices

    @property
    def block_rows(self) -> int:
        """Rows per row block (the array's rows, or fewer if the layer is smaller)."""
        return min(self.array_rows, self.in_features)

    @property
    def n_row_blocks(self) -> int:
        return math.ceil(self.in_features / self.block_rows)

    @property
    def n_col_blocks(self) -> int:
        return math.ceil(self.n_columns / self.array_cols)

    @property
    def n_arrays(self) -> int:
        return self.n_row_blocks * self.n_col_blocks

    def array_index(self, device=None) -> torch.Tensor:
        """(n_slices, out_features, in_features) long: the physical array of every pair."""
        rows = torch.arange(self.in_features, device=device) // self.array_rows
        columns = torch.arange(self.n_columns, device=device).reshape(self.n_slices, self.out_features)
        return rows[None, None, :] * self.n_col_blocks + (columns // self.array_cols)[:, :, None]

    def to_blocks(self, matrix: torch.Tensor) -> torch.Tensor:
        """(n_columns, in_features) -> (n_row_blocks, block_rows, n_columns), zero-padded rows."""
        padded_rows = self.n_row_blocks * self.block_rows
        padded = torch.zeros((self.n_columns, padded_rows), dtype=matrix.dtype, device=matrix.device)
        padded[:, :self.in_features] = matrix
        return padded.reshape(self.n_columns, self.n_row_blocks, self.block_rows).permute(1, 2, 0).contiguous()

    def inputs_to_blocks(self, inputs: torch.Tensor) -> torch.Tensor:
        """(rows, in_features) -> (n_row_blocks, rows, block_rows), zero-padded."""
        padded_rows = self.n_row_blocks * self.block_rows
        if padded_rows != self.in_features:
            inputs = torch.nn.functional.pad(inputs, (0, padded_rows - self.in_features))
        return inputs.reshape(inputs.shape[0], self.n_row_blocks, self.block_rows).transpose(0, 1)

    def physical_arrays(self, plus_S: torch.Tensor, minus_S: torch.Tensor, fill_S: float) -> torch.Tensor:
        """Interleave pair devices into physical arrays.

        Args:
            plus_S, minus_S: (n_slices, out_features, in_features) conductances of the two devices of each pair.
            fill_S: conductance of the unused cells of partly filled arrays (they still load driven rows).

        Returns:
            (n_row_blocks, n_col_blocks, array_rows, 2 * array_cols): bit line 2c holds the + device of pair
            column c, bit line 2c + 1 its - device.
        """
        rows_total = self.n_row_blocks * self.array_rows
        columns_total = self.n_col_blocks * self.array_cols
        physical = torch.full((rows_total, columns_total, 2), fill_S, dtype=plus_S.dtype, device=plus_S.device)
        plus = plus_S.reshape(self.n_columns, self.in_features).T
        minus = minus_S.reshape(self.n_columns, self.in_features).T
        physical[:self.in_features, :self.n_columns, 0] = plus
        physical[:self.in_features, :self.n_columns, 1] = minus
        physical = physical.reshape(self.n_row_blocks, self.array_rows, self.n_col_blocks, 2 * self.array_cols)
        return physical.permute(0, 2, 1, 3)

    def from_physical(self, physical: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Inverse of :meth:`physical_arrays`: (plus, minus), each (n_slices, out_features, in_features)."""
        flat = physical.permute(0, 2, 1, 3).reshape(self.n_row_blocks * self.array_rows,
                                                    self.n_col_blocks * self.array_cols, 2)
        used = flat[:self.in_features, :self.n_columns]
        shape = (self.n_slices, self.out_features, self.in_features)
        return used[..., 0].T.reshape(shape), used[..., 1].T.reshape(shape)
