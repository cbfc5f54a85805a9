"""Regenerate the shipped calibration files from the stated ground truth.

    python -m calibration_data.regenerate [--seed 2024] [--out calibration_data]

then refit the default card with ``cim-emu fit calibration_data --out devices/cards/default.json``.
"""

from __future__ import annotations

import argparse
import pathlib

import devices
from calibration_data.synthesize import synthesize

SHIPPED_SEED = 2025


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    here = pathlib.Path(__file__).resolve().parent
    parser.add_argument("--seed", type=int, default=SHIPPED_SEED)
    parser.add_argument("--out", default=str(here))
    parser.add_argument("--truth", default=str(here / "truth.json"))
    args = parser.parse_args(argv)
    synthesize(devices.load_card(args.truth), args.out, seed=args.seed)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
