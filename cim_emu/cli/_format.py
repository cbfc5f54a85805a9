"""Shared text formatting for CLI output (private to the CLI)."""

from __future__ import annotations

import json
import math
import sys
from typing import Any

_PREFIXABLE = {"V", "s", "S", "Ohm", "ohm", "A", "J", "W", "Hz", "F", "m"}


def si(value: float, unit: str = "") -> str:
    """Format a number with an SI prefix (e.g. 7e-10, 's' -> '700 ps')."""
    if value == 0 or not math.isfinite(value) or unit not in _PREFIXABLE:
        return f"{value:.4g}{(' ' + unit) if unit else ''}"
    prefixes = [(1e-15, "f"), (1e-12, "p"), (1e-9, "n"), (1e-6, "u"), (1e-3, "m"), (1.0, ""), (1e3, "k"),
                (1e6, "M"), (1e9, "G"), (1e12, "T")]
    scale, prefix = prefixes[0]
    for candidate, name in prefixes:
        if abs(value) >= candidate:
            scale, prefix = candidate, name
    return f"{value / scale:.4g} {prefix}{unit}"


_UNITS = {"_ohm": "Ohm", "_V": "V", "_s": "s", "_S": "S"}


def format_figure(key: str, value) -> str:
    """One ``devices.DeviceSummary`` figure as text: TMRs in percent, the pair margin in sigma, texts as they are,
    the rest with the SI prefix of the unit its name ends in (``cim-emu device`` and the demo)."""
    if isinstance(value, str):
        return value
    if key.startswith("tmr"):
        return f"{value:.1%}"
    if key == "pair_margin_sigma":
        return f"{value:.2f} sigma"
    return si(value, next((unit for suffix, unit in _UNITS.items() if key.endswith(suffix)), ""))


def table(rows: list[list[str]], header: list[str]) -> str:
    """Left-aligned plain-text table."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=True)]
    lines = ["  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
             for row in [header, ["-" * w for w in widths], *rows]]
    return "\n".join(lines)


def print_json(data: Any) -> None:
    """One JSON object on stdout (NaN/inf written as null)."""
    json.dump(_finite(data), sys.stdout, indent=2)
    sys.stdout.write("\n")


def _finite(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value
