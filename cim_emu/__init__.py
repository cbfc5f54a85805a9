"""Crossbars, stochastic layers, energy model, randomness suite and the CLI of cim-emu."""

from cim_emu.config import CrossbarConfig, ReadNoiseModel, WritePulse
from cim_emu.counters import COUNTER_FIELDS, OpCounts, record, track_ops
from cim_emu.crossbar_linear import CrossbarLinear, hardware_aware_linear
from cim_emu.kernels import MaskBackend, keep_masks, keep_thresholds, masked_mvm
from cim_emu.layout import TileLayout
from cim_emu.mc_dropconnect import MCDropConnectLinear
from cim_emu.tile import CrossbarTile, ProbabilisticTile
from cim_emu.trng_noise import TRNGGaussianNoise

__all__ = ["COUNTER_FIELDS", "OpCounts", "record", "track_ops",
           "CrossbarConfig", "ReadNoiseModel", "WritePulse",
           "CrossbarLinear", "hardware_aware_linear", "MCDropConnectLinear",
           "CrossbarTile", "ProbabilisticTile", "TileLayout",
           "MaskBackend", "keep_masks", "keep_thresholds", "masked_mvm",
           "TRNGGaussianNoise"]
