"""Annealing schedules: the inverse temperature beta of every sweep.

In hardware beta is the gain of the field-to-voltage map, so a schedule is a gain ramp. Each schedule is a
frozen object with ``betas(n_sweeps) -> (n_sweeps,) float64``.
"""

from __future__ import annotations

import dataclasses
import math

import torch

from cim_emu.sampling.model import check_beta

__all__ = ["ConstantBeta", "LinearBeta", "GeometricBeta", "as_schedule"]


def _check_sweeps(n_sweeps) -> int:
    if isinstance(n_sweeps, bool) or not isinstance(n_sweeps, int) or n_sweeps < 1:
        raise ValueError(f"n_sweeps: must be an integer >= 1, got {n_sweeps!r}")
    return n_sweeps


@dataclasses.dataclass(frozen=True)
class ConstantBeta:
    """beta fixed (sampling at one temperature)."""

    beta: float

    def __post_init__(self):
        check_beta(self.beta)

    def betas(self, n_sweeps: int) -> torch.Tensor:
        return torch.full((_check_sweeps(n_sweeps),), float(self.beta), dtype=torch.float64)


@dataclasses.dataclass(frozen=True)
class LinearBeta:
    """beta from ``start`` to ``stop`` in equal steps (the first sweep at ``start``, the last at ``stop``)."""

    start: float
    stop: float

    def __post_init__(self):
        check_beta(self.start, "LinearBeta.start")
        check_beta(self.stop, "LinearBeta.stop")

    def betas(self, n_sweeps: int) -> torch.Tensor:
        return torch.linspace(float(self.start), float(self.stop), _check_sweeps(n_sweeps), dtype=torch.float64)


@dataclasses.dataclass(frozen=True)
class GeometricBeta:
    """beta from ``start`` to ``stop`` in equal ratios (temperature falls exponentially); both must be > 0."""

    start: float
    stop: float

    def __post_init__(self):
        for name in ("start", "stop"):
            if check_beta(getattr(self, name), f"GeometricBeta.{name}") <= 0:
                raise ValueError(f"GeometricBeta.{name}: must be > 0 for a geometric ramp, got "
                                 f"{getattr(self, name)!r}")

    def betas(self, n_sweeps: int) -> torch.Tensor:
        exponents = torch.linspace(math.log(self.start), math.log(self.stop), _check_sweeps(n_sweeps),
                                   dtype=torch.float64)
        return exponents.exp()


def as_schedule(beta_or_schedule):
    """A schedule from a number (constant beta) or a schedule object."""
    if hasattr(beta_or_schedule, "betas"):
        return beta_or_schedule
    return ConstantBeta(check_beta(beta_or_schedule))
