"""How a tile's MVM runs: one interface, one backend per way of running it.

A tile (:mod:`cim_emu.crossbar.tiles`) holds conductances and knows the physics: it converts the inputs on
its DAC, and hands a backend the row-block layout of its mean cell conductances ``mean_S`` and of their
read-noise variances ``variance_S2``. A :class:`TileBackend` then

1. :meth:`~TileBackend.prepare` s its operands once per programmed state (integer codes, packed int8
   weights, reduced-precision copies);
2. computes the column currents (:meth:`~TileBackend.currents`, amperes) and their read-noise variances
   (:meth:`~TileBackend.variance`, amperes squared) per row block;
3. reads them out (:meth:`~TileBackend.read_out`): noise, ADC per row block, digital sum of the blocks.

Backends here: :class:`FloatBackend` (floating-point Kirchhoff GEMM; variance in the tile's dtype or bfloat16;
the fused numba readout on the CPU, torch ops elsewhere) and :class:`IntegerBackend` (CPU, exact int8
Kirchhoff GEMMs on 15-bit conductance codes). :func:`select_backend` picks one per device and dtype: on the
CPU by :mod:`cim_emu.crossbar.kernels.dispatch`'s probe; elsewhere a backend registered for the device type
(:func:`cim_emu.crossbar.kernels.dispatch.register_backend`, e.g. Triton on CUDA), else the float backend.
"""

from __future__ import annotations

import abc
import dataclasses
import functools

import torch

from cim_emu.crossbar.kernels import dispatch
from cim_emu.rng import draw_seed

__all__ = ["DacInputs", "FloatBackend", "IntegerBackend", "ReadoutSpec", "TileBackend", "select_backend",
           "torch_column_readout", "INTEGER_DAC_BITS"]

INTEGER_DAC_BITS = 8      # DAC codes up to +-127 fit int8
_CODE_BASE = 128          # conductance code = 128 hi + lo, hi in [-128, 127], lo in [0, 127]
_CODE_LEVELS = 16383      # largest |code| of a column: 15-bit signed codes


@dataclasses.dataclass(frozen=True)
class ReadoutSpec:
    """The column readout's physics, from the tile.

    Attributes:
        full_scale_A: ADC clipping level (A), None for none.
        step_A: ADC step (A), None for an ideal conversion.
        unit_A: the current of one fully switched cell (A); outputs are in these units.
    """

    full_scale_A: float | None
    step_A: float | None
    unit_A: float


@dataclasses.dataclass(frozen=True)
class DacInputs:
    """A tile's converted inputs, in row-block layout.

    Attributes:
        volts: (n_blocks, rows, block_rows) row voltages (V), the tile's dtype.
        codes: the same as integer-valued DAC codes ``k`` (``volts = k * volts_per_code``), or None without a
            DAC of at most :data:`INTEGER_DAC_BITS` bits.
        volts_per_code: V per DAC code (None with ``codes`` None).
    """

    volts: torch.Tensor
    codes: torch.Tensor | None = None
    volts_per_code: float | None = None


class TileBackend(abc.ABC):
    """One way of running a tile's MVM (see the module docstring)."""

    name: str = "abstract"

    @abc.abstractmethod
    def prepare(self, mean_S: torch.Tensor, variance_S2: torch.Tensor | None, volts_per_code: float | None):
        """Operands for this backend.

        Args:
            mean_S: (n_blocks, block_rows, n_columns) mean cell conductances (S), the tile's dtype.
            variance_S2: the same shape, per-read variances (S^2), or None without read noise.
            volts_per_code: V per DAC code, or None without a DAC of at most 8 bits.
        """

    @abc.abstractmethod
    def currents(self, prepared, inputs: DacInputs) -> torch.Tensor:
        """(n_blocks, rows, n_columns) mean column currents (A)."""

    @abc.abstractmethod
    def variance(self, prepared, inputs: DacInputs) -> torch.Tensor:
        """(n_blocks, rows, n_columns) read-noise variances of those currents (A^2), any float dtype."""

    def read_out(self, currents_A: torch.Tensor, variance_A2: torch.Tensor | None, spec: ReadoutSpec,
                 generator: torch.Generator | None) -> torch.Tensor:
        """Read noise (if ``variance_A2``), ADC per row block and digital sum.

        Args:
            currents_A: (n_blocks, rows, n_columns) amperes (may be overwritten).
            variance_A2: (n_blocks, variance_rows, n_columns) A^2, rows dividing ``rows`` (row r uses
                ``r % variance_rows``: MC samples of one batch share it), or None for no noise.
            spec: the ADC and the output unit.
            generator: source of the noise (needed with ``variance_A2``).

        Returns:
            (rows, n_columns) in cell units.
        """
        if variance_A2 is not None and currents_A.device.type == "cpu":
            from cim_emu.crossbar.kernels.column_noise import noisy_column_readout

            return noisy_column_readout(currents_A, variance_A2, seed=draw_seed(generator),
                                        full_scale=spec.full_scale_A, step=spec.step_A, unit=spec.unit_A)
        return torch_column_readout(currents_A, variance_A2, spec, generator)


def torch_column_readout(currents_A: torch.Tensor, variance_A2: torch.Tensor | None, spec: ReadoutSpec,
                         generator: torch.Generator | None) -> torch.Tensor:
    """:meth:`TileBackend.read_out` in torch ops, on any device (the noise comes from ``generator``'s own
    stream, not the CPU kernel's Philox stream: same law, other draws). Works in place on ``currents_A``."""
    if variance_A2 is not None:
        # Both factors of the variance are >= 0, so it is too: no clamping before the square root.
        std = variance_A2.to(currents_A.dtype).sqrt_()
        repeat = currents_A.shape[1] // std.shape[1]
        if repeat > 1:
            std = std.repeat(1, repeat, 1)
        noise = torch.randn(std.shape, generator=generator, device=std.device, dtype=std.dtype)
        currents_A.addcmul_(noise, std)
    if spec.full_scale_A is not None:
        currents_A.clamp_(-spec.full_scale_A, spec.full_scale_A)
        if spec.step_A is not None:
            currents_A.div_(spec.step_A).round_().mul_(spec.step_A)
    summed = currents_A[0] if currents_A.shape[0] == 1 else currents_A.sum(dim=0)
    return summed.div_(spec.unit_A)


@dataclasses.dataclass(frozen=True)
class _FloatOperands:
    mean_S: torch.Tensor
    variance: torch.Tensor | None            # in the variance GEMM's dtype


class FloatBackend(TileBackend):
    """Floating-point Kirchhoff GEMM in the tile's dtype.

    Args:
        variance_method: ``"float"`` (the tile's dtype: exact) or ``"bfloat16"`` (relative error of each
            cell's term <= 2^-8, so of the column variance too: the terms are all positive).
    """

    def __init__(self, variance_method: str = "float"):
        if variance_method not in ("float", "bfloat16"):
            raise ValueError(f"variance_method: expected 'float' or 'bfloat16', got {variance_method!r}")
        self.variance_method = variance_method
        self.name = f"float ({variance_method} variance)"

    def prepare(self, mean_S, variance_S2, volts_per_code):
        if variance_S2 is None:
            return _FloatOperands(mean_S, None)
        dtype = torch.bfloat16 if self.variance_method == "bfloat16" else mean_S.dtype
        return _FloatOperands(mean_S, variance_S2.to(dtype))

    def currents(self, prepared, inputs):
        return _batched_mm(inputs.volts, prepared.mean_S)

    def variance(self, prepared, inputs):
        return _batched_mm(inputs.volts.square().to(prepared.variance.dtype), prepared.variance)


def _batched_mm(left: torch.Tensor, right: torch.Tensor) -> torch.Tensor:
    """bmm, but one block (one array of rows) as a plain GEMM: ~10 % faster than a batch of one on AVX2."""
    if left.shape[0] == 1:
        return torch.mm(left[0], right[0]).unsqueeze(0)
    return torch.bmm(left, right)


@dataclasses.dataclass(frozen=True)
class _IntegerOperands:
    codes: torch.Tensor          # (n_blocks, block_rows, 2 n_columns) int8 [high | low]
    step_S: torch.Tensor         # (n_columns,) float32 siemens per code
    scales_A: torch.Tensor       # (2, n_columns) float32 amperes per unit of the high and low products
    variance: torch.Tensor | None


def conductance_codes(blocks_S: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """15-bit codes of the conductances, split into two int8 halves for the integer GEMMs.

    Args:
        blocks_S: (n_row_blocks, block_rows, n_columns) conductances (S).

    Returns:
        (n_row_blocks, block_rows, 2 n_columns) int8 codes ``[hi, lo]`` with G = s (128 hi + lo), and the
        per-column step ``s`` (n_columns,) float32 in siemens (``max_i |G_ic| / 16383``).
    """
    blocks_S = blocks_S.to(torch.float64)
    column_max = blocks_S.abs().amax(dim=(0, 1))
    step = torch.where(column_max > 0, column_max / _CODE_LEVELS, torch.ones_like(column_max))
    codes = torch.round(blocks_S / step).to(torch.int64)
    high = torch.div(codes, _CODE_BASE, rounding_mode="floor")
    low = codes - _CODE_BASE * high
    return torch.cat([high, low], dim=-1).to(torch.int8), step.to(torch.float32)


class IntegerBackend(TileBackend):
    """CPU float32 tiles behind a DAC of at most 8 bits: ``sum_i k_i G_ic`` as exact int8 GEMMs.

    The inputs are DAC codes ``|k_i| <= 127`` anyway; ``G_ic = s_c (128 hi_ic + lo_ic)`` with
    ``s_c = max_i |G_ic| / 16383`` resolves each conductance to 61 ppm of its column's largest (1/160 of the 1 %
    read noise), so a column current is off by at most ``sum_i |v_i| s_c / 2``. Fast only where the CPU
    has int8 dot-product units (AVX-512 VNNI, AMX); the dispatch probe decides.

    Args:
        variance_method: as :class:`FloatBackend`'s.
    """

    def __init__(self, variance_method: str = "bfloat16"):
        if variance_method not in ("float", "bfloat16"):
            raise ValueError(f"variance_method: expected 'float' or 'bfloat16', got {variance_method!r}")
        self.variance_method = variance_method
        self.name = f"integer (int8 Kirchhoff, {variance_method} variance)"

    def prepare(self, mean_S, variance_S2, volts_per_code):
        if volts_per_code is None:
            raise ValueError("IntegerBackend needs DAC codes of at most 8 bits (volts_per_code); use FloatBackend")
        codes, step = conductance_codes(mean_S)
        scales = torch.stack([step * (_CODE_BASE * volts_per_code), step * volts_per_code])
        dtype = torch.bfloat16 if self.variance_method == "bfloat16" else torch.float32
        variance = None if variance_S2 is None else variance_S2.to(dtype)
        return _IntegerOperands(codes, step, scales, variance)

    @staticmethod
    def products(prepared: _IntegerOperands, code_blocks: torch.Tensor) -> torch.Tensor:
        """int32 (n_blocks, rows, 2 n_columns) products ``[high | low]`` of DAC codes and conductance codes."""
        n_blocks, n_rows, _ = code_blocks.shape
        code_blocks = code_blocks.to(torch.int8)
        products = torch.empty((n_blocks, n_rows, prepared.codes.shape[-1]), dtype=torch.int32)
        for block in range(n_blocks):
            torch._int_mm(code_blocks[block], prepared.codes[block], out=products[block])
        return products

    def currents(self, prepared, inputs):
        if inputs.codes is None:
            raise ValueError("IntegerBackend needs DAC codes (inputs.codes)")
        products = self.products(prepared, inputs.codes)
        n_columns = prepared.scales_A.shape[1]
        # Each int32 -> float conversion is exact below 2^24; the one rounding is the final sum's.
        currents = torch.mul(products[..., :n_columns], prepared.scales_A[0])
        return currents.addcmul_(products[..., n_columns:], prepared.scales_A[1])

    def variance(self, prepared, inputs):
        return _batched_mm(inputs.volts.square().to(prepared.variance.dtype), prepared.variance)


@functools.cache
def _cpu_backend(dtype: torch.dtype, integer_inputs: bool, kirchhoff: str, variance: str) -> TileBackend:
    if dtype != torch.float32:
        return FloatBackend("float")     # float64 tiles stay exact
    if kirchhoff == "int8" and integer_inputs and hasattr(torch, "_int_mm"):
        return IntegerBackend("bfloat16" if variance == "bfloat16" else "float")
    return FloatBackend("bfloat16" if variance == "bfloat16" else "float")


@functools.cache
def _generic_backend(dtype: torch.dtype) -> TileBackend:
    # GPUs have fast bfloat16 GEMMs; float64 tiles stay exact.
    return FloatBackend("float" if dtype == torch.float64 else "bfloat16")


def select_backend(device: torch.device | str, dtype: torch.dtype, dac_bits: int | None) -> TileBackend:
    """The backend for a tile on ``device`` with ``dtype`` conductances and a ``dac_bits`` DAC."""
    device = torch.device(device)
    integer_inputs = dac_bits is not None and dac_bits <= INTEGER_DAC_BITS
    if device.type == "cpu":
        kirchhoff, variance = dispatch.cpu_decision()
        return _cpu_backend(dtype, integer_inputs, kirchhoff, variance)
    registered = dispatch.device_backend(device.type, dtype)
    return _generic_backend(dtype) if registered is None else registered
