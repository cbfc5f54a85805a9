"""What both tile kinds share: converters, layout, read-noise moments, calibration, the per-cell reference.

An MVM on a tile (per input row):

1. digital pre-scale and input DAC: ``v_i = V_fs * DAC(x_i / s)`` volts (:mod:`cim_emu.crossbar.converters`);
2. Kirchhoff summation per pair column and row block: ``I_c = sum_i v_i (G+_ic - G-_ic)`` amperes, with the
   first-order IR-drop conductances if enabled (:mod:`cim_emu.crossbar.ir_drop`) and the cycle-to-cycle read
   noise of every cell (:class:`cim_emu.crossbar.config.ReadNoiseModel`);
3. column ADC per row block (full scale ``adc_range_cells * V_fs * (G_P - G_AP)``), digital sum of the row
   blocks, digital recombination of bit-slices (weights 2^k), digital scale ``s * scale_j / levels``.

Read noise (``devices.apply_read_noise``: R -> R exp(e), e ~ N(0, s^2) per read) enters the ``COLUMN`` model
through its exact moments: E[G exp(-e)] = G exp(s^2 / 2) and Var = G^2 exp(s^2) (exp(s^2) - 1), summed over the
independent cells of a column as v_i^2 Var_i (the sum of many cells is Gaussian to a very good approximation;
``PER_CELL`` draws every cell and is the reference).

A tile holds this state and physics only. *How* steps 2-3 run (float or integer GEMMs, the variance GEMM's
precision, the fused CPU readout or torch ops, CUDA) is a backend in :mod:`cim_emu.crossbar.kernels.backend`,
chosen per device and dtype by :mod:`cim_emu.crossbar.kernels.dispatch`. Every backend stays within the bounds
documented there: the mean current within ``sum_i |v_i| s_c / 2`` of the float path (integer codes), the
variance within 2^-8 relatively (bfloat16 GEMM).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import nn

import devices
from cim_emu.crossbar.config import CrossbarConfig
from cim_emu.crossbar.converters import input_scale, signed_levels
from cim_emu.crossbar.kernels.backend import (
    INTEGER_DAC_BITS,
    DacInputs,
    ReadoutSpec,
    TileBackend,
    select_backend,
    torch_column_readout,
)
from cim_emu.crossbar.layout import TileLayout
from cim_emu.rng import derived_generator  # one child stream per noise source (the one definition)

__all__ = ["TileBase", "check_inputs", "derived_generator"]

_PER_CELL_CHUNK = 1 << 22   # cells per chunk of the per-cell read-noise reference


def check_inputs(inputs: torch.Tensor, in_features: int) -> None:
    if inputs.dim() != 2 or inputs.shape[1] != in_features:
        raise ValueError(f"inputs: expected shape (rows, {in_features}), got {tuple(inputs.shape)}")


class TileBase(nn.Module):
    """Converters, layout, read-noise moments, calibration and backend plumbing shared by both tile kinds.

    Subclasses provide ``_mean_blocks()`` and ``_variance_blocks()`` (the backend's operands, see
    :meth:`cim_emu.crossbar.kernels.backend.TileBackend.prepare`) and ``_refresh()``.
    """

    def __init__(self, in_features: int, out_features: int, n_slices: int, config: CrossbarConfig,
                 card: devices.DeviceCard):
        super().__init__()
        self.config = config
        self.card = card
        self.layout = TileLayout(in_features, out_features, n_slices, config.array_rows, config.array_cols)
        self.full_scale_V = card.data_bit.read_voltage_V if config.dac_voltage_V is None else config.dac_voltage_V
        # Median conductances at the DAC's full-scale voltage set the digital scale: the designer's nominal.
        self.conductance_parallel_S, self.conductance_antiparallel_S = devices.conductance_levels(
            card.data_bit, read_voltage_V=self.full_scale_V)
        self.unit_current_A = self.full_scale_V * (self.conductance_parallel_S - self.conductance_antiparallel_S)
        self.adc_full_scale_A = (None if config.adc_range_cells is None
                                 else config.adc_range_cells * self.unit_current_A)
        sigma = card.data_bit.read_noise_ln if config.read_noise else 0.0
        self.read_mean_factor = math.exp(sigma ** 2 / 2)
        self.read_variance_factor = math.exp(sigma ** 2) * math.expm1(sigma ** 2)
        full_scale, bits = self.adc_full_scale_A, config.adc_bits
        self.readout_spec = ReadoutSpec(
            full_scale_A=full_scale, step_A=None if full_scale is None or bits is None
            else full_scale / signed_levels(bits), unit_A=self.unit_current_A)
        self._plan = None

    # ------------------------------------------------------------------------------------------ calibration
    def _register_calibration(self, out_features: int, dtype, device) -> None:
        self.register_buffer("calibration_gain", torch.ones(out_features, dtype=dtype, device=device))
        self.register_buffer("calibration_offset", torch.zeros(out_features, dtype=dtype, device=device))

    def _calibrated(self, outputs: torch.Tensor) -> torch.Tensor:
        """Apply the digital per-output gain and offset (identity until :meth:`calibrate`)."""
        return torch.addcmul(self.calibration_offset, outputs, self.calibration_gain)

    def calibrate(self, inputs: torch.Tensor, targets: torch.Tensor) -> None:
        """Fit the digital per-output gain and offset so that the tile's mean output matches ``targets``.

        The least-squares line per output column (what a CIM macro's column calibration does after
        programming): it removes the array-to-array gain spread and the mean offset of the pairs, not the
        cell-by-cell variation.

        Args:
            inputs: (rows, in_features) calibration inputs.
            targets: (rows, out_features) the outputs the tile should have on average (no bias).
        """
        self.calibration_gain.fill_(1.0)
        self.calibration_offset.fill_(0.0)
        with torch.no_grad():
            measured = self.expected_output(inputs).to(torch.float64)
            targets = targets.to(torch.float64)
            centred = measured - measured.mean(dim=0)
            variance = centred.square().mean(dim=0)
            covariance = (centred * (targets - targets.mean(dim=0))).mean(dim=0)
            # A column that does not vary over the calibration set keeps unit gain and only gets an offset.
            usable = variance > 1e-12 * measured.square().mean(dim=0).clamp_min(1e-300)
            gain = torch.where(usable, covariance / torch.where(usable, variance, torch.ones_like(variance)),
                               torch.ones_like(variance))
            offset = targets.mean(dim=0) - gain * measured.mean(dim=0)
        self.calibration_gain.copy_(gain)
        self.calibration_offset.copy_(offset)

    @property
    def in_features(self) -> int:
        return self.layout.in_features

    @property
    def out_features(self) -> int:
        return self.layout.out_features

    # ------------------------------------------------------------------------------------------ converters
    def _dac_codes(self, inputs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(rows, n) digital -> (DAC codes round(x L), integer-valued floats (rows, n); pre-scale (rows, 1)).

        Needs ``config.dac_bits``; the volts are ``codes * self._volts_per_code()``.
        """
        scale = input_scale(inputs, self.config.input_range)
        # dac_quantize's arithmetic, in place on a fresh tensor: round(x L).
        codes = (inputs / scale).clamp_(-1.0, 1.0).mul_(signed_levels(self.config.dac_bits)).round_()
        return codes, scale

    def _volts_per_code(self) -> float:
        return self.full_scale_V / signed_levels(self.config.dac_bits)

    def _convert_inputs(self, inputs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(rows, n) digital -> (volts (rows, n), digital pre-scale (rows, 1))."""
        if self.config.dac_bits is None:
            scale = input_scale(inputs, self.config.input_range)
            return (inputs / scale).clamp_(-1.0, 1.0).mul_(self.full_scale_V), scale
        codes, scale = self._dac_codes(inputs)
        return codes.mul_(self._volts_per_code()), scale

    def _integer_inputs(self) -> bool:
        return self.config.dac_bits is not None and self.config.dac_bits <= INTEGER_DAC_BITS

    def _dac_inputs(self, inputs: torch.Tensor) -> tuple[DacInputs, torch.Tensor, torch.Tensor]:
        """Convert ``inputs`` (rows, in_features): (the backend's block-layout inputs, volts (rows, in_features),
        digital pre-scale (rows, 1))."""
        layout = self.layout
        if not self._integer_inputs():
            volts, scale = self._convert_inputs(inputs)
            return DacInputs(layout.inputs_to_blocks(volts)), volts, scale
        codes, scale = self._dac_codes(inputs)
        volts_per_code = self._volts_per_code()
        volts = codes * volts_per_code
        return (DacInputs(layout.inputs_to_blocks(volts), layout.inputs_to_blocks(codes), volts_per_code),
                volts, scale)

    # ------------------------------------------------------------------------------------------ backend
    def _mean_blocks(self) -> torch.Tensor:  # pragma: no cover - overridden
        raise NotImplementedError

    def _variance_blocks(self) -> torch.Tensor:  # pragma: no cover - overridden
        raise NotImplementedError

    def _execution(self, inputs: torch.Tensor) -> tuple[TileBackend, object]:
        """The backend for ``inputs``' device and dtype, and its prepared operands (made once per state)."""
        backend = select_backend(inputs.device, inputs.dtype, self.config.dac_bits)
        if self._plan is None or self._plan[0] is not backend:
            variance = self._variance_blocks() if self.config.read_noise else None
            prepared = backend.prepare(self._mean_blocks(), variance,
                                       self._volts_per_code() if self._integer_inputs() else None)
            self._plan = (backend, prepared)
        return self._plan

    @property
    def backend(self) -> TileBackend:
        """The backend this tile's MVMs run on, for its current device and dtype."""
        return self._execution(self._mean_blocks())[0]

    def _read_out(self, currents_A: torch.Tensor, variance_A2: torch.Tensor | None,
                  generator: torch.Generator | None, backend: TileBackend | None = None) -> torch.Tensor:
        """Column read noise (if ``variance_A2``), ADC per row block and digital sum: (n_row_blocks, rows,
        columns) amperes -> (rows, columns) cell units (see :meth:`TileBackend.read_out`)."""
        if backend is None:
            return torch_column_readout(currents_A, variance_A2, self.readout_spec, generator)
        return backend.read_out(currents_A, variance_A2, self.readout_spec, generator)

    def _per_cell_currents(self, volts: torch.Tensor, n_rows: int, n_columns: int,
                           noisy_differences: Callable[[int, int], torch.Tensor]) -> torch.Tensor:
        """Reference read noise: every cell drawn at every read, summed per row block.

        Args:
            volts: (batch, in_features) row voltages; output row r reads input row ``r % batch``.
            n_rows: output rows.
            n_columns: pair columns.
            noisy_differences: ``(start, stop) -> (stop - start, n_columns, in_features)`` the read conductance
                differences of rows start..stop (fresh noise per call).

        Returns:
            (n_row_blocks, n_rows, n_columns) amperes.
        """
        layout = self.layout
        batch = volts.shape[0]
        currents = volts.new_zeros((layout.n_row_blocks, n_rows, n_columns))
        block_index = torch.arange(layout.in_features, device=volts.device) // layout.block_rows
        chunk = max(1, _PER_CELL_CHUNK // (n_columns * layout.in_features))
        for start in range(0, n_rows, chunk):
            stop = min(start + chunk, n_rows)
            difference = noisy_differences(start, stop)
            rows_volts = volts[torch.arange(start, stop, device=volts.device) % batch]
            for block in range(layout.n_row_blocks):
                inputs_in_block = block_index == block
                currents[block, start:stop] = torch.einsum("rci,ri->rc", difference[..., inputs_in_block],
                                                           rows_volts[:, inputs_in_block])
        return currents

    # ------------------------------------------------------------------------------------------ state
    def _apply(self, fn, recurse=True):
        # .to(), .double(), .cuda(): the prepared operands belong to the old buffers.
        self._plan = None
        return super()._apply(fn, recurse)

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_plan"] = None     # packed backend operands are rebuilt, not pickled
        return state

    def _load_from_state_dict(self, *args, **kwargs):
        super()._load_from_state_dict(*args, **kwargs)
        self._refresh()

    def _refresh(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError
