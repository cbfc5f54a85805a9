"""The deterministic tile: every weight on bit-sliced ternary pairs of data-bits.

With no variation, no noise, no IR drop and ideal converters a tile computes ``x @ W.T`` up to floating-point
rounding; the signal chain and the read-noise model are in :mod:`cim_emu.crossbar.tiles.base`, the ways of
running it in :mod:`cim_emu.crossbar.kernels.backend`.

A tile is an inference device: its outputs carry no gradient (training runs the layers' float path).
Programming draws device-to-device and array-to-array variation once, from the generator given to
``program``; a forward pass derives its read-noise stream from the generator given to it.
"""

from __future__ import annotations

import math

import torch

import devices
from cim_emu.crossbar.config import CrossbarConfig, ReadNoiseModel
from cim_emu.crossbar.converters import signed_levels
from cim_emu.crossbar.counters import record
from cim_emu.crossbar.ir_drop import checked_first_order_conductance
from cim_emu.crossbar.kernels.backend import FloatBackend, IntegerBackend
from cim_emu.crossbar.kernels.patches import fused_readout, patch_scales, unfold_dac_codes
from cim_emu.crossbar.mapping import (
    check_weight,
    combine_slices,
    pair_device_states,
    quantize_weights,
    slice_codes,
    slice_significance,
)
from cim_emu.crossbar.tiles.base import TileBase, check_inputs, derived_generator
from cim_emu.rng import require_generator

__all__ = ["CrossbarTile"]


class CrossbarTile(TileBase):
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
        for name in ("effective_S", "variance_S2", "read_factor_plus", "read_factor_minus"):
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
            generator = require_generator(generator, "programming with device_variation=True")
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
        self.effective_S = self.layout.to_blocks(difference.reshape(columns, -1)).to(dtype)
        self.variance_S2 = self.layout.to_blocks(variance.reshape(columns, -1)).to(dtype)
        self.read_factor_plus = plus_effective.to(dtype)
        self.read_factor_minus = minus_effective.to(dtype)
        self._plan = None

    def _mean_blocks(self) -> torch.Tensor:
        return self.effective_S

    def _variance_blocks(self) -> torch.Tensor:
        return self.variance_S2

    @torch.no_grad()
    def forward(self, inputs: torch.Tensor, *, generator: torch.Generator | None = None) -> torch.Tensor:
        """Analog MVM of every input row.

        Args:
            inputs: (rows, in_features) digital inputs.
            generator: source of the read noise (required when ``config.read_noise``).

        Returns:
            (rows, out_features) digital outputs (no bias).
        """
        check_inputs(inputs, self.in_features)
        layout, config = self.layout, self.config
        n_rows = inputs.shape[0]
        inputs = inputs.to(self.effective_S.dtype)
        dac_inputs, volts, scale = self._dac_inputs(inputs)
        noise_generator = None
        if config.read_noise:
            noise_generator = derived_generator(require_generator(generator, "a tile with read noise"),
                                                inputs.device)
        if config.read_noise and config.read_noise_model is ReadNoiseModel.PER_CELL:
            digitized = self._read_out(self._per_cell_currents(volts, n_rows, layout.n_columns,
                                                               self._noisy_differences(noise_generator)), None, None)
        else:
            backend, prepared = self._execution(inputs)
            currents = backend.currents(prepared, dac_inputs)
            variance = backend.variance(prepared, dac_inputs) if config.read_noise else None
            digitized = self._read_out(currents, variance, noise_generator, backend)
        combined = combine_slices(digitized.reshape(n_rows, layout.n_slices, layout.out_features))
        layout.record_mvms(n_rows, 2 * layout.n_columns * layout.in_features)
        return self._calibrated(combined.mul_(scale).mul_(self.weight_scale / self.levels))

    # ------------------------------------------------------------------------------------------ convolutions
    def convolves_images(self, images: torch.Tensor) -> bool:
        """True when :meth:`convolve` runs ``images`` (CPU float32 tensors, a float32 tile, a DAC of at most 8
        bits, no read noise); otherwise unfold the patches and call the tile (same results). Float64 tiles are
        the exact reference mode and keep the unfolding path."""
        config = self.config
        if (images.device.type != "cpu" or images.dtype != torch.float32 or self.effective_S.dtype != torch.float32
                or config.read_noise or config.dac_bits is None or config.dac_bits > 8):
            return False
        return isinstance(self._execution(images)[0], (FloatBackend, IntegerBackend))

    def _transposed_operands(self, backend, prepared) -> list[torch.Tensor]:
        """Per row block, the Kirchhoff operand transposed to (columns, block's inputs), made once per state."""
        cached = getattr(self, "_transposed", None)
        if cached is not None and cached[0] is prepared:
            return cached[1]
        layout = self.layout
        blocks = prepared.codes if isinstance(backend, IntegerBackend) else prepared.mean_S
        operands = []
        for block in range(layout.n_row_blocks):
            rows = min(layout.block_rows, layout.in_features - block * layout.block_rows)
            operands.append(blocks[block, :rows].T.contiguous())
        self._transposed = (prepared, operands)
        return operands

    @torch.no_grad()
    def convolve(self, images: torch.Tensor, kernel_size: tuple[int, int], stride: tuple[int, int],
                 padding: tuple[int, int], dilation: tuple[int, int]) -> torch.Tensor:
        """One MVM per output pixel of a convolution whose (C_in kh kw) patches are this tile's inputs.

        The same physics, arithmetic and counters as :meth:`forward` on the unfolded patches (one row per
        output pixel, the patch ordered like a flattened ``Conv2d`` weight), bit for bit on both CPU paths
        (tested); it only runs them patch-major: the DAC codes are written once, straight from the images
        (:func:`cim_emu.crossbar.kernels.patches.unfold_dac_codes`), each row block is one GEMM
        ``(columns, block inputs) @ (block inputs, images * pixels)`` whose result is already channel-major,
        and the whole readout is one pass
        (:func:`cim_emu.crossbar.kernels.patches.fused_readout`). Only where :meth:`convolves_images` is True.

        Args:
            images: (images, C_in, H, W) digital inputs, finite, the tile's dtype.
            kernel_size, stride, padding, dilation: the convolution's (zero padding).

        Returns:
            (images, out_features, out_h out_w) digital outputs (no bias).
        """
        if not self.convolves_images(images):
            raise ValueError("convolve: needs a CPU tile of the images' dtype with a DAC of <= 8 bits and no read "
                             "noise (see convolves_images); unfold the patches and call the tile instead")
        layout, config = self.layout, self.config
        n_images, channels, height, width = images.shape
        if channels * kernel_size[0] * kernel_size[1] != layout.in_features:
            raise ValueError(f"images: {channels} channels x {kernel_size} kernel = "
                             f"{channels * kernel_size[0] * kernel_size[1]} patch inputs, the tile has "
                             f"{layout.in_features}")
        out_size = tuple((size + 2 * pad - dil * (kernel - 1) - 1) // step + 1 for size, kernel, step, pad, dil
                         in zip((height, width), kernel_size, stride, padding, dilation, strict=True))
        n_pixels = out_size[0] * out_size[1]
        backend, prepared = self._execution(images)
        integer = isinstance(backend, IntegerBackend)
        scales = patch_scales(images, kernel_size, stride, padding, dilation)
        codes = unfold_dac_codes(images, scales, signed_levels(config.dac_bits), kernel_size, stride, padding,
                                 dilation, out_size, torch.int8 if integer else images.dtype)
        inputs = (codes if integer else codes.mul_(self._volts_per_code())).reshape(layout.in_features, -1)
        operands = self._transposed_operands(backend, prepared)
        columns = layout.n_columns
        # One GEMM per row block for all images: (columns, block inputs) @ (block inputs, images L).
        if integer:
            results = torch.empty((layout.n_row_blocks, 2 * columns, n_images * n_pixels), dtype=torch.int32)
        else:
            results = images.new_empty((layout.n_row_blocks, columns, n_images * n_pixels))
        for block, operand in enumerate(operands):
            start = block * layout.block_rows
            gemm = torch._int_mm if integer else torch.mm
            gemm(operand, inputs[start:start + operand.shape[1]], out=results[block])
        spec = self.readout_spec
        outputs = fused_readout(
            results, prepared.scales_A if integer else None,
            math.inf if spec.full_scale_A is None else spec.full_scale_A, spec.step_A, spec.unit_A,
            slice_significance(layout.n_slices, dtype=torch.float32), scales, self.weight_scale / self.levels,
            self.calibration_gain, self.calibration_offset, n_images)
        layout.record_mvms(n_images * n_pixels, 2 * layout.n_columns * layout.in_features)
        return outputs

    def __getstate__(self):
        state = super().__getstate__()
        state["_transposed"] = None     # rebuilt from the prepared operands, not pickled
        return state

    @torch.no_grad()
    def expected_output(self, inputs: torch.Tensor) -> torch.Tensor:
        """Mean over read noise of the pre-ADC output, digital units, calibration applied (no bias).

        Args:
            inputs: (rows, in_features).

        Returns:
            (rows, out_features).
        """
        check_inputs(inputs, self.in_features)
        layout = self.layout
        inputs = inputs.to(self.effective_S.dtype)
        volts, scale = self._convert_inputs(inputs)
        currents = torch.bmm(layout.inputs_to_blocks(volts), self.effective_S).sum(dim=0) / self.unit_current_A
        combined = combine_slices(currents.reshape(inputs.shape[0], layout.n_slices, layout.out_features))
        return self._calibrated(combined * scale * (self.weight_scale / self.levels))

    def _noisy_differences(self, generator: torch.Generator):
        """Per-cell reference: a fresh lognormal draw of both devices of every pair for every row."""
        layout = self.layout

        def draw(start: int, stop: int) -> torch.Tensor:
            shape = (stop - start,) + tuple(self.read_factor_plus.shape)
            plus = devices.apply_read_noise(self.card.data_bit, self.read_factor_plus.expand(shape),
                                            generator=generator)
            minus = devices.apply_read_noise(self.card.data_bit, self.read_factor_minus.expand(shape),
                                             generator=generator)
            return (plus - minus).reshape(stop - start, layout.n_columns, layout.in_features)

        return draw
