"""The ``cim-emu`` command line: a thin shell over the public API.

Every subcommand lives in its own module ``cim_emu/cli/cmd_<name>.py`` exposing
``register(subparsers)``; this module discovers them, so adding a command never
touches a shared file. The CLI is the only place allowed to import all three
packages (``devices``, ``cim_emu``, ``diffusion``); heavy imports happen inside
the command functions so that ``cim-emu --help`` stays fast.

Exit codes: 0 success, 1 a check failed (e.g. a randomness test rejected the
stream), 2 bad input or usage (one line on stderr naming file, row and column,
or the flag), 130 interrupted (Ctrl-C), 143 terminated (SIGTERM). Bad input is
validated at the boundary (the flag parsers in :mod:`cim_emu.cli._args`, the
readers in :mod:`devices.io`), so every error names where it is; an unexpected
exception is a bug and keeps its traceback (exit 1).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import pkgutil
import signal
import sys

__all__ = ["main", "build_parser", "CommandFailed", "Terminated"]


class CommandFailed(Exception):
    """Raised by a command whose run completed but whose verdict is negative (exit code 1)."""


class Terminated(BaseException):
    """Raised in the main thread when the process receives SIGTERM, so that staged outputs are removed."""


class _Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line on stderr (exit 2)."""

    def error(self, message: str):  # noqa: D102 - argparse's hook
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser with every discovered subcommand registered."""
    parser = _Parser(
        prog="cim-emu",
        description="Device-level compute-in-memory emulator for VCMA-MTJ crossbars with in-situ p-bits.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    package = sys.modules[__name__]
    for module_info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        if not module_info.name.startswith("cmd_"):
            continue
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        module.register(subparsers)
    return parser


_received: list[int] = []


def _raise_terminated(signum, frame):
    _received.append(signum)
    raise Terminated


def _raise_interrupt(signum, frame):
    _received.append(signum)
    raise KeyboardInterrupt


@contextlib.contextmanager
def _signals_as_exceptions():
    """Turn SIGTERM into :class:`Terminated` and SIGINT into ``KeyboardInterrupt`` while a command runs, and
    remember that one arrived (main thread only; an ignored SIGINT stays ignored)."""
    handlers = {signal.SIGTERM: _raise_terminated}
    if signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:
        handlers[signal.SIGINT] = _raise_interrupt
    try:
        previous = {number: signal.signal(number, handler) for number, handler in handlers.items()}
    except ValueError:  # not the main thread: leave the process's handling alone
        yield
        return
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def _one_line(error: BaseException) -> str:
    message = str(error).splitlines()[0] if str(error).strip() else type(error).__name__
    if isinstance(error, OSError) and error.filename and str(error.filename) not in message:
        message = f"{error.filename}: {message}"
    return message


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script; returns the process exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # --help (0) and usage errors (2, already printed on one line)
        return int(exit_.code or 0) if not isinstance(exit_.code, str) else 2
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    command = getattr(args, "command", None) or "cim-emu"
    _received.clear()
    try:
        with _signals_as_exceptions():
            result = args.func(args)
    except BaseException as error:
        if not _received or isinstance(error, SystemExit):
            return _exit_code(command, error)
        # A signal arrived: whatever unwound the command is its consequence (C code may have turned the
        # signal's exception into another, e.g. an ImportError during an import).
        terminated = _received[0] == signal.SIGTERM
        print(f"cim-emu {command}: {'terminated' if terminated else 'interrupted'}; no output was written",
              file=sys.stderr)
        return 143 if terminated else 130
    return int(result or 0)


def _exit_code(command: str, error: BaseException) -> int:
    """The exit code of a command that raised ``error`` (re-raised when it is a bug)."""
    try:
        raise error
    except CommandFailed as failure:
        print(f"cim-emu {command}: {failure}", file=sys.stderr)
        return 1
    except (ValueError, OSError) as error:
        # Bad input: one clear line, no traceback. The commands check their output paths first and write
        # outputs atomically, so nothing half-written is left behind.
        print(f"cim-emu {command}: error: {_one_line(error)}", file=sys.stderr)
        return 2
    except RuntimeError as error:
        if "can't allocate memory" not in str(error):  # torch's CPU allocator; anything else is a bug
            raise
        print(f"cim-emu {command}: error: out of memory ({_one_line(error)[-120:]}); ask for a smaller run",
              file=sys.stderr)
        return 2
    except MemoryError:
        print(f"cim-emu {command}: error: out of memory; ask for a smaller run (the size flags are listed in "
              f"cim-emu {command} --help)", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"cim-emu {command}: interrupted; no output was written", file=sys.stderr)
        return 130
    except Terminated:
        print(f"cim-emu {command}: terminated; no output was written", file=sys.stderr)
        return 143
