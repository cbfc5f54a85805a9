"""Sweep adapter: the paper's Fig. 22 regression (:func:`cim_emu.experiments.regression.run_regression`).

The ``options`` group is :class:`RegressionConfig` without its ``seed`` (the sweep derives each cell's seed)
and its ``crossbar`` (the ``crossbar`` group sets it); the write pulse follows from
``options.keep_probability`` and the card, as in the experiment itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cim_emu.sweep.experiments import Experiment, Group, card_group

__all__ = ["EXPERIMENT", "run_regress_cell"]


def _crossbar_base(context):
    from cim_emu.crossbar.config import CrossbarConfig

    return CrossbarConfig()


def _options_base(context):
    from cim_emu.experiments.regression import RegressionConfig

    return RegressionConfig()


def run_regress_cell(settings: Mapping[str, Any], stream) -> dict[str, float]:
    """Train, program and evaluate the ANN and the MC-dropconnect network of one cell.

    Args:
        settings: ``card`` (DeviceCard), ``crossbar`` (CrossbarConfig), ``options`` (RegressionConfig).
        stream: the cell's ``SeedStream``; its integer (the row's ``seed``) is the experiment's root seed, so
            ``cim-emu regress --seed <seed>`` with the same settings reproduces the cell.

    Returns:
        The held-out NLL (nats), coverage and mean absolute error of both networks, the deployed keep
        probabilities and the acceptance verdict (1.0 or 0.0).
    """
    import dataclasses

    from cim_emu.experiments.regression import run_regression

    config = dataclasses.replace(settings["options"], crossbar=settings["crossbar"],
                                 seed=stream.integer())
    summary = run_regression(config, card=settings["card"]).metrics()
    return {name: float(value) for name, value in summary.items() if name != "config"}


def _warm_up() -> None:
    from cim_emu.experiments.regression import RegressionConfig, run_regression

    run_regression(RegressionConfig(n_train=32, n_test=32, hidden=4, n_steps=2, batch_size=8, n_train_samples=2,
                                    n_eval_samples=2))


EXPERIMENT = Experiment(
    name="regress",
    description="Fig. 22 heteroscedastic regression: deterministic vs MC-dropconnect network on emulated tiles",
    groups=(card_group(),
            Group("crossbar", _crossbar_base, "tile hardware (cim_emu.CrossbarConfig): adc_bits, dac_bits, "
                                              "array_rows, read_noise, ..."),
            Group("options", _options_base, "RegressionConfig: n_train, n_test, hidden, n_steps, batch_size, "
                                            "learning_rate, n_train_samples, n_eval_samples, keep_probability, "
                                            "interval, min_std")),
    run=run_regress_cell,
    reserved={"options.seed": "each cell's seed derives from the spec's seed and the cell's index",
              "options.crossbar": "set the tile hardware with crossbar.<field>"},
    warm_up=_warm_up,
)
