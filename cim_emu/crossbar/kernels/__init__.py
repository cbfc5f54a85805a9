"""Fast kernels of the emulator: the Philox counter-based generator, the exact masked MVM, the fused
column readout (read noise, ADC, block sum), and the tile backends with the CPU path dispatch."""

from cim_emu.crossbar.kernels.backend import FloatBackend, IntegerBackend, TileBackend, select_backend
from cim_emu.crossbar.kernels.column_noise import column_normals, column_normals_torch, noisy_column_readout
from cim_emu.crossbar.kernels.dispatch import CpuPathReport, cpu_path_report, register_backend
from cim_emu.crossbar.kernels.masked_mvm import (
    MaskBackend,
    default_backend,
    draw_seed,
    keep_masks,
    keep_thresholds,
    masked_mvm,
    threshold_probabilities,
)
from cim_emu.crossbar.kernels.philox import PHILOX_ROUNDS, philox4x32_numba, philox4x32_torch
from cim_emu.crossbar.kernels.triton import register_cuda_backend

# CUDA tiles read out through the Triton kernel (triton itself loads, or the fallback warns, on first CUDA use).
register_cuda_backend()

__all__ = ["MaskBackend", "default_backend", "draw_seed", "keep_masks", "keep_thresholds", "masked_mvm",
           "threshold_probabilities", "PHILOX_ROUNDS", "philox4x32_numba", "philox4x32_torch", "column_normals",
           "column_normals_torch", "noisy_column_readout", "TileBackend", "FloatBackend", "IntegerBackend",
           "select_backend", "CpuPathReport", "cpu_path_report", "register_backend"]
