"""Old home of the generation run, kept so that users' imports keep working.

The run is now composed of three parts, as in diffusers: the model (:mod:`diffusion.model`: loading,
programming, calibration), the step and the loop (:mod:`diffusion.sampler`: :func:`diffusion.sample`),
and scoring (:mod:`diffusion.evaluation`); the experiment runner that writes the artefacts is
:mod:`cim_emu.experiments.generation`. The library names below are re-exported; the runner's names
(``GenerationConfig``, ``MethodResult``, ``GenerationResult``, ``run_generation``) load lazily from the
experiment package, which sits above ``diffusion`` (PEP 562), so importing ``diffusion`` never imports it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from diffusion.evaluation import VARIANCE_TOLERANCE, TrajectoryNoise, multi_seed_checks
from diffusion.model import Method, calibrate_network_columns

if TYPE_CHECKING:  # for readers and linters; at run time __getattr__ below loads them on first use
    from cim_emu.experiments.generation import GenerationConfig, MethodResult, run_generation
    from cim_emu.experiments.generation import GenerationRunResult as GenerationResult

__all__ = [
    "Method",
    "GenerationConfig",
    "TrajectoryNoise",
    "MethodResult",
    "GenerationResult",
    "run_generation",
    "multi_seed_checks",
    "calibrate_network_columns",
    "VARIANCE_TOLERANCE",
]

#: Old name -> name in :mod:`cim_emu.experiments.generation` (``GenerationResult`` was renamed
#: ``GenerationRunResult``, apart from the energy model's ``cim_emu.energy.GenerationResult``).
RUNNER_NAMES = {
    "GenerationConfig": "GenerationConfig",
    "MethodResult": "MethodResult",
    "GenerationResult": "GenerationRunResult",
    "run_generation": "run_generation",
}


def __getattr__(name: str):
    if name in RUNNER_NAMES:
        from cim_emu.experiments import generation

        return getattr(generation, RUNNER_NAMES[name])
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
