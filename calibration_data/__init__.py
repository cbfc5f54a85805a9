"""Shipped calibration CSVs (synthetic stand-ins shaped to the paper; see README.md here).

The files are package data so that they are found from a checkout and from an
installed wheel alike: use :func:`data_dir`.
"""

from __future__ import annotations

import importlib.resources
from importlib.abc import Traversable

__all__ = ["data_dir", "FILE_NAMES"]

FILE_NAMES = ("switching.csv", "resistance.csv", "tmr_bias.csv", "pair_conductance.csv", "bitstream.txt")


def data_dir() -> Traversable:
    """Directory (a ``Traversable``) holding the shipped calibration files."""
    return importlib.resources.files(__name__)
