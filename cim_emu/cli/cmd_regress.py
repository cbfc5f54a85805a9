"""``cim-emu regress``: the paper's Fig. 22, deterministic vs MC-dropconnect network on emulated tiles."""

from __future__ import annotations

import argparse
import os

from cim_emu.cli._args import integer

_DESCRIPTION = """\
Heteroscedastic 1-D regression (the paper's Fig. 22): a deterministic network on data-bit pairs and an
MC-dropconnect network of the same shape on p-bit pairs are trained, programmed onto emulated tiles and
evaluated on held-out data. Writes regress.png (data, ANN prediction, MC-dropconnect band) and
regress.json (held-out Gaussian NLL and 90 % interval coverage of both). Exit code 1 if the MC-dropconnect
coverage is not within 5 points of 90 % or its NLL is not below the ANN's.
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``regress`` subcommand."""
    parser = subparsers.add_parser("regress", help="Fig. 22: heteroscedastic regression, ANN vs MC-dropconnect",
                                   description=_DESCRIPTION)
    parser.add_argument("--out", metavar="DIR", default="regress_out", help="output folder (default: regress_out)")
    parser.add_argument("--seed", type=integer(minimum=0), default=0,
                        help="root seed of data, training and programming")
    parser.add_argument("--card", metavar="FILE", help="device card JSON (default: the shipped card)")
    parser.add_argument("--fast", action="store_true", help="the small configuration of the tests (~30 s)")
    parser.add_argument("--steps", type=integer(minimum=1, maximum=1_000_000),
                        help="optimiser steps per network (overrides the configuration)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run the experiment, write the figure and the JSON, print the metrics."""
    from cim_emu.cli import CommandFailed
    from cim_emu.cli._artefacts import write_regression_outputs
    from cim_emu.cli._outputs import Staging, check_directory
    from cim_emu.experiments.regression import RegressionConfig, run_regression
    from devices import default_card, load_card

    check_directory(args.out, "--out")
    overrides = {"seed": args.seed}
    if args.steps is not None:
        overrides["n_steps"] = args.steps
    config = RegressionConfig.fast(**overrides) if args.fast else RegressionConfig(**overrides)
    card = load_card(args.card) if args.card else default_card()
    result = run_regression(config, card=card)
    with Staging(args.out) as staging:
        write_regression_outputs(result, staging.path("out"))
        staging.publish_directory("out", args.out)
    figure_path, json_path = (os.path.join(args.out, name) for name in ("regress.png", "regress.json"))
    percent = round(100 * result.interval)
    print(f"held-out Gaussian NLL: ANN {result.ann_nll:.4g}, MC-dropconnect {result.mc_nll:.4g} (nats per point)")
    print(f"{percent} % interval coverage: ANN {result.ann_coverage:.1%}, MC-dropconnect {result.mc_coverage:.1%}")
    print(f"mean |error|: ANN {result.ann_mean_abs_error:.4g}, MC-dropconnect {result.mc_mean_abs_error:.4g}; "
          f"deployed keep probability {result.keep_probability_mean:.3f} +- {result.keep_probability_std:.3f}")
    print(f"wrote {figure_path} and {json_path}")
    if not result.accepted:
        raise CommandFailed(f"MC-dropconnect coverage {result.mc_coverage:.1%} (want {percent} +- 5 points) and "
                            f"NLL {result.mc_nll:.4g} vs ANN {result.ann_nll:.4g} (want lower)")
    return 0
