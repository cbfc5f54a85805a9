"""Programmed crossbar tiles: conductances drawn from the device layer, and the analog MVM.

An MVM on a tile (per input row):

1. digital pre-scale and input DAC: ``v_i = V_fs * DAC(x_i / s)`` volts (:mod:`cim_emu.crossbar.converters`);
2. Kirchhoff summation per pair column and row block: ``I_c = sum_i v_i (G+_ic - G-_ic)`` amperes, with the
   first-order IR-drop conductances if enabled (:mod:`cim_emu.crossbar.ir_drop`) and the cycle-to-cycle read noise of
   every cell (:class:`cim_emu.crossbar.config.ReadNoiseModel`);
3. column ADC per row block (full scale ``adc_range_cells * V_fs * (G_P - G_AP)``), digital sum of the row
   blocks, digital recombination of bit-slices (weights 2^k), digital scale ``s * scale_j / levels``.

With no variation, no noise, no IR drop and ideal converters this is ``x @ W.T`` up to floating-point
rounding. Read noise (``devices.apply_read_noise``: R -> R exp(e), e ~ N(0, s^2) per read) enters the
``COLUMN`` model through its exact moments: E[G exp(-e)] = G exp(s^2 / 2) and
Var = G^2 exp(s^2) (exp(s^2) - 1), summed over the independent cells of a column as v_i^2 Var_i (the sum of
many cells is Gaussian to a very good approximation; ``PER_CELL`` draws every cell and is the reference).
The variance GEMM runs in bfloat16 for float32 inputs (relative error of the variance ~1e-3, far below the
uncertainty of the fitted read-noise level); float64 inputs keep float64 throughout.

Integer Kirchhoff sum (float32 tiles on the CPU, DAC of at most 8 bits): the inputs are DAC codes k_i
(|k_i| <= 127) anyway, so ``sum_i k_i G_ic`` runs as exact int8 GEMMs on 15-bit conductance codes,
G_ic = s_c (128 hi_ic + lo_ic) with s_c = max_i |G_ic| / 16383 per column: each conductance is resolved
to 61 ppm of its column's largest (1/160 of the 1 % read noise), and the column current is off by at
most ``sum_i |v_i| s_c / 2``. The two int8 GEMMs (VNNI) cost about half the float32 one. Float64 tiles,
other devices and finer DACs keep the floating-point GEMM; the ideal tile (no DAC) stays exact.

A tile is an inference device: its outputs carry no gradient (training runs the layers' float path).
Programming draws device-to-device and array-to-array variation once, from the generator given to
``program``; a forward pass derives its own streams (masks, read noise) from the generator given to it, so
changing the number of read-noise draws never changes the masks, and vice versa.
"""

from __future__ import annotations

import math

import torch
from torch import nn

import devices
from cim_emu.crossbar.config import CrossbarConfig, ReadNoiseModel, WritePulse
from cim_emu.crossbar.converters import input_scale, signed_levels
from cim_emu.crossbar.counters import record
from cim_emu.crossbar.ir_drop import checked_first_order_conductance
from cim_emu.crossbar.kernels.column_noise import noisy_column_readout
from cim_emu.crossbar.kernels.masked_mvm import (
    default_backend,
    draw_seed,
    keep_masks,
    keep_thresholds,
    masked_mvm,
    threshold_probabilities,
)
from cim_emu.crossbar.layout import TileLayout
from cim_emu.crossbar.mapping import check_weight, combine_slices, pair_device_states, quantize_weights, slice_codes

__all__ = ["CrossbarTile", "ProbabilisticTile", "derived_generator"]

_PER_CELL_CHUNK = 1 << 22   # cells per chunk of the per-cell read-noise reference


_INTEGER_DAC_BITS = 8     # DAC codes up to +-127 fit int8
_CODE_BASE = 128          # conductance code = 128 hi + lo, hi in [-128, 127], lo in [0, 127]
_CODE_LEVELS = 16383      # largest |code| of a column: 15-bit signed codes


def _conductance_codes(blocks_S: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """15-bit codes of the effective conductances, split into two int8 halves for the integer GEMMs.

    Args:
        blocks_S: (n_row_blocks, block_rows, n_columns) float64 effective conductance differences.

    Returns:
        (n_row_blocks, block_rows, 2 n_columns) int8 codes ``[hi, lo]`` with G = s (128 hi + lo), and the
        per-column step ``s`` (n_columns,) float32 in siemens.
    """
    column_max = blocks_S.abs().amax(dim=(0, 1))
    step = torch.where(column_max > 0, column_max / _CODE_LEVELS, torch.ones_like(column_max))
    codes = torch.round(blocks_S / step).to(torch.int64)
    high = torch.div(codes, _CODE_BASE, rounding_mode="floor")
    low = codes - _CODE_BASE * high
    return torch.cat([high, low], dim=-1).to(torch.int8), step.to(torch.float32)


def _combine_products(products: torch.Tensor, scales_A: torch.Tensor) -> torch.Tensor:
    """int32 ``[high | low]`` products (n_row_blocks, rows, 2 n) -> currents (n_row_blocks, rows, n) amperes."""
    n_columns = scales_A.shape[1]
    # Each int32 -> float conversion is exact below 2^24; the one rounding is the final sum's.
    currents = torch.mul(products[..., :n_columns], scales_A[0])
    return currents.addcmul_(products[..., n_columns:], scales_A[1])


def derived_generator(generator: torch.Generator, device: torch.device | str) -> torch.Generator:
    """A fresh generator on ``device`` seeded from ``generator``: one independent stream per noise source."""
    return torch.Generator(device=device).manual_seed(draw_seed(generator))


def _require_generator(generator, what: str) -> torch.Generator:
    if not isinstance(generator, torch.Generator):
        raise ValueError(f"{what} is stochastic: pass generator=torch.Generator(device).manual_seed(seed) "
                         f"(got {type(generator).__name__})")
    return generator


def _check_inputs(inputs: torch.Tensor, in_features: int) -> None:
    if inputs.dim() != 2 or inputs.shape[1] != in_features:
        raise ValueError(f"inputs: expected shape (rows, {in_features}), got {tuple(inputs.shape)}")


class _TileBase(nn.Module):
    """Converters, layout and read-noise moments shared by both tile kinds."""

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

    def _digitize(self, currents_A: torch.Tensor) -> torch.Tensor:
        """ADC per row block and digital sum: (n_row_blocks, rows, columns) A -> (rows, columns) cell units.

        Works in place on ``currents_A`` (the tile path carries no gradient).
        """
        full_scale, bits = self.adc_full_scale_A, self.config.adc_bits
        if full_scale is not None:
            currents_A.clamp_(-full_scale, full_scale)
            if bits is not None:
                step = full_scale / signed_levels(bits)
                currents_A.div_(step).round_().mul_(step)
        summed = currents_A[0] if currents_A.shape[0] == 1 else currents_A.sum(dim=0)
        return summed.div_(self.unit_current_A)

    def _read_out(self, currents_A: torch.Tensor, volts_blocks: torch.Tensor, variance_blocks: torch.Tensor,
                  generator: torch.Generator | None, *, fused: bool | None = None,
                  scales: torch.Tensor | None = None) -> torch.Tensor:
        """Column read noise (if on), ADC per row block and digital sum: (n_row_blocks, rows, columns) A ->
        (rows, columns) cell units.

        The noise has variance sum_i v_i^2 Var_i per column and row block, fresh for every row (the rows of
        ``currents_A`` may be several samples of the rows of ``volts_blocks``); the variance GEMM runs in the
        dtype of ``variance_blocks`` (bfloat16 for float32 tiles). On the CPU (``fused`` None or True) one
        fused kernel draws the noise, converts and sums (:mod:`cim_emu.crossbar.kernels.column_noise`); elsewhere
        (or ``fused=False``, for tests) torch ops do, in place, with torch's generator. With ``scales``,
        ``currents_A`` holds the int32 products of the integer Kirchhoff sums (see ``_integer_products``).
        """
        fused = currents_A.device.type == "cpu" if fused is None else fused
        if scales is not None and not (fused and self.config.read_noise):
            currents_A, scales = _combine_products(currents_A, scales), None
        if not self.config.read_noise:
            return self._digitize(currents_A)
        # Both factors are >= 0, so the variance is too: no clamping before the square root.
        variance = torch.bmm(volts_blocks.square().to(variance_blocks.dtype), variance_blocks)
        if fused:
            full_scale, bits = self.adc_full_scale_A, self.config.adc_bits
            step = None if full_scale is None or bits is None else full_scale / signed_levels(bits)
            return noisy_column_readout(currents_A, variance, seed=draw_seed(generator), full_scale=full_scale,
                                        step=step, unit=self.unit_current_A, scales=scales)
        std = variance.to(currents_A.dtype).sqrt_()
        repeat = currents_A.shape[1] // std.shape[1]
        if repeat > 1:
            std = std.repeat(1, repeat, 1)
        noise = torch.randn(std.shape, generator=generator, device=std.device, dtype=std.dtype)
        return self._digitize(currents_A.addcmul_(noise, std))

    @staticmethod
    def _variance_dtype(dtype: torch.dtype) -> torch.dtype:
        # bfloat16 halves the variance GEMM on CPUs with bf16 units and on GPUs; float64 tiles stay exact.
        return dtype if dtype == torch.float64 else torch.bfloat16

    def _load_from_state_dict(self, *args, **kwargs):
        super()._load_from_state_dict(*args, **kwargs)
        self._refresh()

    def _refresh(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError


class CrossbarTile(_TileBase):
    """A programmed deterministic tile: every weight on ``n_slices`` ternary pairs of data-bits.

    Persistent buffers (state_dict): ``conductance_plus_S`` and ``conductance_minus_S`` (n_slices, out, in), the
    programmed conductances of the two devices of each pair, and ``weight_scale`` (out,). Everything else is
    derived from them.
    """

    def __init__(self, in_features: int, out_features: int, *, config: CrossbarConfig, card: devices.DeviceCard,
                 dtype: torch.dtype = torch.float32, device=None):
        super().__init__(in_features, out_features, config.n_slices, config, card)
        shape = (config.n_slices, out_features, in_features)
        self.levels = 1 if config.weight_bits is None else 2 ** config.weight_bits - 1
        self.register_buffer("conductance_plus_S", torch.zeros(shape, dtype=dtype, device=device))
        self.register_buffer("conductance_minus_S", torch.zeros(shape, dtype=dtype, device=device))
        self.register_buffer("weight_scale", torch.ones(out_features, dtype=dtype, device=device))
        self._register_calibration(out_features, dtype, device)
        for name in ("effective_S", "variance_S2", "read_factor_plus", "read_factor_minus", "conductance_codes",
                     "code_step_S", "current_scales_A"):
            self.register_buffer(name, None, persistent=False)

    @classmethod
    def program(cls, weight: torch.Tensor, *, config: CrossbarConfig, card: devices.DeviceCard,
                generator: torch.Generator | None) -> CrossbarTile:
        """Map ``weight`` (out, in) onto pairs and draw the programming variation.

        Args:
            weight: float weights; NaN/inf are rejected.
            config: the tile hardware.
            card: device card (conductances, variation, read noise).
            generator: source of the device-to-device and array-to-array variation (on any device; the tile
                lives on ``weight``'s device). May be None only if ``config.device_variation`` is False.
        """
        if weight.dim() != 2:
            raise ValueError(f"weight: expected a 2-D (out_features, in_features) matrix, got {tuple(weight.shape)}")
        check_weight(weight)
        out_features, in_features = weight.shape
        tile = cls(in_features, out_features, config=config, card=card, dtype=weight.dtype, device=weight.device)
        weight = weight.detach()
        codes, scale, _ = quantize_weights(weight, config.weight_bits)
        g_p, g_ap = tile.conductance_parallel_S, tile.conductance_antiparallel_S
        if config.weight_bits is None:
            # Ideal analog pairs: G+ - G- proportional to the weight (reference mode, not MTJ-realisable).
            swing = g_p - g_ap
            plus = (g_ap + swing * codes.clamp(min=0)).to(torch.float64)[None]
            minus = (g_ap + swing * (-codes).clamp(min=0)).to(torch.float64)[None]
            plus_parallel = minus_parallel = None
        else:
            slices = slice_codes(codes, config.weight_bits)
            plus_parallel, minus_parallel = pair_device_states(slices)
            levels = torch.tensor([g_ap, g_p], dtype=torch.float64, device=weight.device)
            plus, minus = levels[plus_parallel.long()], levels[minus_parallel.long()]
        if config.device_variation:
            generator = _require_generator(generator, "programming with device_variation=True")
            shape = (2,) + tuple(plus.shape)
            array_index = tile.layout.array_index(device=generator.device).expand(shape)
            drawn = devices.sample_device_conductances(card.data_bit, shape, generator=generator,
                                                       array_index=array_index, read_voltage_V=tile.full_scale_V,
                                                       dtype=torch.float64)
            if plus_parallel is None:
                # Analog reference: the device's lognormal factor scales its programmed conductance.
                factors = (drawn.parallel_S / g_p).to(plus.device)
                plus, minus = plus * factors[0], minus * factors[1]
            else:
                plus, minus = drawn.select(torch.stack([plus_parallel, minus_parallel]).to(generator.device))
        tile.conductance_plus_S.copy_(plus.to(weight.device))
        tile.conductance_minus_S.copy_(minus.to(weight.device))
        tile.weight_scale.copy_(scale)
        tile._refresh()
        record(cell_writes=2 * tile.layout.n_columns * in_features)
        return tile

    def _refresh(self) -> None:
        """Derive effective (IR-dropped, read-noise-mean) conductances and noise variances in block layout."""
        plus = self.conductance_plus_S.to(torch.float64)
        minus = self.conductance_minus_S.to(torch.float64)
        if self.config.ir_drop:
            physical = self.layout.physical_arrays(plus, minus, fill_S=self.conductance_antiparallel_S)
            plus_effective, minus_effective = self.layout.from_physical(
                checked_first_order_conductance(physical, self.config.wire_resistance_per_cell_ohm))
        else:
            plus_effective, minus_effective = plus, minus
        columns = self.layout.n_columns
        difference = (plus_effective - minus_effective) * self.read_mean_factor
        variance = self.read_variance_factor * (plus_effective.square() + minus_effective.square())
        dtype = self.conductance_plus_S.dtype
        blocks = self.layout.to_blocks(difference.reshape(columns, -1))
        self.effective_S = blocks.to(dtype)
        self.variance_S2 = self.layout.to_blocks(variance.reshape(columns, -1)).to(self._variance_dtype(dtype))
        self.read_factor_plus = plus_effective.to(dtype)
        self.read_factor_minus = minus_effective.to(dtype)
        self.conductance_codes, self.code_step_S = _conductance_codes(blocks) if self._integer_sums() else (None, None)
        self.current_scales_A = (None if self.code_step_S is None else
                                 torch.stack([self.code_step_S * (_CODE_BASE * self._volts_per_code()),
                                              self.code_step_S * self._volts_per_code()]))

    def _integer_sums(self) -> bool:
        """Whether forward sums currents in integers: float32 tile on the CPU behind a DAC of <= 8 bits."""
        bits = self.config.dac_bits
        return (self.conductance_plus_S.dtype == torch.float32 and self.conductance_plus_S.device.type == "cpu"
                and bits is not None and bits <= _INTEGER_DAC_BITS and hasattr(torch, "_int_mm"))

    def _integer_products(self, codes: torch.Tensor) -> torch.Tensor:
        """int32 (n_row_blocks, rows, 2 n_columns) products ``[high | low]`` of DAC codes (rows, in_features)
        and conductance codes; the current is ``high * current_scales_A[0] + low * current_scales_A[1]`` A."""
        layout = self.layout
        code_blocks = layout.inputs_to_blocks(codes.to(torch.int8))
        products = torch.empty((layout.n_row_blocks, codes.shape[0], 2 * layout.n_columns), dtype=torch.int32,
                               device=codes.device)
        for block in range(layout.n_row_blocks):
            torch._int_mm(code_blocks[block], self.conductance_codes[block], out=products[block])
        return products

    @torch.no_grad()
    def forward(self, inputs: torch.Tensor, *, generator: torch.Generator | None = None) -> torch.Tensor:
        """Analog MVM of every input row.

        Args:
            inputs: (rows, in_features) digital inputs.
            generator: source of the read noise (required when ``config.read_noise``).

        Returns:
            (rows, out_features) digital outputs (no bias).
        """
        _check_inputs(inputs, self.in_features)
        layout, config = self.layout, self.config
        n_rows = inputs.shape[0]
        inputs = inputs.to(self.effective_S.dtype)
        # The codes are made at programming for float32 CPU tiles; a tile moved (.to, .double) since then
        # takes the float GEMM.
        integer = (self.conductance_codes is not None and inputs.device.type == "cpu"
                   and inputs.dtype == torch.float32)
        if integer:
            codes, scale = self._dac_codes(inputs)
            volts = codes * self._volts_per_code()
        else:
            volts, scale = self._convert_inputs(inputs)
        volts_blocks = layout.inputs_to_blocks(volts)
        if config.read_noise:
            noise_generator = derived_generator(_require_generator(generator, "a tile with read noise"),
                                                inputs.device)
        if config.read_noise and config.read_noise_model is ReadNoiseModel.PER_CELL:
            digitized = self._digitize(self._per_cell_currents(volts, noise_generator))
        else:
            if integer:
                currents, scales = self._integer_products(codes), self.current_scales_A
            else:
                currents, scales = torch.bmm(volts_blocks, self.effective_S), None
            digitized = self._read_out(currents, volts_blocks, self.variance_S2,
                                       noise_generator if config.read_noise else None, scales=scales)
        combined = combine_slices(digitized.reshape(n_rows, layout.n_slices, layout.out_features))
        layout.record_mvms(n_rows, 2 * layout.n_columns * layout.in_features)
        return self._calibrated(combined.mul_(scale).mul_(self.weight_scale / self.levels))

    @torch.no_grad()
    def expected_output(self, inputs: torch.Tensor) -> torch.Tensor:
        """Mean over read noise of the pre-ADC output, digital units, calibration applied (no bias).

        Args:
            inputs: (rows, in_features).

        Returns:
            (rows, out_features).
        """
        _check_inputs(inputs, self.in_features)
        layout = self.layout
        inputs = inputs.to(self.effective_S.dtype)
        volts, scale = self._convert_inputs(inputs)
        currents = torch.bmm(layout.inputs_to_blocks(volts), self.effective_S).sum(dim=0) / self.unit_current_A
        combined = combine_slices(currents.reshape(inputs.shape[0], layout.n_slices, layout.out_features))
        return self._calibrated(combined * scale * (self.weight_scale / self.levels))

    def _per_cell_currents(self, volts: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """Reference read noise: a fresh lognormal draw of every cell for every input row."""
        layout = self.layout
        n_rows = volts.shape[0]
        cells = layout.n_columns * layout.in_features
        chunk = max(1, _PER_CELL_CHUNK // cells)
        currents = volts.new_zeros((layout.n_row_blocks, n_rows, layout.n_columns))
        block_index = torch.arange(layout.in_features, device=volts.device) // layout.block_rows
        for start in range(0, n_rows, chunk):
            stop = min(start + chunk, n_rows)
            shape = (stop - start,) + tuple(self.read_factor_plus.shape)
            plus = devices.apply_read_noise(self.card.data_bit, self.read_factor_plus.expand(shape),
                                            generator=generator)
            minus = devices.apply_read_noise(self.card.data_bit, self.read_factor_minus.expand(shape),
                                             generator=generator)
            difference = (plus - minus).reshape(stop - start, layout.n_columns, layout.in_features)
            for block in range(layout.n_row_blocks):
                inputs_in_block = block_index == block
                currents[block, start:stop] = torch.einsum("rci,ri->rc", difference[..., inputs_in_block],
                                                           volts[start:stop, inputs_in_block])
        return currents


class ProbabilisticTile(_TileBase):
    """A programmed MC-dropconnect tile: every ternary weight on a probabilistic differential pair.

    Cell (j, i) pairs a data-bit D (parallel for a positive weight, antiparallel otherwise) with a p-bit B.
    Before every MVM each p-bit of a non-zero weight is reset to D's state (the pair reads ~0: dropped) and
    then receives the write pulse, which switches it with its own probability P_ji (its v50 offset
    included): switched, the pair reads +-(G_P - G_AP) and the weight is kept (``devices.pair``). Zero
    weights are never pulsed. Masks are independent per cell, input row and sample
    (:mod:`cim_emu.crossbar.kernels.masked_mvm`).

    Persistent buffers: ``data_S``, ``pbit_parallel_S``, ``pbit_antiparallel_S`` (out, in) conductances,
    ``v50_offsets_V`` (out, in), ``keep_probabilities`` (out, in), ``codes`` (out, in) int8 and
    ``weight_scale`` (out,).

    With IR drop on, the p-bit's conductance in the IR-drop solution is its mean over the mask (a mean-field
    approximation); the ``COLUMN`` read-noise variance likewise averages the p-bit state. ``PER_CELL`` read
    noise draws the actual states and is exact.
    """

    def __init__(self, in_features: int, out_features: int, *, config: CrossbarConfig, card: devices.DeviceCard,
                 pulse: WritePulse, dtype: torch.dtype = torch.float32, device=None):
        if config.weight_bits != 1:
            raise ValueError(f"config.weight_bits: a probabilistic differential pair holds one ternary weight; "
                             f"set weight_bits=1 (got {config.weight_bits!r})")
        super().__init__(in_features, out_features, 1, config, card)
        self.pulse = pulse
        shape = (out_features, in_features)
        for name in ("data_S", "pbit_parallel_S", "pbit_antiparallel_S", "v50_offsets_V"):
            self.register_buffer(name, torch.zeros(shape, dtype=dtype, device=device))
        self.register_buffer("keep_probabilities", torch.zeros(shape, dtype=torch.float64, device=device))
        self.register_buffer("codes", torch.zeros(shape, dtype=torch.int8, device=device))
        self.register_buffer("weight_scale", torch.ones(out_features, dtype=dtype, device=device))
        self._register_calibration(out_features, dtype, device)
        for name in ("dropped_S", "kept_minus_dropped_S", "variance_S2", "thresholds", "kept_pbit_S",
                     "dropped_pbit_S", "data_effective_S"):
            self.register_buffer(name, None, persistent=False)

    @classmethod
    def program(cls, weight: torch.Tensor, *, config: CrossbarConfig, card: devices.DeviceCard, pulse: WritePulse,
                generator: torch.Generator | None) -> ProbabilisticTile:
        """Write the data-bits of ternary ``weight`` and draw conductance and p-bit threshold variation.

        Args:
            weight: (out, in) float weights (quantised to ternary with a per-output scale).
            config: tile hardware (``weight_bits`` must be 1).
            card: device card.
            pulse: the write pulse every sample applies to the p-bits.
            generator: source of the programming variation (None only without device variation).
        """
        if weight.dim() != 2:
            raise ValueError(f"weight: expected a 2-D (out_features, in_features) matrix, got {tuple(weight.shape)}")
        check_weight(weight)
        out_features, in_features = weight.shape
        tile = cls(in_features, out_features, config=config, card=card, pulse=pulse, dtype=weight.dtype,
                   device=weight.device)
        codes, scale, _ = quantize_weights(weight.detach(), 1)
        data_parallel = codes > 0
        g_p, g_ap = tile.conductance_parallel_S, tile.conductance_antiparallel_S
        shape = (out_features, in_features)
        if config.device_variation:
            generator = _require_generator(generator, "programming with device_variation=True")
            # Separate streams: the number of conductance draws never shifts the p-bit thresholds.
            conductance_generator = derived_generator(generator, generator.device)
            threshold_generator = derived_generator(generator, generator.device)
            array_index = tile.layout.array_index(device=generator.device)[0].expand((2,) + shape)
            drawn = devices.sample_device_conductances(card.data_bit, (2,) + shape, generator=conductance_generator,
                                                       array_index=array_index, read_voltage_V=tile.full_scale_V,
                                                       dtype=torch.float64)
            data = drawn.select(torch.stack([data_parallel.to(generator.device)] * 2))[0]
            pbit_parallel, pbit_antiparallel = drawn.parallel_S[1], drawn.antiparallel_S[1]
            offsets = devices.sample_v50_offsets(card.p_bit, shape, generator=threshold_generator,
                                                 dtype=torch.float64)
        else:
            data = torch.tensor([g_ap, g_p], dtype=torch.float64, device=weight.device)[data_parallel.long()]
            pbit_parallel = torch.full(shape, g_p, dtype=torch.float64)
            pbit_antiparallel = torch.full(shape, g_ap, dtype=torch.float64)
            offsets = torch.zeros(shape, dtype=torch.float64)
        keep = devices.switching_probability(card.p_bit, pulse.voltage_V, pulse.pulse_width_s,
                                             v50_offset_V=offsets)
        device = weight.device
        tile.data_S.copy_(data.to(device))
        tile.pbit_parallel_S.copy_(pbit_parallel.to(device))
        tile.pbit_antiparallel_S.copy_(pbit_antiparallel.to(device))
        tile.v50_offsets_V.copy_(offsets.to(device))
        tile.keep_probabilities.copy_(keep.to(device))
        tile.codes.copy_(codes.to(torch.int8))
        tile.weight_scale.copy_(scale)
        tile._refresh()
        record(cell_writes=out_features * in_features)
        return tile

    def _refresh(self) -> None:
        dtype = self.data_S.dtype
        data_parallel = self.codes > 0
        nonzero = self.codes != 0
        # p-bits pulsed (and reset) per MVM row, for the counters: fixed once programmed, so counted here
        # rather than with a device-to-host sync in every forward.
        self._n_pulsed = int(torch.count_nonzero(nonzero))
        probabilities = torch.where(nonzero, self.keep_probabilities, torch.zeros_like(self.keep_probabilities))
        self.thresholds = keep_thresholds(probabilities)
        keep = threshold_probabilities(self.thresholds)
        data = self.data_S.to(torch.float64)
        pbit_p, pbit_ap = self.pbit_parallel_S.to(torch.float64), self.pbit_antiparallel_S.to(torch.float64)
        # Reset puts B in D's state; a switch puts it in the other one.
        kept_pbit = torch.where(data_parallel, pbit_ap, pbit_p)
        dropped_pbit = torch.where(data_parallel, pbit_p, pbit_ap)
        if self.config.ir_drop:
            mean_pbit = keep * kept_pbit + (1 - keep) * dropped_pbit
            physical = self.layout.physical_arrays(data[None], mean_pbit[None], fill_S=self.conductance_antiparallel_S)
            data_effective, pbit_effective = self.layout.from_physical(
                checked_first_order_conductance(physical, self.config.wire_resistance_per_cell_ohm))
            pbit_factor = pbit_effective[0] / mean_pbit
            data, kept_pbit, dropped_pbit = data_effective[0], kept_pbit * pbit_factor, dropped_pbit * pbit_factor
        mean = self.read_mean_factor
        dropped = (data - dropped_pbit) * mean
        kept_minus_dropped = torch.where(nonzero, (dropped_pbit - kept_pbit) * mean, torch.zeros_like(data))
        variance = self.read_variance_factor * (data.square() + keep * kept_pbit.square()
                                                + (1 - keep) * dropped_pbit.square())
        self.dropped_S = self.layout.to_blocks(dropped).to(dtype)
        self.kept_minus_dropped_S = kept_minus_dropped.to(dtype)
        self.variance_S2 = self.layout.to_blocks(variance).to(self._variance_dtype(dtype))
        self.data_effective_S, self.kept_pbit_S, self.dropped_pbit_S = data.to(dtype), kept_pbit.to(dtype), \
            dropped_pbit.to(dtype)

    @property
    def deployed_keep_probabilities(self) -> torch.Tensor:
        """(out, in) float64: the keep probability each cell realises (t / 2^32 of its threshold; 0 for zero
        weights, which are never pulsed)."""
        return threshold_probabilities(self.thresholds)

    @torch.no_grad()
    def forward(self, inputs: torch.Tensor, *, generator: torch.Generator, n_samples: int = 1) -> torch.Tensor:
        """MC-dropconnect MVMs: fresh p-bit pulses for every input row and sample.

        Args:
            inputs: (batch, in_features) digital inputs.
            generator: source of the masks and the read noise (required).
            n_samples: samples per input row.

        Returns:
            (n_samples * batch, out_features), sample-major, digital outputs without bias.
        """
        _check_inputs(inputs, self.in_features)
        generator = _require_generator(generator, "an MC-dropconnect tile")
        layout, config = self.layout, self.config
        batch = inputs.shape[0]
        inputs = inputs.to(self.dropped_S.dtype)
        volts, scale = self._convert_inputs(inputs)
        volts_blocks = layout.inputs_to_blocks(volts)
        mask_seed = draw_seed(generator)
        noise_generator = derived_generator(generator, inputs.device) if config.read_noise else None
        if config.read_noise and config.read_noise_model is ReadNoiseModel.PER_CELL:
            digitized = self._digitize(self._per_cell_currents(volts, mask_seed, n_samples, noise_generator))
        else:
            masked = masked_mvm(volts, self.kept_minus_dropped_S, self.thresholds, seed=mask_seed,
                                n_samples=n_samples, block_rows=layout.block_rows)
            currents = masked.transpose(0, 1) + torch.bmm(volts_blocks, self.dropped_S).repeat(1, n_samples, 1)
            digitized = self._read_out(currents, volts_blocks, self.variance_S2, noise_generator)
        outputs = self._calibrated(digitized * scale.repeat(n_samples, 1) * self.weight_scale)
        n_rows = batch * n_samples
        layout.record_mvms(n_rows, 2 * layout.out_features * layout.in_features)
        record(pbit_pulses=n_rows * self._n_pulsed, pbit_resets=n_rows * self._n_pulsed)
        return outputs

    @torch.no_grad()
    def expected_output(self, inputs: torch.Tensor) -> torch.Tensor:
        """Exact mean over masks and read noise of the pre-ADC output, in digital units (no bias).

        Args:
            inputs: (batch, in_features).

        Returns:
            (batch, out_features), calibration applied. The ADC's rounding adds at most half a step per row
            block to the mean.
        """
        _check_inputs(inputs, self.in_features)
        inputs = inputs.to(self.dropped_S.dtype)
        volts, scale = self._convert_inputs(inputs)
        keep = self.deployed_keep_probabilities.to(volts.dtype)
        mean_cells = self.dropped_S + self.layout.to_blocks(keep * self.kept_minus_dropped_S)
        currents = torch.bmm(self.layout.inputs_to_blocks(volts), mean_cells).sum(dim=0)
        return self._calibrated(currents / self.unit_current_A * scale * self.weight_scale)

    def _per_cell_currents(self, volts: torch.Tensor, mask_seed: int, n_samples: int,
                           generator: torch.Generator) -> torch.Tensor:
        """Reference: the same masks as the fast path, every device read with its own lognormal noise."""
        layout = self.layout
        batch = volts.shape[0]
        n_rows = batch * n_samples
        backend = default_backend(volts.device)
        masks = keep_masks(self.thresholds, mask_seed, n_rows, backend=backend).to(volts.device)
        currents = volts.new_zeros((layout.n_row_blocks, n_rows, layout.out_features))
        block_index = torch.arange(layout.in_features, device=volts.device) // layout.block_rows
        chunk = max(1, _PER_CELL_CHUNK // (layout.out_features * layout.in_features))
        for start in range(0, n_rows, chunk):
            stop = min(start + chunk, n_rows)
            pbit = torch.where(masks[start:stop], self.kept_pbit_S, self.dropped_pbit_S)
            data = devices.apply_read_noise(self.card.data_bit, self.data_effective_S.expand(pbit.shape),
                                            generator=generator)
            pbit = devices.apply_read_noise(self.card.data_bit, pbit, generator=generator)
            # Zero weights: D and B stay antiparallel (never pulsed), whatever the mask stream says.
            difference = data - pbit
            rows_volts = volts[torch.arange(start, stop, device=volts.device) % batch]
            for block in range(layout.n_row_blocks):
                inputs_in_block = block_index == block
                currents[block, start:stop] = torch.einsum("rji,ri->rj", difference[..., inputs_in_block],
                                                           rows_volts[:, inputs_in_block])
        return currents
