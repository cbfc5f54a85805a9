"""The tile backend for CUDA tensors: the float backend's GEMMs with the fused Triton column readout.

Registered for the ``"cuda"`` device type with :func:`cim_emu.crossbar.kernels.dispatch.register_backend`
(see :func:`cim_emu.crossbar.kernels.triton.register_cuda_backend`). The Kirchhoff and variance GEMMs stay
torch's (cuBLAS is as fast as a GEMM gets); the readout, which torch runs as five passes over the currents
(noise draw, multiply-add, clip, round, block sum), runs as one kernel on the CPU kernel's noise stream, so
a seed gives the same read noise on both.
"""

from __future__ import annotations

import torch

from cim_emu.crossbar.kernels.backend import FloatBackend, ReadoutSpec, torch_column_readout
from cim_emu.rng import draw_seed

__all__ = ["TritonTileBackend"]


class TritonTileBackend(FloatBackend):
    """:class:`~cim_emu.crossbar.kernels.backend.FloatBackend` whose noisy readout is the Triton kernel.

    Args:
        variance_method: as for ``FloatBackend`` (``"bfloat16"`` for float32 tiles on a GPU, ``"float"`` for
            float64 ones).
    """

    def __init__(self, variance_method: str = "bfloat16"):
        super().__init__(variance_method)
        self.name = f"triton ({variance_method} variance, fused readout)"

    def read_out(self, currents_A: torch.Tensor, variance_A2: torch.Tensor | None, spec: ReadoutSpec,
                 generator: torch.Generator | None) -> torch.Tensor:
        """Read noise, ADC per row block and digital sum (see ``TileBackend.read_out``); one Triton kernel
        when there is noise (without noise the torch ops draw nothing and are memory-bound anyway)."""
        if variance_A2 is None or currents_A.dtype not in (torch.float32, torch.float64):
            return torch_column_readout(currents_A, variance_A2, spec, generator)
        from cim_emu.crossbar.kernels.triton.column_readout import noisy_column_readout_triton

        return noisy_column_readout_triton(currents_A, variance_A2, seed=draw_seed(generator),
                                           full_scale=spec.full_scale_A, step=spec.step_A, unit=spec.unit_A)
