"""``cim-emu device [--card device.json] [--json]``: the derived figures of a device card."""

from __future__ import annotations

import argparse


def register(subparsers) -> None:
    parser = subparsers.add_parser("device", help="print the derived figures of a device card",
                                   description="TMR, resistances, switching threshold and window, first "
                                               "precessional peak, pair margin and endurance of a card.")
    parser.add_argument("--card", default=None, help="device card JSON (default: the shipped default card)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import devices
    from cim_emu.cli._format import print_json, si, table

    card = devices.load_card(args.card) if args.card else devices.default_card()
    summary = devices.summarize(card).to_dict()
    if args.json:
        print_json({"card": card.name, **summary})
        return 0
    units = {"_ohm": "Ohm", "_V": "V", "_s": "s", "_S": "S"}
    rows = []
    for key, value in summary.items():
        unit = next((u for suffix, u in units.items() if key.endswith(suffix)), "")
        if key.startswith("tmr"):
            shown = f"{value:.1%}"
        elif key == "pair_margin_sigma":
            shown = f"{value:.2f} sigma"
        else:
            shown = si(value, unit)
        rows.append([key, shown])
    print(f"device card: {card.name}")
    print(table(rows, ["figure", "value"]))
    return 0
