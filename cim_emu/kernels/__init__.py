"""Old import path of :mod:`cim_emu.crossbar.kernels`, kept so that users' imports keep working.

The package and its submodules are aliased to the new ones in ``sys.modules``, so ``import
cim_emu.kernels.masked_mvm`` gives the very module ``cim_emu.crossbar.kernels.masked_mvm`` (one copy of
every numba kernel).
"""

import importlib
import sys

from cim_emu.crossbar import kernels as _moved

for _name in ("column_noise", "masked_mvm", "philox"):
    sys.modules[f"{__name__}.{_name}"] = importlib.import_module(f"{_moved.__name__}.{_name}")
sys.modules[__name__] = _moved
