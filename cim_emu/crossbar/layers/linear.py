"""``CrossbarLinear``: a linear layer whose MVMs run on deterministic data-bit differential pairs.

Training (or before ``program``) runs the hardware-aware float path: the same input scaling, DAC grid,
weight quantisation and bit-slicing, row-block partial sums and ADC grid as the tile, with ideal devices;
gradients pass the rounding straight through (the forward value is the hardware's, the backward is that of
the quantised linear map). ``program(generator=...)`` then builds the emulated tile (device variation drawn
once); in eval mode the layer runs on it (read noise at every MVM).
"""

from __future__ import annotations

import torch

import devices
from cim_emu.crossbar.config import CrossbarConfig
from cim_emu.crossbar.converters import adc_quantize, dac_quantize, input_scale
from cim_emu.crossbar.counters import record
from cim_emu.crossbar.layers.base import AnalogLinearBase
from cim_emu.crossbar.layout import TileLayout
from cim_emu.crossbar.mapping import check_weight, combine_slices, quantize_weights, slice_codes
from cim_emu.crossbar.tiles.tile import CrossbarTile

__all__ = ["CrossbarLinear", "hardware_aware_linear"]


def hardware_aware_linear(inputs: torch.Tensor, weight: torch.Tensor, config: CrossbarConfig) -> torch.Tensor:
    """The tile's forward arithmetic with ideal devices, differentiable (straight-through rounding).

    Args:
        inputs: (rows, in_features).
        weight: (out_features, in_features).
        config: the tile hardware (converters, weight bits, array rows).

    Returns:
        (rows, out_features), no bias.
    """
    scale = input_scale(inputs, config.input_range)
    normalized = dac_quantize(inputs / scale, config.dac_bits, straight_through=True)
    codes, weight_scale, levels = quantize_weights(weight, config.weight_bits, straight_through=True)
    linear = normalized @ codes.T
    if config.adc_bits is None and config.adc_range_cells is None:
        hardware = linear
    else:
        with torch.no_grad():
            layout = TileLayout.of(weight.shape[1], weight.shape[0], config)
            slices = codes if config.weight_bits is None else slice_codes(codes, config.weight_bits).to(codes.dtype)
            partial = torch.bmm(layout.inputs_to_blocks(normalized),
                                layout.to_blocks(slices.reshape(layout.n_columns, -1)))
            sums = adc_quantize(partial, config.adc_bits, config.adc_range_cells).sum(dim=0)
            hardware = combine_slices(sums.reshape(inputs.shape[0], layout.n_slices, layout.out_features))
        # Forward value of the hardware, gradient of the quantised linear map.
        hardware = linear + (hardware - linear).detach()
    return hardware * scale * (weight_scale / levels)


class CrossbarLinear(AnalogLinearBase):
    """Linear layer on deterministic differential pairs (the ex-situ network's hardware).

    Args:
        in_features: inputs.
        out_features: outputs.
        bias: add a digital bias.
        config: tile hardware (default ``CrossbarConfig()``: ternary weights, 8-bit DAC and ADC, read noise).
        card: device card (default ``devices.default_card()``).
        generator: optional source for the initial weights (``nn.Linear``'s law).
        dtype, device: of the parameters.

    Shapes: ``forward(x)`` maps (..., in_features) -> (..., out_features).
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, *,
                 config: CrossbarConfig | None = None, card: devices.DeviceCard | None = None,
                 generator: torch.Generator | None = None, dtype: torch.dtype | None = None, device=None):
        super().__init__(in_features, out_features, bias, config=config, card=card, generator=generator,
                         dtype=dtype, device=device)

    def _new_tile(self) -> CrossbarTile:
        return CrossbarTile(self.in_features, self.out_features, config=self.config, card=self.card,
                            dtype=self.weight.dtype, device=self.weight.device)

    def _ideal_mean(self, flat: torch.Tensor) -> torch.Tensor:
        scale = input_scale(flat, self.config.input_range)
        normalized = dac_quantize(flat / scale, self.config.dac_bits)
        codes, weight_scale, levels = quantize_weights(self.weight.detach(), self.config.weight_bits)
        return (normalized @ codes.T) * scale * (weight_scale / levels)

    def program(self, *, generator: torch.Generator | None) -> CrossbarLinear:
        """Program the current weights onto an emulated tile (variation drawn from ``generator``); returns self."""
        self.tile = CrossbarTile.program(self.weight, config=self.config, card=self.card, generator=generator)
        self._stamp()
        return self

    def forward(self, inputs: torch.Tensor, *, generator: torch.Generator | None = None) -> torch.Tensor:
        """(..., in_features) -> (..., out_features).

        Args:
            inputs: digital inputs.
            generator: source of the read noise on a programmed tile in eval mode (required there when the
                config has read noise); unused by the deterministic float path.
        """
        flat, leading = self._flatten(inputs)
        if self.runs_on_tile():
            outputs = self.tile(flat, generator=generator)
        else:
            check_weight(self.weight)
            outputs = hardware_aware_linear(flat, self.weight, self.config)
            # The float path emulates the same hardware: count the events a tile would cause.
            TileLayout.of(self.in_features, self.out_features, self.config).record_mvms(
                flat.shape[0], 2 * self.config.n_slices * self.out_features * self.in_features)
        if self.bias is not None:
            outputs = outputs + self.bias
            record(digital_adds=flat.shape[0] * self.out_features)
        return outputs.reshape(*leading, self.out_features)

