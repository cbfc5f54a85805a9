"""Crossbar layers: torch modules whose weights live on emulated tiles."""

from cim_emu.crossbar.layers.linear import CrossbarLinear, hardware_aware_linear
from cim_emu.crossbar.layers.mc_dropconnect import MCDropConnectLinear
from cim_emu.crossbar.layers.noise import TRNGGaussianNoise

__all__ = ["CrossbarLinear", "hardware_aware_linear", "MCDropConnectLinear", "TRNGGaussianNoise"]
