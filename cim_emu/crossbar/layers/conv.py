"""Convolutions on crossbar tiles: ``CrossbarConv2d`` and ``MCDropConnectConv2d``.

A 2-D convolution is a matrix product over image patches (im2col): every output pixel is one MVM of its
(C_in kh kw) input patch with the (C_out, C_in kh kw) kernel matrix. Each conv layer therefore holds one
linear crossbar layer (:class:`~cim_emu.crossbar.layers.linear.CrossbarLinear` or
:class:`~cim_emu.crossbar.layers.mc_dropconnect.MCDropConnectLinear`) as its child ``linear`` and feeds it
the unfolded patches (``torch.nn.functional.unfold``): the physics, the hardware-aware float path, the
operation counters, the energy, programming, calibration and ``state_dict`` are those of the linear layer,
with one MVM per output pixel. The patches are unfolded a few images at a time, so the memory of the
unfolded copy stays bounded (about ``_CHUNK_ELEMENTS`` values, at least one image).

A programmed layer in eval mode whose tile can run the convolution patch-major
(:meth:`~cim_emu.crossbar.tiles.crossbar_tile.CrossbarTile.convolves_images`: float32 on the CPU, a DAC of at
most 8 bits, no read noise) skips the float patches: the tile writes the DAC codes straight from the images
and returns channel-major outputs (:meth:`~cim_emu.crossbar.tiles.crossbar_tile.CrossbarTile.convolve`), bit
for bit what the linear layer gives on the unfolded patches, with the same counters, about 7x faster.

Grouped convolutions (``groups > 1``) are refused: every group would be its own tile and the depthwise
case maps badly onto crossbars (a 9-row array per channel); convert such layers yourself or leave them
digital.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

import devices
from cim_emu.crossbar.config import CrossbarConfig, WritePulse
from cim_emu.crossbar.counters import record
from cim_emu.crossbar.layers.linear import CrossbarLinear
from cim_emu.crossbar.layers.mc_dropconnect import MCDropConnectLinear
from cim_emu.rng import require_generator

__all__ = ["CrossbarConv2d", "MCDropConnectConv2d"]

# Unfolded patch values per chunk (16 MB of float32); a chunk always holds at least one image.
_CHUNK_ELEMENTS = 1 << 22


def _pair(name: str, value, minimum: int) -> tuple[int, int]:
    values = (value, value) if isinstance(value, int) and not isinstance(value, bool) else tuple(value) \
        if isinstance(value, (tuple, list)) else None
    if values is None or len(values) != 2 or any(
            isinstance(v, bool) or not isinstance(v, int) or v < minimum for v in values):
        raise ValueError(f"{name}: expected an integer >= {minimum} or a pair of them, got {value!r}")
    return values


class _CrossbarConvBase(nn.Module):
    """im2col onto a linear crossbar layer (base of the two conv layers; not used directly)."""

    linear: CrossbarLinear | MCDropConnectLinear

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0, dilation=1,
                 groups: int = 1):
        super().__init__()
        if groups != 1:
            raise ValueError(f"groups: only groups=1 is supported on crossbar tiles (got groups={groups!r}); "
                             "leave grouped/depthwise convolutions digital (exclude them from convert)")
        for name, value in (("in_channels", in_channels), ("out_channels", out_channels)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name}: must be an integer >= 1, got {value!r}")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size = _pair("kernel_size", kernel_size, 1)
        self.stride = _pair("stride", stride, 1)
        self.padding = _pair("padding", padding, 0)
        self.dilation = _pair("dilation", dilation, 1)
        self.groups = 1

    # ---------------------------------------------------------------------------------------------- geometry
    @property
    def patch_features(self) -> int:
        """Inputs of one MVM: C_in kh kw (the rows of the tile)."""
        return self.in_channels * self.kernel_size[0] * self.kernel_size[1]

    def output_size(self, height: int, width: int) -> tuple[int, int]:
        """Output (height, width) of an input of (height, width) pixels (``nn.Conv2d``'s formula)."""
        sizes = []
        for size, kernel, stride, padding, dilation in zip((height, width), self.kernel_size, self.stride,
                                                           self.padding, self.dilation, strict=False):
            sizes.append((size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1)
        return sizes[0], sizes[1]

    def _check_input(self, inputs: torch.Tensor) -> tuple[int, int, int]:
        name = type(self).__name__
        if not isinstance(inputs, torch.Tensor) or inputs.dim() != 4 or inputs.shape[1] != self.in_channels:
            shape = tuple(inputs.shape) if isinstance(inputs, torch.Tensor) else type(inputs).__name__
            raise ValueError(f"input: expected shape (batch, {self.in_channels}, height, width) (in_channels), "
                             f"got {shape}")
        dtype = self.linear.weight.dtype
        if inputs.dtype != dtype:
            raise ValueError(f"input: {name} has {dtype} weights but got a {inputs.dtype} input; cast the input "
                             f"(x.to({dtype})) or the layer (layer.to({inputs.dtype}))")
        # One pass: a NaN/inf makes the sum non-finite (a finite overflow only costs the exact search below).
        if not bool(torch.isfinite(inputs.detach().sum())) and bool((bad := ~torch.isfinite(inputs.detach())).any()):
            index = tuple(int(i) for i in torch.nonzero(bad)[0])
            raise ValueError(f"input: {name} got {float(inputs.detach()[index])} at (image, channel, row, column) "
                             f"{index}; input feature maps must be finite")
        out_h, out_w = self.output_size(inputs.shape[2], inputs.shape[3])
        if out_h < 1 or out_w < 1:
            raise ValueError(f"input: {tuple(inputs.shape[2:])} pixels are smaller than the dilated kernel "
                             f"{self.kernel_size} (padding {self.padding}, dilation {self.dilation})")
        return inputs.shape[0], out_h, out_w

    def _image_chunks(self, inputs: torch.Tensor):
        """Yield a few images at a time: at most ``_CHUNK_ELEMENTS`` patch values (at least one image)."""
        n_images, out_h, out_w = self._check_input(inputs)
        per_image = out_h * out_w * self.patch_features
        step = max(1, _CHUNK_ELEMENTS // per_image)
        for start in range(0, n_images, step):
            yield inputs[start:start + step]

    def _patch_chunks(self, inputs: torch.Tensor):
        """Yield (images in chunk, patches (images * out_h * out_w, C_in kh kw)) a few images at a time."""
        for chunk in self._image_chunks(inputs):
            columns = F.unfold(chunk, self.kernel_size, dilation=self.dilation, padding=self.padding,
                               stride=self.stride)
            # (b, C kh kw, L) -> (b L, C kh kw): one row per output pixel, patch ordered like the weight.
            yield chunk.shape[0], columns.transpose(1, 2).reshape(-1, self.patch_features)

    def _to_image(self, outputs: torch.Tensor, n_images: int, out_h: int, out_w: int) -> torch.Tensor:
        """(..., images * L, C_out) -> (..., images, C_out, out_h, out_w)."""
        leading = outputs.shape[:-2]
        outputs = outputs.reshape(*leading, n_images, out_h * out_w, self.out_channels)
        return outputs.transpose(-1, -2).reshape(*leading, n_images, self.out_channels, out_h, out_w)

    # ---------------------------------------------------------------------------------------------- linear view
    @property
    def weight(self) -> torch.Tensor:
        """(C_out, C_in, kh, kw) view of the crossbar layer's weight matrix."""
        return self.linear.weight.view(self.out_channels, self.in_channels, *self.kernel_size)

    @property
    def bias(self) -> torch.Tensor | None:
        """(C_out,) digital bias, or None."""
        return self.linear.bias

    @property
    def config(self) -> CrossbarConfig:
        """The tile hardware."""
        return self.linear.config

    @property
    def card(self) -> devices.DeviceCard:
        """The device card."""
        return self.linear.card

    @property
    def tile(self) -> nn.Module | None:
        """The programmed tile of the (C_out, C_in kh kw) kernel matrix, or None."""
        return self.linear.tile

    @property
    def programmed(self) -> bool:
        """True once :meth:`program` has built the tile (eval mode then runs on it)."""
        return self.linear.programmed

    def calibrate(self, inputs: torch.Tensor):
        """Digital column calibration of the programmed tile over the patches of ``inputs`` (N, C_in, H, W);
        see :meth:`AnalogLinearBase.calibrate`. Returns self."""
        patches = torch.cat([chunk for _, chunk in self._patch_chunks(inputs)])
        self.linear.calibrate(patches)
        return self

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}, "
                f"padding={self.padding}, dilation={self.dilation}, bias={self.bias is not None}, "
                f"programmed={self.programmed}")


class CrossbarConv2d(_CrossbarConvBase):
    """2-D convolution on deterministic crossbar tiles (im2col onto a :class:`CrossbarLinear`).

    Args:
        in_channels, out_channels, kernel_size, stride, padding, dilation: as ``nn.Conv2d`` (integer
            padding only, zero padding).
        groups: must be 1.
        bias: add a digital bias.
        config: tile hardware (default ``CrossbarConfig()``).
        card: device card (default ``devices.default_card()``).
        generator: optional source of the initial weights.
        dtype, device: of the parameters.

    Shapes: ``forward(x)`` maps (N, C_in, H, W) -> (N, C_out, H_out, W_out).
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0, dilation=1,
                 groups: int = 1, bias: bool = True, *, config: CrossbarConfig | None = None,
                 card: devices.DeviceCard | None = None, generator: torch.Generator | None = None,
                 dtype: torch.dtype | None = None, device=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups)
        self.linear = CrossbarLinear(self.patch_features, out_channels, bias, config=config, card=card,
                                     generator=generator, dtype=dtype, device=device)

    def program(self, *, generator: torch.Generator | None) -> CrossbarConv2d:
        """Program the kernel onto an emulated tile (variation from ``generator``); returns self."""
        self.linear.program(generator=generator)
        return self

    def forward(self, inputs: torch.Tensor, *, generator: torch.Generator | None = None) -> torch.Tensor:
        """(N, C_in, H, W) -> (N, C_out, H_out, W_out).

        Args:
            inputs: digital input feature maps.
            generator: source of the read noise on a programmed tile in eval mode (required there when the
                config has read noise); the chunks draw from it in order.
        """
        n_images, out_h, out_w = self._check_input(inputs)
        tile = self.linear.tile
        # The linear layer's own test (eval mode, programmed, weights unchanged since program).
        if tile is not None and self.linear.runs_on_tile() and tile.convolves_images(inputs):
            # Patch-major on the tile: no unfolded float copy, outputs already (images, C_out, pixels).
            pieces = [tile.convolve(chunk, self.kernel_size, self.stride, self.padding, self.dilation)
                      for chunk in self._image_chunks(inputs)]
            outputs = torch.cat(pieces) if len(pieces) > 1 else pieces[0]
            if self.bias is not None:
                outputs += self.bias[:, None]
                record(digital_adds=outputs.shape[0] * outputs.shape[2] * self.out_channels)
            return outputs.reshape(n_images, self.out_channels, out_h, out_w)
        pieces = [self.linear(patches, generator=generator) for _, patches in self._patch_chunks(inputs)]
        return self._to_image(torch.cat(pieces), n_images, out_h, out_w)


class MCDropConnectConv2d(_CrossbarConvBase):
    """2-D convolution with in-situ MC-dropconnect (im2col onto a :class:`MCDropConnectLinear`).

    Every output pixel is its own MVM, so every output pixel (and every sample) gets fresh masks.

    Args:
        in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias: as
            :class:`CrossbarConv2d`.
        pulse: write pulse of every sample (default: the card's operating point).
        config: tile hardware; ``weight_bits`` must be 1.
        card, generator, dtype, device: as :class:`CrossbarConv2d`.

    Shapes: ``forward(x, generator=g)`` maps (N, C_in, H, W) -> (N, C_out, H_out, W_out); with
    ``n_samples=T`` it returns (T, N, C_out, H_out, W_out).
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0, dilation=1,
                 groups: int = 1, bias: bool = True, *, pulse: WritePulse | None = None,
                 config: CrossbarConfig | None = None, card: devices.DeviceCard | None = None,
                 generator: torch.Generator | None = None, dtype: torch.dtype | None = None, device=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups)
        self.linear = MCDropConnectLinear(self.patch_features, out_channels, bias, pulse=pulse, config=config,
                                          card=card, generator=generator, dtype=dtype, device=device)

    @property
    def pulse(self) -> WritePulse:
        """Write pulse of every sample."""
        return self.linear.pulse

    @property
    def keep_probabilities(self) -> torch.Tensor:
        """(C_out, C_in kh kw) float64 keep probability of every cell (see ``MCDropConnectLinear``)."""
        return self.linear.keep_probabilities

    def program(self, *, generator: torch.Generator | None) -> MCDropConnectConv2d:
        """Write the kernel's data-bits and draw device and p-bit variation; returns self."""
        self.linear.program(generator=generator)
        return self

    def forward(self, inputs: torch.Tensor, *, generator: torch.Generator | None = None,
                n_samples: int | None = None) -> torch.Tensor:
        """MC-dropconnect convolution.

        Args:
            inputs: (N, C_in, H, W).
            generator: source of the masks (and read noise); required.
            n_samples: MC samples per image; None = one, without the leading sample dimension.

        Returns:
            (N, C_out, H_out, W_out), or (n_samples, N, C_out, H_out, W_out).
        """
        n_images, out_h, out_w = self._check_input(inputs)
        require_generator(generator, "generator: MCDropConnectConv2d")
        samples = 1 if n_samples is None else n_samples
        pieces = [self.linear(patches, generator=generator, n_samples=samples)
                  for _, patches in self._patch_chunks(inputs)]
        outputs = self._to_image(torch.cat(pieces, dim=1), n_images, out_h, out_w)
        return outputs[0] if n_samples is None else outputs

    def expected_output(self, inputs: torch.Tensor) -> torch.Tensor:
        """Exact mean over the masks: (N, C_in, H, W) -> (N, C_out, H_out, W_out)."""
        n_images, out_h, out_w = self._check_input(inputs)
        pieces = [self.linear.expected_output(patches) for _, patches in self._patch_chunks(inputs)]
        return self._to_image(torch.cat(pieces), n_images, out_h, out_w)
