"""Triton kernel tests: on a GPU when there is one, else under Triton's CPU interpreter.

``TRITON_INTERPRET=1`` must be set before a kernel is decorated (triton decides at ``@triton.jit`` time), so
it is set here, when pytest imports this conftest and before the test modules import the kernels; kernel
modules another test imported earlier are reloaded to pick it up.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys

import pytest
import torch

ON_GPU = torch.cuda.is_available()
_KERNEL_MODULES = ("cim_emu.crossbar.kernels.triton.philox", "cim_emu.crossbar.kernels.triton.masked_mvm",
                   "cim_emu.crossbar.kernels.triton.column_readout", "cim_emu.sampling.triton_gibbs")  # in order

if not ON_GPU:
    os.environ["TRITON_INTERPRET"] = "1"
    for _name in _KERNEL_MODULES:
        _module = sys.modules.get(_name)
        if _module is not None:
            importlib.reload(_module)

if importlib.util.find_spec("triton") is None:
    # The kernel tests need triton (pip install -e ".[gpu]"); the fallback tests run without it.
    collect_ignore_glob = ["test_kernel_*.py"]


@pytest.fixture
def device() -> str:
    """Where the kernels run: the GPU, or the CPU through the interpreter."""
    return "cuda" if ON_GPU else "cpu"
