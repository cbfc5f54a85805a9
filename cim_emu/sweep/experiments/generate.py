"""Sweep adapter: latent-diffusion generation on emulated crossbars with KID and friends (``cim-emu generate``).

The ``options`` group is :class:`cim_emu.experiments.generation.GenerationConfig` without its ``seed`` (derived
per cell) and ``umap`` (a sweep records metrics, not figures). The run writes its artefacts into a temporary directory
that is removed after the metrics are read: the sweep keeps one row of scalars per cell.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from cim_emu.sweep.experiments import Experiment, Group, metric_name

__all__ = ["EXPERIMENT", "run_generate_cell"]

# Quality numbers kept per method and per comparison (timings are left out: they are not reproducible).
_QUALITY = ("kid_mean", "kid_std", "frechet_distance", "precision", "recall", "label_entropy_bits")


def _options_base(context):
    from cim_emu.experiments.generation import GenerationConfig

    return GenerationConfig(umap=False)


def _generate(config, out_dir):
    """The one call into the generation pipeline (kept apart so that a pipeline refactor touches one line)."""
    from cim_emu.experiments.generation import run_generation

    return run_generation(config, out_dir)


def run_generate_cell(settings: Mapping[str, Any], stream) -> dict[str, float]:
    """Generate the cell's images and score them.

    Args:
        settings: ``options`` (GenerationConfig).
        stream: the cell's ``SeedStream``; its integer (the row's ``seed``) is the pipeline's root seed.

    Returns:
        Per method (``in_situ``, ``ex_situ``, ``no_noise``) the quality against real digits and the largest
        per-step variance error; per method pair the quality of one against the other; each acceptance
        check as 1.0 or 0.0.
    """
    import dataclasses
    import tempfile

    config = dataclasses.replace(settings["options"], seed=stream.integer(), umap=False)
    with tempfile.TemporaryDirectory(prefix="cim-emu-sweep-generate-") as directory:
        result = _generate(config, directory)
    metrics: dict[str, float] = {}
    for name, method in result.methods.items():
        for quantity in _QUALITY:
            value = getattr(method.metrics_vs_real, quantity)
            metrics[metric_name(name, quantity)] = math.nan if value is None else float(value)
        metrics[metric_name(name, "max_relative_variance_error")] = (
            math.nan if method.trajectory is None else float(method.trajectory.max_relative_variance_error))
    for name, comparison in result.comparisons.items():
        for quantity in _QUALITY:
            value = getattr(comparison, quantity)
            metrics[metric_name(name, quantity)] = math.nan if value is None else float(value)
    for name, passed in result.checks.items():
        metrics[metric_name("check", name)] = float(bool(passed))
    return metrics


EXPERIMENT = Experiment(
    name="generate",
    description="latent-diffusion digits in situ / ex situ with KID, Frechet distance, precision and recall",
    groups=(Group("options", _options_base, "GenerationConfig: methods, n_images, n_steps, bits_per_sample, "
                                            "calibration_draws, n_probe_steps, column_calibration, device"),),
    run=run_generate_cell,
    reserved={"options.seed": "each cell's seed derives from the spec's seed and the cell's index",
              "options.umap": "a sweep records metrics, not figures"},
)
