"""``cim-emu train-weights``: retrain the shipped diffusion weights (VAE, feature classifier, drift network)."""

from __future__ import annotations

import argparse


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "train-weights", help="retrain the shipped diffusion weights from fixed seeds (~15 min, one core)",
        description="Retrain the VAE, the metrics' feature classifier and the drift network from their fixed seeds "
                    "on one CPU thread: bit-for-bit the shipped files on the same platform.")
    parser.add_argument("--only", default="vae,classifier,score",
                        help="comma-separated subset of vae,classifier,score (default: all, in that order)")
    parser.add_argument("--out", default=None, help="output directory (default: the package's weights folder)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import pathlib

    from cim_emu.cli._format import print_json
    from cim_emu.cli._progress import stage_bars
    from diffusion.pretrained import WEIGHTS_DIR
    from diffusion.train import train_weights

    only = tuple(name.strip() for name in args.only.split(",") if name.strip())
    out = pathlib.Path(args.out) if args.out else WEIGHTS_DIR
    with stage_bars(unit="it") as progress:
        summary = train_weights(out, only=only, progress=progress)
    print_json(summary)
    return 0
