"""im2col and the input DAC in one pass (CPU): the DAC codes of every convolution patch, patch-major.

A convolution on a tile is one MVM per output pixel, whose inputs are the pixel's (C_in, kh, kw) patch
divided by the patch's own pre-scale (its largest magnitude), clipped to [-1, 1] and rounded to the DAC
grid (:meth:`cim_emu.crossbar.tiles.base.TileBase._dac_codes`). Unfolding the patches first and converting
them after (``F.unfold``, a transpose into one row per pixel, then four elementwise passes) moves the 9x
expanded patch matrix through memory six times. This kernel writes each DAC code once, straight from the
image, feature-major ``(C_in kh kw, images, L)`` (L = out_h out_w output pixels), with the same
float arithmetic as the tile (``rint(clip(x / s, -1, 1) * levels)``, no fast-math), so the codes are
bit-identical to the tile's. The pre-scales come from :func:`patch_scales` (a max-pool of the channel-wise
largest magnitude: the same maxima, without unfolding). :func:`fused_readout` then turns the row blocks' GEMM
results (int8 products or float32 currents, channel-major) into the calibrated outputs in one pass, repeating
torch's float32 steps of :meth:`cim_emu.crossbar.tiles.crossbar_tile.CrossbarTile.forward` (no read noise)
exactly. Used by :meth:`~cim_emu.crossbar.tiles.crossbar_tile.CrossbarTile.convolve`.
"""

from __future__ import annotations

import numba
import numpy as np
import torch
import torch.nn.functional as F
from numba.extending import intrinsic

from devices._numba_threads import run_numba_kernel

__all__ = ["fused_readout", "patch_scales", "unfold_dac_codes"]

_PARALLEL_WORK = 1 << 20      # codes below which the kernel runs on the calling thread


def _unfold_codes_kernel(images, scales, kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w, dilation_h,
                         dilation_w, out_h, out_w, levels, one, integer, out):
    n_images, n_channels, height, width = images.shape
    for task in numba.prange(n_images * n_channels):
        image = task // n_channels
        channel = task % n_channels
        for i in range(kernel_h):
            for k in range(kernel_w):
                destination = out[(channel * kernel_h + i) * kernel_w + k, image]
                shift = k * dilation_w - pad_w
                # Output columns whose input column lies inside the image: [low, high).
                low = 0
                while low < out_w and low * stride_w + shift < 0:
                    low += 1
                high = out_w
                while high > low and (high - 1) * stride_w + shift >= width:
                    high -= 1
                count = high - low
                if stride_h == 1 and stride_w == 1 and out_w == width and count > 0:
                    # 'Same'-width convolution: the valid rows form one contiguous run of the image plane, so
                    # one long loop (short rows would cost a slice per 32 codes); edge columns read a neighbour
                    # row's pixel there and are zeroed after.
                    top = 0
                    while top < out_h and top + i * dilation_h - pad_h < 0:
                        top += 1
                    bottom = out_h
                    while bottom > top and bottom - 1 + i * dilation_h - pad_h >= height:
                        bottom -= 1
                    start = top * out_w + low
                    stop = (bottom - 1) * out_w + high if bottom > top else start
                    offset = (i * dilation_h - pad_h) * width + shift
                    plane = images[image, channel].ravel()
                    for index in range(start):
                        destination[index] = 0
                    for index in range(stop, out_h * out_w):
                        destination[index] = 0
                    if stop > start:
                        source = plane[start + offset:stop + offset]
                        scale = scales[image, start:stop]
                        inside = destination[start:stop]
                        if integer:
                            for j in range(stop - start):
                                value = source[j] / scale[j]
                                value = one if value > one else value
                                value = -one if value < -one else value
                                inside[j] = np.int8(np.rint(value * levels))
                        else:
                            for j in range(stop - start):
                                value = source[j] / scale[j]
                                value = one if value > one else value
                                value = -one if value < -one else value
                                inside[j] = np.rint(value * levels)
                        for oh in range(top, bottom):
                            for ow in range(low):
                                destination[oh * out_w + ow] = 0
                            for ow in range(high, out_w):
                                destination[oh * out_w + ow] = 0
                    continue
                for oh in range(out_h):
                    row = destination[oh * out_w:(oh + 1) * out_w]
                    y = oh * stride_h + i * dilation_h - pad_h
                    if y < 0 or y >= height:
                        for ow in range(out_w):
                            row[ow] = 0
                        continue
                    for ow in range(low):
                        row[ow] = 0
                    for ow in range(high, out_w):
                        row[ow] = 0
                    scale = scales[image, oh * out_w + low:oh * out_w + high]
                    inside = row[low:high]
                    first = low * stride_w + shift
                    # Zero-based loops over slices vectorise (stride 1: contiguous loads).
                    if stride_w == 1:
                        source = images[image, channel, y, first:first + count]
                    else:
                        source = images[image, channel, y, first:first + (count - 1) * stride_w + 1:stride_w]
                    # Explicit selects and an explicit int8 cast: LLVM vectorises these loops (~4x the min/max
                    # builtins' speed). The branch is loop-invariant.
                    if integer:
                        for j in range(count):
                            value = source[j] / scale[j]
                            value = one if value > one else value
                            value = -one if value < -one else value
                            inside[j] = np.int8(np.rint(value * levels))
                    else:
                        for j in range(count):
                            value = source[j] / scale[j]
                            value = one if value > one else value
                            value = -one if value < -one else value
                            inside[j] = np.rint(value * levels)


# No fast-math: the division and the rounding must be IEEE, as in torch, for bit-identical codes.
_UNFOLD_CODES = numba.njit(parallel=True, fastmath=False, error_model="numpy", cache=True)(_unfold_codes_kernel)


def patch_scales(images: torch.Tensor, kernel_size: tuple[int, int], stride: tuple[int, int],
                 padding: tuple[int, int], dilation: tuple[int, int]) -> torch.Tensor:
    """Each patch's DAC pre-scale: its largest magnitude (1 for an all-zero patch), as ``input_scale`` of the
    unfolded patch row gives it.

    Args:
        images: (images, C_in, H, W), finite.
        kernel_size, stride, padding, dilation: the convolution's (zero padding).

    Returns:
        (images, out_h out_w) contiguous, ``images``' dtype.
    """
    magnitude = images.abs().amax(dim=1, keepdim=True)
    if padding != (0, 0):
        # Zero padding: |x| >= 0, so padded zeros never raise a maximum (max_pool2d limits its own padding).
        magnitude = F.pad(magnitude, (padding[1], padding[1], padding[0], padding[0]))
    pooled = F.max_pool2d(magnitude, kernel_size, stride=stride, dilation=dilation).flatten(1)
    return torch.where(pooled > 0, pooled, torch.ones_like(pooled)).contiguous()


def unfold_dac_codes(images: torch.Tensor, scales: torch.Tensor, levels: int, kernel_size: tuple[int, int],
                     stride: tuple[int, int], padding: tuple[int, int], dilation: tuple[int, int],
                     out_size: tuple[int, int], dtype: torch.dtype) -> torch.Tensor:
    """DAC codes ``rint(clip(x / s, -1, 1) * levels)`` of every patch element, feature-major.

    Args:
        images: (images, C_in, H, W) float32 or float64 CPU tensor, finite.
        scales: (images, L) the patches' pre-scales (:func:`patch_scales`), ``images``' dtype.
        levels: DAC levels per sign (127 for 8 bits).
        kernel_size, stride, padding, dilation: the convolution's (zero padding).
        out_size: (out_h, out_w), L = out_h out_w.
        dtype: of the codes: ``torch.int8`` (levels <= 127) or ``images``' dtype.

    Returns:
        (C_in kh kw, images, L) codes, the patch features ordered (channel, kernel row, kernel column) like a
        ``Conv2d`` weight flattened: ``codes.reshape(features, images L)`` is the right operand of one GEMM per
        row block for all the images at once.
    """
    images_np = images.detach().contiguous().numpy()
    scales_np = scales.detach().contiguous().numpy()
    features = images.shape[1] * kernel_size[0] * kernel_size[1]
    n_outputs = out_size[0] * out_size[1]
    out = torch.empty((features, images.shape[0], n_outputs), dtype=dtype)
    scalar = images_np.dtype.type
    run_numba_kernel(_UNFOLD_CODES, images_np, scales_np, *kernel_size, *stride, *padding, *dilation, *out_size,
                     scalar(levels), scalar(1), dtype == torch.int8, out.numpy(),
                     parallel=out.numel() >= _PARALLEL_WORK)
    return out


@intrinsic
def _fma(typingctx, a, b, c):
    """a b + c rounded once (llvm.fma), as torch's CPU ``addcmul`` computes it."""
    def codegen(context, builder, signature, args):
        return builder.fma(*args)
    return a(a, b, c), codegen


def _fused_readout_kernel(products, integer, scale_high, scale_low, full_scale, step, rounding, unit,
                            significance, pre_scales, digital, gain, offset, out):
    n_blocks = products.shape[0]
    n_images, out_features, n_pixels = out.shape
    n_slices = significance.shape[0]
    n_columns = significance.shape[0] * out.shape[1]
    for task in numba.prange(n_images * out_features):
        image = task // out_features
        output = task % out_features
        destination = out[image, output]
        scales = pre_scales[image]
        first = image * n_pixels
        total = np.empty(n_pixels, dtype=np.float32)
        combined = np.empty(n_pixels, dtype=np.float32)
        current_row = np.empty(n_pixels, dtype=np.float32)
        # Pixel loops innermost (contiguous, vectorised); the branches are loop-invariant.
        for piece in range(n_slices):
            column = piece * out_features + output
            high_scale = scale_high[column]
            low_scale = scale_low[column]
            for block in range(n_blocks):
                high = products[block, column, first:first + n_pixels]
                if integer:
                    low = products[block, n_columns + column, first:first + n_pixels]
                    for pixel in range(n_pixels):
                        current_row[pixel] = _fma(np.float32(low[pixel]), low_scale,
                                                  np.float32(high[pixel]) * high_scale)
                else:
                    for pixel in range(n_pixels):
                        current_row[pixel] = high[pixel]
                for pixel in range(n_pixels):
                    current = current_row[pixel]
                    current = full_scale if current > full_scale else current
                    current = -full_scale if current < -full_scale else current
                    if rounding:
                        current = np.rint(current / step) * step
                    if block == 0:
                        total[pixel] = current
                    else:
                        total[pixel] = total[pixel] + current
            weight = significance[piece]
            for pixel in range(n_pixels):
                value = total[pixel] / unit
                if n_slices == 1:
                    combined[pixel] = value
                elif piece == 0:
                    combined[pixel] = value * weight
                else:
                    combined[pixel] = combined[pixel] + value * weight
        digital_scale = digital[output]
        output_gain = gain[output]
        output_offset = offset[output]
        for pixel in range(n_pixels):
            destination[pixel] = _fma(combined[pixel] * scales[pixel] * digital_scale, output_gain, output_offset)


_FUSED_READOUT = numba.njit(parallel=True, fastmath=False, error_model="numpy", cache=True)(
    _fused_readout_kernel)


def fused_readout(products: torch.Tensor, scales_A: torch.Tensor | None, full_scale: float, step: float | None,
                    unit: float, significance: torch.Tensor, pre_scales: torch.Tensor, digital: torch.Tensor,
                    gain: torch.Tensor, offset: torch.Tensor, n_images: int) -> torch.Tensor:
    """A float32 tile's whole no-noise readout in one pass: (products ->) currents -> ADC per row block -> block
    sum -> slices -> digital scales and calibration, with torch's float32 arithmetic step for step
    (``addcmul``'s single rounding included), so the outputs equal the torch-op chain's bit for bit.

    Args:
        products: (n_blocks, 2 n_columns, images L) int32 ``[high | low]`` Kirchhoff products (integer path),
            or (n_blocks, n_columns, images L) float32 column currents (A) with ``scales_A`` None (float path).
        scales_A: (2, n_columns) float32 amperes per unit of the high and low products, or None.
        full_scale: ADC clipping level (A); step: ADC step (A) or None; unit: output unit (A).
        significance: (n_slices,) float32 slice weights 2^k.
        pre_scales: (images, L) the patches' DAC pre-scales.
        digital: (out_features,) weight scale / levels; gain, offset: (out_features,) calibration.
        n_images: images.

    Returns:
        (images, out_features, L) float32.
    """
    n_pixels = products.shape[-1] // n_images
    integer = scales_A is not None
    if not integer:
        scales_A = torch.ones((2, 1), dtype=torch.float32)    # unused by the float path
    out = torch.empty((n_images, digital.shape[0], n_pixels), dtype=torch.float32)
    arrays = [tensor.detach().contiguous().numpy() for tensor in
              (products, scales_A[0], scales_A[1], significance, pre_scales, digital, gain, offset)]
    f32 = np.float32
    run_numba_kernel(_FUSED_READOUT, arrays[0], integer, arrays[1], arrays[2], f32(full_scale),
                     f32(1.0 if step is None else step), step is not None, f32(unit), *arrays[3:], out.numpy(),
                     parallel=products.numel() >= _PARALLEL_WORK)
    return out
