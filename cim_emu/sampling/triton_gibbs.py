"""The p-bit Gibbs block update in Triton: fields -> up-probability -> Philox uniform -> spin, in one pass.

The GPU twin of :func:`cim_emu.sampling.pbit_update.gibbs_update_torch` (same stream, same law, bit-identical
spins). Each element (chain c, spin j) of a (chains, k) block of local fields I:

    p = sigmoid(2 beta I)                                         (ideal law), or
    V = clip(V_c,j + kappa sigma_pulse beta I, 0, V_max),
    p = Phi((V - v50 - o_j) / sigma_pulse) Phi(-cos(omega(V) t) e^{-t / tau} / sigma_mz)   (the card's P(V))
    w0 = Philox4x32-10(counter = (sweep, chain_offset + c, spin_offset + j, 0), key)[0]
    m = +1 if (w0 >> 8) 2^-24 < p else -1

with omega(V) = (pi / half_period) (1 + slope (V - V_ref)) (``devices.switching_probability``'s compact model).
Everything after the Philox word runs in float64, the law's constants are read from a float64 tensor (Triton
would pass Python floats as float32), and Phi(x) = (1 + erf(x / sqrt 2)) / 2: torch's ``ndtr`` uses erfc in the
tails, which changes p by ~1e-16 at most, far below the uniforms' 2^-24 resolution.
"""

from __future__ import annotations

import math

import torch
import triton
import triton.language as tl

from cim_emu.crossbar.kernels.triton.philox import check_device, philox4x32
from cim_emu.sampling.pbit_update import CardLaw, check_update_arguments

__all__ = ["gibbs_update_triton"]

# This kernel lives with the sampler rather than in cim_emu.crossbar.kernels.triton: it needs the sampler's law
# (CardLaw), and the crossbar must not import the sampling package that is built on it.

_BLOCK = 256
_SQRT1_2 = 0.7071067811865476


@triton.jit
def _ndtr(x):
    """Standard normal CDF in float64."""
    return 0.5 * (1.0 + tl.math.erf(x * 0.7071067811865476))


@triton.jit(do_not_specialize=["sweep", "chain_offset", "spin_offset", "key_0", "key_1"])
def _gibbs_kernel(fields_ptr, out_ptr, params_ptr, centre_ptr, offset_ptr, n_elements, n_spins, sweep,
                  chain_offset, spin_offset, key_0, key_1, CARD: tl.constexpr, BLOCK: tl.constexpr):
    index = tl.program_id(0).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
    valid = index < n_elements
    chain = index // n_spins
    spin = index - chain * n_spins
    field = tl.load(fields_ptr + index, mask=valid, other=0.0).to(tl.float64)
    if CARD:
        gain = tl.load(params_ptr)
        max_voltage = tl.load(params_ptr + 1)
        width = tl.load(params_ptr + 2)
        v50 = tl.load(params_ptr + 3)
        sigma_pulse = tl.load(params_ptr + 4)
        slope = tl.load(params_ptr + 5)
        reference = tl.load(params_ptr + 6)
        angular = tl.load(params_ptr + 7)         # pi / half_period
        decay = tl.load(params_ptr + 8)           # exp(-width / dephasing_time)
        sigma_mz = tl.load(params_ptr + 9)
        centre = tl.load(centre_ptr + spin, mask=valid, other=0.0)
        offset = tl.load(offset_ptr + spin, mask=valid, other=0.0)
        voltage = tl.minimum(tl.maximum(centre + gain * field, 0.0), max_voltage)
        engaged = _ndtr((voltage - v50 - offset) / sigma_pulse)
        omega = angular * (1.0 + slope * (voltage - reference))
        out_of_plane = tl.cos(omega * width) * decay
        up = engaged * _ndtr(-out_of_plane / sigma_mz)
    else:
        scale = tl.load(params_ptr)               # 2 beta
        up = 1.0 / (1.0 + tl.exp(-(scale * field)))
    zero = tl.zeros([BLOCK], dtype=tl.uint32)
    word, _, _, _ = philox4x32(zero + sweep.to(tl.uint32), (chain + chain_offset).to(tl.uint32),
                               (spin + spin_offset).to(tl.uint32), zero, key_0.to(tl.uint32), key_1.to(tl.uint32))
    uniform = (word >> 8).to(tl.float64) * 5.9604644775390625e-08    # 2^-24
    spin_value = tl.where(uniform < up, 1.0, -1.0)
    tl.store(out_ptr + index, spin_value.to(out_ptr.dtype.element_ty), mask=valid)


def _card_parameters(law: CardLaw, beta: float, device) -> torch.Tensor:
    # The scalars of devices.switching_probability, each computed as the torch reference computes it.
    params = law.params
    decay = float(torch.exp(torch.tensor(-law.pulse_width_s, dtype=torch.float64) / params.dephasing_time_s))
    values = [law.volts_per_unit * beta, law.max_voltage_V, law.pulse_width_s, params.v50_V, params.sigma_pulse_V,
              params.precession_slope_per_V, params.reference_voltage_V, math.pi / params.half_period_s, decay,
              params.sigma_mz]
    return torch.tensor(values, dtype=torch.float64, device=device)


def gibbs_update_triton(fields: torch.Tensor, beta: float, *, key, sweep: int, chain_offset: int = 0,
                        spin_offset: int = 0, law: CardLaw | None = None) -> torch.Tensor:
    """New spins of one block update, fused (same arguments and result as ``gibbs_update_torch``).

    Args:
        fields: (chains, k) local fields, float32 or float64 (bfloat16/float16 are read and widened), on a CUDA
            device (or the CPU under ``TRITON_INTERPRET=1``).
        beta: inverse temperature (>= 0).
        key: the run's 64-bit Philox key or its two 32-bit words.
        sweep: sweep index in [0, 2^32).
        chain_offset: global index of the first chain.
        spin_offset: global index of the block's first spin.
        law: None (ideal) or the block's :class:`~cim_emu.sampling.pbit_update.CardLaw` on the fields' device.

    Returns:
        (chains, k) spins in {-1, +1} of the fields' dtype.
    """
    beta, (key_0, key_1), sweep, chain_offset, spin_offset = check_update_arguments(
        fields, beta, key, sweep, chain_offset, spin_offset, law)
    check_device(fields.device, "gibbs_update_triton")
    fields = fields.contiguous()
    out = torch.empty_like(fields)
    n_chains, n_spins = fields.shape
    n_elements = n_chains * n_spins
    if n_elements == 0:
        return out
    if law is None:
        params = torch.tensor([2.0 * beta], dtype=torch.float64, device=fields.device)
        centres = offsets = params     # unused by the ideal branch
    else:
        params = _card_parameters(law, beta, fields.device)
        centres, offsets = law.centre_voltages_V.contiguous(), law.v50_offsets_V.contiguous()
    grid = (triton.cdiv(n_elements, _BLOCK),)
    _gibbs_kernel[grid](fields, out, params, centres, offsets, n_elements, n_spins, sweep, chain_offset, spin_offset,
                        key_0, key_1, CARD=law is not None, BLOCK=_BLOCK)
    return out
