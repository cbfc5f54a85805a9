"""The ``cim-emu`` command line: a thin shell over the public API.

Every subcommand lives in its own module ``cim_emu/cli/cmd_<name>.py`` exposing
``register(subparsers)``; this module discovers them, so adding a command never
touches a shared file. The CLI is the only place allowed to import all three
packages (``devices``, ``cim_emu``, ``diffusion``); heavy imports happen inside
the command functions so that ``cim-emu --help`` stays fast.

Exit codes: 0 success, 1 a check failed (e.g. a randomness test rejected the
stream), 2 bad input or usage (one line on stderr naming file, row and column).
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

__all__ = ["main", "build_parser", "CommandFailed"]


class CommandFailed(Exception):
    """Raised by a command whose run completed but whose verdict is negative (exit code 1)."""


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser with every discovered subcommand registered."""
    parser = argparse.ArgumentParser(
        prog="cim-emu",
        description="Device-level compute-in-memory emulator for VCMA-MTJ crossbars with in-situ p-bits.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    package = sys.modules[__name__]
    for module_info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        if not module_info.name.startswith("cmd_"):
            continue
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        result = args.func(args)
    except CommandFailed as failure:
        print(f"cim-emu {args.command}: {failure}", file=sys.stderr)
        return 1
    except (ValueError, OSError) as error:
        # Bad input: one clear line, no traceback. The commands write outputs atomically,
        # so nothing half-written is left behind.
        message = str(error).splitlines()[0] if str(error) else type(error).__name__
        if isinstance(error, OSError) and error.filename and str(error.filename) not in message:
            message = f"{error.filename}: {message}"
        print(f"cim-emu {args.command}: error: {message}", file=sys.stderr)
        return 2
    return int(result or 0)
