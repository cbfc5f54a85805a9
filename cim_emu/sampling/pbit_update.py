"""The p-bit Gibbs update on a counter-based stream: fields -> up-probabilities -> new spins, on any device.

A block update of a Gibbs sweep (:mod:`cim_emu.sampling.gibbs`) sets every spin of the block, in every chain, to
+1 with its up-probability p and to -1 otherwise. This module makes that decision from a **counter-based**
uniform, so the result depends on (key, sweep, chain, spin) only, never on the block layout, the device or the
thread count, and a GPU kernel (:func:`cim_emu.sampling.triton_gibbs.gibbs_update_triton`) reproduces it bit
for bit:

    (w0, w1, w2, w3) = Philox4x32-10(counter = (sweep, chain, spin, 0), key = (key mod 2^32, key >> 32))
    u = (w0 >> 8) 2^-24                  (the top 24 bits of word 0: a float64 in [0, 1 - 2^-24], exact)
    m = +1 if u < p else -1

``key`` is drawn once per run from the run's generator (:func:`devices.rng.draw_key`); sweep, chain and spin are
the global indices (a block passes its first spin's index as ``spin_offset``). Words 1-3 are left unused (room
for a second draw per update, e.g. a p-bit read error).

p is computed in float64 from the fields (any float dtype):

* ideal: p = (1 + tanh(beta I)) / 2 = sigmoid(2 beta I) (:func:`~cim_emu.sampling.pbit_law.ideal_up_probability`);
* card: p = P(V), the card's switching probability (``devices.switching_probability``, per-device threshold
  offset included) at V = clip(V_c + kappa sigma_pulse beta I, 0, V_max), exactly the voltage map of
  :class:`~cim_emu.sampling.pbit_law.PBitArray` (:class:`CardLaw` carries its per-spin tensors to the fields'
  device).

Because u has 24 bits and p is float64, the GPU kernel's float64 libm (``exp``, ``erf``, ``cos``) can differ from
torch's by a few ulp (~1e-16) and still give the same spin unless p lies within that of a multiple of 2^-24
(~1e-9 of updates at most); the tests assert bit-identical spins.

:func:`gibbs_update` dispatches: CUDA tensors run the fused Triton kernel when triton is installed (one warning and
the torch reference otherwise), every other device the torch reference; the spins are the same either way.
The sampler of :mod:`cim_emu.sampling.gibbs` runs on the CPU and keeps its own ``torch.rand`` / numba draws
(its results are unchanged); this update is the device-agnostic building block for a CUDA sampler.
"""

from __future__ import annotations

import dataclasses
import math
import operator

import torch

import devices
from cim_emu.sampling.pbit_law import PBitArray, ideal_up_probability
from devices.rng.philox import MASK_32, key_words, philox4x32_torch

__all__ = ["CardLaw", "UNIFORM_BITS", "check_update_arguments", "gibbs_update", "gibbs_update_torch", "update_uniforms",
           "up_probability_torch"]

#: Bits of each update uniform: u = (w0 >> 8) 2^-24.
UNIFORM_BITS = 24


@dataclasses.dataclass(frozen=True)
class CardLaw:
    """The card's P(V) law of k consecutive p-bits, on one device (built from a :class:`PBitArray`).

    Attributes:
        centre_voltages_V: (k,) float64 pulse amplitude at zero field (V).
        v50_offsets_V: (k,) float64 per-device threshold offsets (V).
        volts_per_unit: kappa sigma_pulse (V per unit of beta I).
        max_voltage_V: the driver's largest amplitude (V).
        pulse_width_s: the write-pulse width (s).
        params: the card's p-bit parameters (``devices.PBitParams``).
    """

    centre_voltages_V: torch.Tensor
    v50_offsets_V: torch.Tensor
    volts_per_unit: float
    max_voltage_V: float
    pulse_width_s: float
    params: object

    @classmethod
    def from_array(cls, array: PBitArray, start: int = 0, stop: int | None = None,
                   device: torch.device | str = "cpu") -> CardLaw:
        """The law of p-bits ``start:stop`` of ``array`` (a contiguous block), its tensors on ``device``."""
        if not isinstance(array, PBitArray):
            raise ValueError(f"array: expected a PBitArray (PBitArray.draw(...)), got {type(array).__name__}")
        n = array.centre_voltages_V.shape[0]
        stop = n if stop is None else stop
        if not (isinstance(start, int) and isinstance(stop, int) and 0 <= start < stop <= n):
            raise ValueError(f"start/stop: expected 0 <= start < stop <= {n} (the array's p-bits), got {start}, {stop}")
        return cls(
            centre_voltages_V=array.centre_voltages_V[start:stop].to(device=device, dtype=torch.float64),
            v50_offsets_V=array.v50_offsets_V[start:stop].to(device=device, dtype=torch.float64),
            volts_per_unit=float(array.law.volts_per_unit(array.card)),
            max_voltage_V=float(array.law.max_voltage_V),
            pulse_width_s=float(array.law.width_s(array.card)),
            params=array.card.p_bit,
        )

    @property
    def n_spins(self) -> int:
        return int(self.centre_voltages_V.shape[0])


def _index(value, name: str, limit: int = MASK_32) -> int:
    if isinstance(value, bool):
        raise ValueError(f"{name}: expected an integer in [0, 2^32), got {value!r}")
    try:
        value = operator.index(value)
    except TypeError:
        raise ValueError(f"{name}: expected an integer in [0, 2^32), got {value!r}") from None
    if not 0 <= value <= limit:
        raise ValueError(f"{name}: expected an integer in [0, 2^32), got {value}")
    return value


def check_update_arguments(fields: torch.Tensor, beta, key, sweep, chain_offset, spin_offset,
                           law: CardLaw | None) -> tuple[float, tuple[int, int], int, int, int]:
    """Validate the arguments shared by the torch and Triton updates; returns (beta, key words, sweep, chain
    offset, spin offset). Raises ``ValueError`` naming the argument and what was expected."""
    if not isinstance(fields, torch.Tensor) or fields.dim() != 2 or not fields.is_floating_point():
        raise ValueError("fields: expected a (chains, k) floating-point tensor of local fields, got "
                         f"{type(fields).__name__} {tuple(getattr(fields, 'shape', ()))}")
    if not bool(torch.isfinite(fields).all()):
        raise ValueError("fields: contain NaN or inf; local fields must be finite")
    if isinstance(beta, bool) or not isinstance(beta, (int, float)) or not math.isfinite(beta) or beta < 0:
        raise ValueError(f"beta: expected a finite number >= 0, got {beta!r}")
    words = key_words(key)
    sweep = _index(sweep, "sweep")
    chain_offset = _index(chain_offset, "chain_offset")
    spin_offset = _index(spin_offset, "spin_offset")
    chains, k = fields.shape
    if chain_offset + chains - 1 > MASK_32 or spin_offset + k - 1 > MASK_32:
        raise ValueError(f"chain_offset + chains ({chain_offset + chains}) and spin_offset + k ({spin_offset + k}) "
                         "must stay within 2^32 (the counter words)")
    if law is not None:
        if not isinstance(law, CardLaw):
            raise ValueError(f"law: expected None (ideal tanh law) or a CardLaw, got {type(law).__name__}")
        if law.n_spins != k:
            raise ValueError(f"law: holds {law.n_spins} p-bits, the fields have {k} spins per chain; build it with "
                             "CardLaw.from_array(array, start, stop) for this block")
        if law.centre_voltages_V.device != fields.device:
            raise ValueError(f"law: its tensors are on {law.centre_voltages_V.device}, the fields on "
                             f"{fields.device}; pass device= to CardLaw.from_array")
    return float(beta), words, sweep, chain_offset, spin_offset


def update_uniforms(key, sweep: int, n_chains: int, n_spins: int, *, chain_offset: int = 0, spin_offset: int = 0,
                    device: torch.device | str = "cpu") -> torch.Tensor:
    """The update uniforms u of (sweep, chains, spins): (n_chains, n_spins) float64 in [0, 1), 24-bit exact."""
    chains = torch.arange(chain_offset, chain_offset + n_chains, dtype=torch.int64, device=device)[:, None]
    spins = torch.arange(spin_offset, spin_offset + n_spins, dtype=torch.int64, device=device)[None, :]
    zero = torch.zeros((n_chains, n_spins), dtype=torch.int64, device=device)
    word_0, _, _, _ = philox4x32_torch((zero + sweep, chains + zero, spins + zero, zero), key)
    return (word_0 >> (32 - UNIFORM_BITS)).to(torch.float64) * 2.0**-UNIFORM_BITS


def up_probability_torch(fields: torch.Tensor, beta: float, law: CardLaw | None = None) -> torch.Tensor:
    """P(m = +1) of (chains, k) fields, float64: the ideal law (``law=None``) or the card's P(V)."""
    fields = fields.to(torch.float64)
    if law is None:
        return ideal_up_probability(fields, beta)
    # PBitArray.voltages_V's map, on the law's device.
    voltages = (law.centre_voltages_V + (law.volts_per_unit * beta) * fields).clamp_(0.0, law.max_voltage_V)
    return devices.switching_probability(law.params, voltages, law.pulse_width_s, v50_offset_V=law.v50_offsets_V)


def gibbs_update_torch(fields: torch.Tensor, beta: float, *, key, sweep: int, chain_offset: int = 0,
                       spin_offset: int = 0, law: CardLaw | None = None) -> torch.Tensor:
    """New spins of one block update (the torch reference of the Triton kernel; any device).

    Args:
        fields: (chains, k) local fields I of the block's spins, any float dtype and device.
        beta: inverse temperature (>= 0).
        key: the run's 64-bit Philox key (``devices.rng.draw_key(generator)``) or its two 32-bit words.
        sweep: the sweep index (counter word 0), in [0, 2^32).
        chain_offset: global index of the first chain (counter word 1 = chain_offset + row).
        spin_offset: global index of the block's first spin (counter word 2 = spin_offset + column).
        law: None for the ideal law sigmoid(2 beta I); a :class:`CardLaw` of the block for the card's P(V).

    Returns:
        (chains, k) spins in {-1, +1}, of the fields' dtype and device.
    """
    beta, words, sweep, chain_offset, spin_offset = check_update_arguments(fields, beta, key, sweep, chain_offset,
                                                                           spin_offset, law)
    up = up_probability_torch(fields, beta, law)
    uniforms = update_uniforms(words, sweep, fields.shape[0], fields.shape[1], chain_offset=chain_offset,
                               spin_offset=spin_offset, device=fields.device)
    return torch.where(uniforms < up, 1.0, -1.0).to(fields.dtype)


def gibbs_update(fields: torch.Tensor, beta: float, *, key, sweep: int, chain_offset: int = 0, spin_offset: int = 0,
                 law: CardLaw | None = None) -> torch.Tensor:
    """New spins of one block update on the fields' device (arguments and result of :func:`gibbs_update_torch`).

    CUDA tensors run :func:`cim_emu.sampling.triton_gibbs.gibbs_update_triton` (one fused pass) when triton is
    installed; otherwise, and on every other device, the torch reference runs. Both give the same spins.
    """
    from cim_emu.crossbar.kernels.triton import use_triton

    if isinstance(fields, torch.Tensor) and use_triton(fields.device):
        from cim_emu.sampling.triton_gibbs import gibbs_update_triton

        return gibbs_update_triton(fields, beta, key=key, sweep=sweep, chain_offset=chain_offset,
                                   spin_offset=spin_offset, law=law)
    return gibbs_update_torch(fields, beta, key=key, sweep=sweep, chain_offset=chain_offset, spin_offset=spin_offset,
                              law=law)
