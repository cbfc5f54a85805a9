"""Data converters of a tile: the input DAC and the column ADC (pure kernels).

Both are symmetric mid-tread quantisers with ``2^(bits-1) - 1`` levels per sign and clipping at
full scale; rounding is to nearest (ties to even, as ``torch.round``). The same functions serve the
emulated tile (volts, amperes) and hardware-aware training (normalised units); with
``straight_through=True`` the rounding passes gradients unchanged (Bengio et al. 2013) while clipping
stops them, so the trained network sees exactly the tile's forward arithmetic.
"""

from __future__ import annotations

import torch

__all__ = ["signed_levels", "input_scale", "dac_quantize", "adc_quantize"]


def signed_levels(bits: int) -> int:
    """Non-zero levels per sign of a signed converter: 2^(bits-1) - 1 (127 for 8 bits)."""
    return 2 ** (bits - 1) - 1


def _round(values: torch.Tensor, straight_through: bool) -> torch.Tensor:
    rounded = torch.round(values)
    return values + (rounded - values).detach() if straight_through else rounded


def input_scale(inputs: torch.Tensor, input_range: float | None) -> torch.Tensor:
    """Digital pre-scale that maps each input row onto the DAC's [-1, 1].

    Args:
        inputs: (rows, n) digital inputs.
        input_range: fixed full scale, or None for each row's own largest magnitude (all-zero rows get 1).

    Returns:
        (rows, 1) scale; ``inputs / scale`` is the normalised DAC input. Not differentiated (a digital
        range setting, like a fixed-point exponent).
    """
    if input_range is not None:
        return torch.full((inputs.shape[0], 1), float(input_range), dtype=inputs.dtype, device=inputs.device)
    # abs().amax() rather than vector_norm(ord=inf): the same values (NaN propagates), ~15x faster on the CPU.
    magnitude = inputs.detach().abs().amax(dim=1, keepdim=True)
    return torch.where(magnitude > 0, magnitude, torch.ones_like(magnitude))


def dac_quantize(normalized: torch.Tensor, bits: int | None, *, straight_through: bool = False) -> torch.Tensor:
    """Clip to [-1, 1] and round to the DAC grid.

    Args:
        normalized: inputs already divided by :func:`input_scale`.
        bits: DAC bits including sign; None = ideal (clipping only).
        straight_through: pass gradients through the rounding (training).

    Returns:
        Normalised DAC output in [-1, 1] (multiply by the full-scale voltage for volts).
    """
    clipped = normalized.clamp(-1.0, 1.0)
    if bits is None:
        return clipped
    levels = signed_levels(bits)
    return _round(clipped * levels, straight_through) / levels


def adc_quantize(values: torch.Tensor, bits: int | None, full_scale: float | None, *,
                 straight_through: bool = False) -> torch.Tensor:
    """Clip to +-full_scale and round to the ADC grid, in the units of ``values``.

    Args:
        values: column currents (A) or partial sums (cell units).
        bits: ADC bits including sign; None = no rounding.
        full_scale: clipping level in the units of ``values``; None = no clipping (requires ``bits`` None).
        straight_through: pass gradients through the rounding (training); clipped values get none.

    Returns:
        The converted values, same shape and units.
    """
    if full_scale is None:
        if bits is not None:
            raise ValueError("adc_quantize: a finite-resolution ADC needs full_scale; pass the ADC range")
        return values
    clipped = values.clamp(-full_scale, full_scale)
    if bits is None:
        return clipped
    levels = signed_levels(bits)
    step = full_scale / levels
    return _round(clipped / step, straight_through) * step
