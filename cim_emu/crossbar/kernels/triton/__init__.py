"""Fused Triton kernels for CUDA tensors: MC-dropconnect masks in registers and the fused column readout.

Triton compiles these pure-Python kernels at run time (no compiler of the user's own; ``pip install
'cim-emu[gpu]'``). They draw on the CPU kernels' counter-based Philox streams, so one seed gives the same
masks and read noise on a CPU and a GPU:

* :func:`masked_mvm_triton` / :func:`keep_masks_triton` (``masked_mvm.py``): the MC-dropconnect MVM, forward
  and backward, masks made from (row, output, input) counters and never stored;
* :func:`noisy_column_readout_triton` / :func:`column_normals_triton` (``column_readout.py``): read noise,
  ADC and the row-block sum in one pass;
* :func:`philox_words` (``philox.py``): the Philox4x32-10 twin on host tensors (tests);
* ``TritonTileBackend`` (``backend.py``): the tile backend of CUDA tiles (float GEMMs, the fused readout), made
  by :func:`cuda_tile_backend`, which :func:`register_cuda_backend` hands to the tile dispatch.

Importing this package does not import triton; the names above load their module on first use. The CUDA
branches (``masked_mvm``'s default backend, the tile dispatch) ask :func:`use_triton`, which warns once and
answers False when triton is missing, so those branches fall back to torch ops. Under ``TRITON_INTERPRET=1``
(set before triton compiles anything) the kernels run on CPU tensors with numpy: that is how the tests check
them.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import warnings

import torch

__all__ = ["column_normals_triton", "cuda_tile_backend", "keep_masks_triton",
           "masked_mvm_triton", "noisy_column_readout_triton", "philox_words", "register_cuda_backend",
           "triton_available", "use_triton"]

_LAZY = {
    "masked_mvm_triton": "masked_mvm",
    "keep_masks_triton": "masked_mvm",
    "noisy_column_readout_triton": "column_readout",
    "column_normals_triton": "column_readout",
    "philox_words": "philox",
}

FALLBACK_WARNING = ("triton is not installed: CUDA MC-dropconnect masks, column readout and p-bit updates run on "
                    "unfused torch ops (pip install 'cim-emu[gpu]' for the fused kernels)")


@functools.cache
def triton_available() -> bool:
    """True when the ``triton`` package is installed (looked up once per process, without importing it)."""
    return importlib.util.find_spec("triton") is not None


@functools.cache
def _warn_fallback() -> None:
    # functools.cache: the warning is given once per process, whatever the warnings filters say.
    warnings.warn(FALLBACK_WARNING, RuntimeWarning, stacklevel=3)


def use_triton(device: torch.device | str) -> bool:
    """Whether tensors on ``device`` run the Triton kernels: CUDA devices with triton installed.

    On a CUDA device without triton, warns once (``RuntimeWarning``, one line) and returns False: the caller
    falls back to torch ops.
    """
    if torch.device(device).type != "cuda":
        return False
    if triton_available():
        return True
    _warn_fallback()
    return False


def cuda_tile_backend(dtype: torch.dtype):
    """The tile backend for CUDA tensors of ``dtype`` (the factory of :func:`register_cuda_backend`).

    Returns a :class:`~cim_emu.crossbar.kernels.triton.backend.TritonTileBackend` when triton is installed;
    otherwise warns once and returns None, so tiles take the generic torch backend.
    """
    if not use_triton("cuda"):
        return None
    from cim_emu.crossbar.kernels.triton.backend import TritonTileBackend

    return TritonTileBackend("float" if dtype == torch.float64 else "bfloat16")


def register_cuda_backend() -> None:
    """Make CUDA tiles read out through the Triton kernel (dispatch's backend registry for ``"cuda"``)."""
    from cim_emu.crossbar.kernels import dispatch

    dispatch.register_backend("cuda", cuda_tile_backend)


def __getattr__(name: str):
    # Lazy names: importing the package stays free of triton (and of its start-up cost).
    if name in _LAZY:
        module = importlib.import_module(f"{__name__}.{_LAZY[name]}")
        return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
