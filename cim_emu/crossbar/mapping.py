"""Weights -> differential pairs: per-output scale, integer codes, bit-slices and device states.

A weight row j is stored as ``scale_j * code_ji / levels`` with ``levels = 2^b - 1`` and an integer
code in [-levels, levels] (b = ``weight_bits``). The code is written in sign-magnitude over b ternary
slices, ``code = sum_k 2^k t_k`` with ``t_k = sign(code) * bit_k(|code|)`` in {-1, 0, +1}; slice k sits
in its own column group and the ADC outputs of the groups are recombined digitally with weights 2^k.
Each ternary slice is one differential pair read as G+ - G-: +1 = (P, AP), -1 = (AP, P), 0 = (AP, AP)
(the convention of ``devices.pair``). The scale is the row's largest magnitude, so the largest weight
maps onto the largest code; it is a digital multiplier applied after the ADC.
"""

from __future__ import annotations

import torch

__all__ = ["check_weight", "weight_scale", "quantize_weights", "slice_codes", "slice_significance",
           "combine_slices", "pair_device_states"]


def check_weight(weight: torch.Tensor, name: str = "weight") -> None:
    """Raise ``ValueError`` naming the first NaN/inf entry (row, column) of a weight matrix."""
    bad = ~torch.isfinite(weight.detach())
    if bool(bad.any()):
        row, column = (int(i) for i in torch.nonzero(bad)[0])
        value = float(weight.detach()[row, column])
        raise ValueError(f"{name}: entry ({row}, {column}) is {value}; weights must be finite "
                         "(check the training run that produced them, e.g. a diverged loss)")


def weight_scale(weight: torch.Tensor) -> torch.Tensor:
    """Per-output digital scale (m,): each row's largest magnitude (1 for an all-zero row)."""
    magnitude = weight.abs().amax(dim=1)
    return torch.where(magnitude > 0, magnitude, torch.ones_like(magnitude))


def quantize_weights(weight: torch.Tensor, weight_bits: int | None, *,
                     straight_through: bool = False) -> tuple[torch.Tensor, torch.Tensor, int]:
    """Integer codes and scale of a weight matrix.

    Args:
        weight: (m, n) float weights.
        weight_bits: magnitude bits (1 = ternary); None = ideal analog (codes are ``weight / scale``).
        straight_through: pass gradients through the rounding (training).

    Returns:
        ``(codes, scale, levels)``: codes (m, n) integer-valued floats in [-levels, levels] (real-valued in
        [-1, 1] for analog), scale (m,), and levels = 2^b - 1 (1 for analog). ``scale[:, None] * codes / levels``
        is the weight the hardware realises.
    """
    scale = weight_scale(weight)
    normalized = weight / scale[:, None]
    if weight_bits is None:
        return normalized, scale, 1
    levels = 2 ** weight_bits - 1
    scaled = normalized.clamp(-1.0, 1.0) * levels
    rounded = torch.round(scaled)
    codes = scaled + (rounded - scaled).detach() if straight_through else rounded
    return codes, scale, levels


def slice_codes(codes: torch.Tensor, weight_bits: int) -> torch.Tensor:
    """Ternary bit-slices (K, m, n) int8 of integer codes, ``codes = sum_k 2^k slices[k]``."""
    integer = torch.round(codes.detach()).to(torch.int64)
    magnitude, sign = integer.abs(), torch.sign(integer)
    slices = [(sign * ((magnitude >> k) & 1)).to(torch.int8) for k in range(weight_bits)]
    return torch.stack(slices)


def slice_significance(n_slices: int, *, dtype=torch.float32, device=None) -> torch.Tensor:
    """Digital recombination weights (K,) of the slice column groups: 1, 2, 4, ..."""
    return torch.pow(2.0, torch.arange(n_slices, dtype=torch.float64)).to(dtype=dtype, device=device)


def combine_slices(sums: torch.Tensor) -> torch.Tensor:
    """Digital recombination of the slice column groups: (rows, K, m) -> (rows, m), ``sum_k 2^k sums[:, k]``."""
    if sums.shape[1] == 1:
        return sums[:, 0]  # ternary weights: one slice, nothing to recombine
    significance = slice_significance(sums.shape[1], dtype=sums.dtype, device=sums.device)
    return (sums * significance[:, None]).sum(dim=1)


def pair_device_states(slices: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Device states of ternary pairs: (plus_parallel, minus_parallel), bool, same shape as ``slices``."""
    return slices > 0, slices < 0
