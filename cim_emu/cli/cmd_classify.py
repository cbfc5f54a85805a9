"""``cim-emu classify``: your own network on the crossbar (digits, p-bit activations, MC-dropconnect)."""

from __future__ import annotations

import argparse
import json
import os

_DESCRIPTION = """\
Runs small digit classifiers (sklearn's 8x8 digits, shipped weights) converted onto emulated crossbar
tiles with cim_emu.convert: deterministic networks with float (32-bit) and 4/3/2/1-bit sigmoid activations,
and p-bit networks (VCMA-MTJ switching law) trained sample-aware at T = 1, 2, 5, 10. Reports test accuracy,
accuracy vs the number of samples T (the p-DNN paper's Fig. 4a), energy per inference from the measured op
counts with the paper's Eq. 4 (Fig. 6c), and MC-dropconnect calibration (NLL, ECE, reliability diagram) and
OOD detection (predictive entropy AUROC, rotated and noise digits). Figures and classify.json go in --out.
--train regenerates the weights file (a few minutes on one core).
"""

_MAX_SAMPLES = 256


def _activations(text: str) -> tuple[str, ...]:
    from cim_emu.experiments.classify import ACTIVATIONS

    names = tuple(part.strip() for part in text.split(",") if part.strip())
    bad = [name for name in names if name not in ACTIVATIONS]
    if not names or bad:
        raise argparse.ArgumentTypeError(f"expected a comma-separated subset of {','.join(ACTIVATIONS)}, "
                                         f"got {text!r}")
    return tuple(dict.fromkeys(names))


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {value}")
    return value


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``classify`` subcommand."""
    parser = subparsers.add_parser("classify", help="digit classifiers on crossbars: p-bit activations, samples, "
                                                    "energy, MC-dropconnect uncertainty", description=_DESCRIPTION)
    parser.add_argument("--model", choices=("cnn", "mlp"), default="cnn", help="network (default: cnn)")
    parser.add_argument("--activations", type=_activations, default=None, metavar="LIST",
                        help="comma-separated subset of float,int4,int3,int2,int1,pbit (default: all; pbit = the "
                             "p-bit networks trained at T = 1, 2, 5, 10)")
    parser.add_argument("--samples", type=_count, default=10, metavar="T",
                        help="p-bit samples per image for the reported accuracy and energy (default: 10)")
    parser.add_argument("--mc-samples", type=_count, default=16, metavar="T",
                        help="MC-dropconnect samples per image (default: 16)")
    parser.add_argument("--no-uncertainty", action="store_true", help="skip the MC-dropconnect network")
    parser.add_argument("--out", metavar="DIR", default="classify_out", help="output folder (default: classify_out)")
    parser.add_argument("--json", action="store_true", help="print the JSON result on stdout")
    parser.add_argument("--seed", type=int, default=0, help="root seed of programming, calibration and inference")
    parser.add_argument("--card", metavar="FILE", help="device card JSON (default: the shipped card)")
    parser.add_argument("--weights", metavar="FILE", help="weights file (default: the shipped one)")
    parser.add_argument("--allow-large", action="store_true",
                        help=f"allow more than {_MAX_SAMPLES} samples per image (--samples, --mc-samples)")
    parser.add_argument("--train", action="store_true",
                        help="regenerate the weights file (--weights, default the shipped path; one thread, a few "
                             "minutes) and exit")
    parser.add_argument("--epochs", type=_count, default=None,
                        help="training epochs of the float-weight networks with --train (default: 30)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Train (with --train) or evaluate; write figures and classify.json, print the metrics."""
    from cim_emu.cli._outputs import check_directory
    from devices import default_card, load_card

    card = load_card(args.card) if args.card else default_card()
    if args.train:
        return _train(args, card)
    for flag, value in (("--samples", args.samples), ("--mc-samples", args.mc_samples)):
        if value > _MAX_SAMPLES and not args.allow_large:
            raise ValueError(f"{flag} {value}: more than {_MAX_SAMPLES} samples per image; pass --allow-large to "
                             "run it anyway")
    check_directory(args.out, "--out")  # before any work (a probe write: also right as root)
    from cim_emu.cli._progress import stage_bars
    from cim_emu.experiments.classify import ACTIVATIONS, ClassifyConfig, load_weights, run_classify

    weights = load_weights(args.weights)
    curve = tuple(t for t in (1, 2, 4, 8, 16, 32, 64) if t <= max(64, args.samples))
    config = ClassifyConfig(model=args.model, activations=args.activations or ACTIVATIONS, n_samples=args.samples,
                            curve_samples=curve, mc_samples=args.mc_samples, seed=args.seed,
                            uncertainty=not args.no_uncertainty)
    with stage_bars(unit="network", disable=None) as progress:
        result = run_classify(config, card=card, weights=weights, progress=progress)
    paths = _write(result, args.out)
    data = result.to_dict()
    if args.json:
        print(json.dumps(data, indent=2))
        return 0
    for name, value in result.accuracy.items():
        print(f"{name:>14}: accuracy {value:.3f}, energy per inference {result.energy_per_inference_J[name]:.4g} J")
    if result.accuracy_vs_samples["T"]:
        pairs = ", ".join(f"T={t}: {a:.3f}" for t, a in zip(result.accuracy_vs_samples["T"],
                                                             result.accuracy_vs_samples["accuracy"], strict=True))
        print(f"p-bit accuracy vs samples: {pairs}")
    if result.ece is not None:
        print(f"MC-dropconnect: NLL {result.nll:.4f}, ECE {result.ece:.4f} "
              f"(float network {result.ece_deterministic:.4f}), OOD AUROC {result.ood_auroc:.3f}")
    print(f"wrote {', '.join(paths)}")
    return 0


def _write(result, directory: str) -> list[str]:
    """Stage the figures and the JSON in a temporary folder, then move them into ``directory``."""
    import shutil
    import tempfile

    from cim_emu.experiments.classify import plot_classify
    from devices import atomic_write

    os.makedirs(directory, exist_ok=True)
    staging = tempfile.mkdtemp(prefix=".classify-", dir=directory)
    try:
        staged = plot_classify(result, staging)
        json_path = os.path.join(staging, "classify.json")
        with atomic_write(json_path) as handle:
            json.dump(result.to_dict(), handle, indent=2)
            handle.write("\n")
        staged.append(json_path)
        final = []
        for path in staged:
            target = os.path.join(directory, os.path.basename(path))
            os.replace(path, target)
            final.append(target)
        return final
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _train(args: argparse.Namespace, card) -> int:
    import torch

    from cim_emu.cli._outputs import check_file
    from cim_emu.cli._progress import stage_bars
    from cim_emu.experiments.classify import DEFAULT_WEIGHTS
    from cim_emu.experiments.train_classify import TrainingConfig, save_weights, train_classify

    path = args.weights or DEFAULT_WEIGHTS
    check_file(path, "--weights")
    # One thread: the shipped file is reproducible bit for bit (GEMM reductions depend on the thread count).
    torch.set_num_threads(1)
    overrides = {"seed": args.seed}
    if args.epochs is not None:
        overrides["n_epochs"] = args.epochs
    with stage_bars(unit="network", disable=None) as progress:
        weights = train_classify(TrainingConfig(**overrides), card=card, progress=progress)
    save_weights(weights, path)
    print(f"wrote {path}")
    return 0
