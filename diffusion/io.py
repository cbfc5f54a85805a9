"""Atomic outputs of the generation pipeline, built on :func:`devices.atomic_write`.

Every file is written beside its target and moved into place only when complete, so an
interrupted run never leaves a half-written JSON, weight file, array or figure.
"""

from __future__ import annotations

import io
import os
import pathlib
from typing import Any

from devices import atomic_write
from devices.io import write_json

__all__ = ["write_json", "save_torch", "save_numpy", "save_figure"]



def save_torch(path: str | os.PathLike, obj: Any) -> pathlib.Path:
    """``torch.save`` of ``obj``; returns the path."""
    import torch

    buffer = io.BytesIO()
    torch.save(obj, buffer)
    with atomic_write(path, "wb") as handle:
        handle.write(buffer.getvalue())
    return pathlib.Path(path)


def save_numpy(path: str | os.PathLike, array: Any) -> pathlib.Path:
    """``numpy.save`` of ``array`` (``.npy``); returns the path."""
    import numpy as np

    with atomic_write(path, "wb") as handle:
        np.save(handle, np.asarray(array))
    return pathlib.Path(path)


def save_figure(path: str | os.PathLike, figure: Any, *, dpi: int = 150) -> pathlib.Path:
    """Save a matplotlib figure as PNG; returns the path.

    A ``matplotlib.figure.Figure`` built directly (as :mod:`diffusion.plots` does) needs no closing; a
    pyplot-managed figure is released from pyplot's registry, without importing pyplot where nobody did.
    """
    import sys

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close(figure)
    with atomic_write(path, "wb") as handle:
        handle.write(buffer.getvalue())
    return pathlib.Path(path)
