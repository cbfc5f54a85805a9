"""Crossbar layers: torch modules whose weights live on emulated tiles."""

from cim_emu.crossbar.layers.conv import CrossbarConv2d, MCDropConnectConv2d
from cim_emu.crossbar.layers.linear import CrossbarLinear, hardware_aware_linear
from cim_emu.crossbar.layers.mc_dropconnect import MCDropConnectLinear
from cim_emu.crossbar.layers.noise import TRNGGaussianNoise
from cim_emu.crossbar.layers.pbit import PBitActivation

__all__ = ["CrossbarLinear", "hardware_aware_linear", "MCDropConnectLinear", "TRNGGaussianNoise",
           "CrossbarConv2d", "MCDropConnectConv2d", "PBitActivation"]
