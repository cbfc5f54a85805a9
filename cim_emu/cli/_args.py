"""Flag parsers that validate at the boundary (private to the CLI).

Each returns an ``argparse`` ``type=`` callable; a bad value becomes argparse's one-line usage error naming the
flag (exit 2). NaN and infinities are refused wherever a physical quantity is expected.
"""

from __future__ import annotations

import argparse
import math

__all__ = ["number", "integer", "torch_device", "require_size"]


def number(*, minimum: float | None = None, maximum: float | None = None, strict: bool = False,
           what: str = "a finite number"):
    """A float flag: finite, within ``[minimum, maximum]`` (``minimum`` exclusive when ``strict``)."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r} (NaN and infinities are not allowed)")
        if minimum is not None and (value <= minimum if strict else value < minimum):
            raise argparse.ArgumentTypeError(f"expected {what} {'>' if strict else '>='} {minimum:g}, got {text}")
        if maximum is not None and value > maximum:
            raise argparse.ArgumentTypeError(f"expected {what} <= {maximum:g}, got {text}")
        return value

    return parse


def integer(*, minimum: int | None = None, maximum: int | None = None):
    """An integer flag within ``[minimum, maximum]``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if minimum is not None and value < minimum:
            raise argparse.ArgumentTypeError(f"expected an integer >= {minimum}, got {text}")
        if maximum is not None and value > maximum:
            raise argparse.ArgumentTypeError(f"expected an integer <= {maximum}, got {text}")
        return value

    return parse


def torch_device(text: str, flag: str):
    """A torch device that exists on this machine, or a ``ValueError`` naming the flag."""
    import torch

    try:
        device = torch.device(text)
    except (RuntimeError, ValueError):
        raise ValueError(f"{flag}: {text!r} is not a torch device; use cpu or cuda") from None
    if device.type == "cpu":
        return device
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"{flag}: {text!r} asked for, but CUDA is not available on this machine; use cpu")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise ValueError(f"{flag}: {text!r}: this machine has {torch.cuda.device_count()} CUDA device(s)")
        return device
    raise ValueError(f"{flag}: device type {device.type!r} is not supported; use cpu or cuda")


def require_size(size: float, limit: float, *, what: str, flag: str) -> None:
    """Refuse work beyond ``limit`` up front, naming its size and the flag that allows it."""
    if size > limit:
        raise ValueError(f"{what} would be {size:.4g}, beyond the limit {limit:.4g}; raise it with {flag} if the "
                         "machine can take it")
