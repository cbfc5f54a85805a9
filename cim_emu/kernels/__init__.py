"""Fast kernels of the emulator: the Philox counter-based generator and the exact masked MVM."""

from cim_emu.kernels.masked_mvm import (
    MaskBackend,
    default_backend,
    draw_seed,
    keep_masks,
    keep_thresholds,
    masked_mvm,
    threshold_probabilities,
)
from cim_emu.kernels.philox import PHILOX_ROUNDS, philox4x32_numba, philox4x32_torch

__all__ = ["MaskBackend", "default_backend", "draw_seed", "keep_masks", "keep_thresholds", "masked_mvm",
           "threshold_probabilities", "PHILOX_ROUNDS", "philox4x32_numba", "philox4x32_torch"]
