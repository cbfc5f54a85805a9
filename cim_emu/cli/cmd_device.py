"""``cim-emu device [--card device.json] [--json]``: the derived figures of a device card."""

from __future__ import annotations

import argparse

from cim_emu.cli._format import format_figure, print_json, table


def register(subparsers) -> None:
    parser = subparsers.add_parser("device", help="print the derived figures of a device card",
                                   description="TMR, resistances, switching threshold and window, first "
                                               "precessional peak, pair margin and endurance of a card.")
    parser.add_argument("--card", default=None, help="device card JSON (default: the shipped default card)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import devices

    card = devices.load_card(args.card) if args.card else devices.default_card()
    summary = devices.summarize(card).to_dict()
    if args.json:
        print_json({"card": card.name, **summary})
        return 0
    rows = [[key, format_figure(key, value)] for key, value in summary.items()]
    print(f"device card: {card.name}")
    print(table(rows, ["figure", "value"]))
    return 0
