"""Sweep adapter: digit classification on crossbars (:func:`cim_emu.experiments.classify.run_classify`).

The ``options`` group is :class:`ClassifyConfig` without its ``seed`` (derived per cell); the tiles use the
experiment's own hardware configuration. Registered only where the classify experiment is installed.
"""

from __future__ import annotations

import importlib.util
import math
from collections.abc import Mapping
from typing import Any

from cim_emu.sweep.experiments import Experiment, Group, card_group, metric_name

if importlib.util.find_spec("cim_emu.experiments.classify") is None:  # pragma: no cover - older installs
    raise ImportError("cim_emu.experiments.classify is not installed")

__all__ = ["EXPERIMENT", "run_classify_cell"]


def _options_base(context):
    from cim_emu.experiments.classify import ClassifyConfig

    return ClassifyConfig()


def _number(value) -> float:
    return math.nan if value is None else float(value)


def run_classify_cell(settings: Mapping[str, Any], stream) -> dict[str, float]:
    """Evaluate the networks of one cell on emulated tiles.

    Args:
        settings: ``card`` (DeviceCard) and ``options`` (ClassifyConfig).
        stream: the cell's ``SeedStream``; its integer (the row's ``seed``) is the experiment's root seed.

    Returns:
        Test accuracy and Eq. 4 energy per inference (J) of every network; the MC-dropconnect network's ECE,
        NLL and OOD AUROC (overall and per OOD set) and the deterministic network's ECE (NaN when not run).
    """
    import dataclasses

    from cim_emu.experiments.classify import run_classify

    config = dataclasses.replace(settings["options"], seed=stream.integer())
    result = run_classify(config, card=settings["card"])
    metrics = {metric_name("accuracy", variant): float(value) for variant, value in result.accuracy.items()}
    metrics.update({metric_name("energy_per_inference_J", variant): float(value)
                    for variant, value in result.energy_per_inference_J.items()})
    for name in ("ece", "nll", "ece_deterministic", "ood_auroc"):
        metrics[name] = _number(getattr(result, name))
    metrics.update({metric_name("ood_auroc", name): _number(value) for name, value in result.ood_auroc_by_set.items()})
    return metrics


EXPERIMENT = Experiment(
    name="classify",
    description="digit CNN/MLP on crossbars with p-bit and b-bit activations: accuracy, Eq. 4 energy, ECE, OOD",
    groups=(card_group(),
            Group("options", _options_base, "ClassifyConfig: model, activations, n_samples, curve_samples, "
                                            "mc_samples, n_calibration, n_bins, uncertainty")),
    run=run_classify_cell,
    reserved={"options.seed": "each cell's seed derives from the spec's seed and the cell's index"},
)
