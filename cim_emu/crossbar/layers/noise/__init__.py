"""The two noise sources of the in-situ vs ex-situ comparison, side by side.

* :mod:`~cim_emu.crossbar.layers.noise.in_situ`: the MC-dropconnect noise block of the output tile, whose
  p-bits sit inside the crossbar cells;
* :mod:`~cim_emu.crossbar.layers.noise.ex_situ`: Gaussian noise built from the bits of a separate TRNG.
"""

from cim_emu.crossbar.layers.noise.ex_situ import TRNGGaussianNoise
from cim_emu.crossbar.layers.noise.in_situ import InSituNoiseConfig, InSituNoiseHead, NoiseHeadCalibration

__all__ = ["TRNGGaussianNoise", "InSituNoiseConfig", "InSituNoiseHead", "NoiseHeadCalibration"]
