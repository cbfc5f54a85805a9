"""A hypothesis fuzz of every registered subcommand's numeric flags and of card fields (issue 16, section 2).

Each example runs ``main([...])`` in-process under a watchdog: a run still working after a few seconds counts as
accepted (its staged outputs are removed when the watchdog's exception unwinds it). The properties: ``main``
returns (no traceback), with 0, 1 or 2; exit 2 prints one line; NaN and infinities are always refused; nothing
is left behind on exit 2 and no hidden staging folder ever. The default run tries a few examples; ``-m slow``
runs the large profile with zeros, negatives and huge values.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import pathlib
import re
import signal
import tempfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import devices
from cim_emu.cli import build_parser, main

_NUMERIC_TYPES = re.compile(r"(number|integer|count)", re.IGNORECASE)
_NUMERIC_TEXT = re.compile(r"^[-+0-9.eE:]+[a-z]*$")
_NUMERIC_NAMES = re.compile(r"(voltage|width|duration|interval|^dt$|time)")
_WATCHDOG_S = 3.0


class _Watchdog(BaseException):
    """The example ran past the watchdog: it was accepted and working."""


def _is_numeric(action: argparse.Action) -> bool:
    if action.type in (int, float):
        return True
    if action.type is not None:
        return bool(_NUMERIC_TYPES.search(getattr(action.type, "__qualname__", "")))
    if isinstance(action.default, str) and _NUMERIC_TEXT.match(action.default):
        return True
    return bool(_NUMERIC_NAMES.search(action.dest))


def _commands(parser: argparse.ArgumentParser, path=()):
    """(command path, parser) of every leaf subcommand."""
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        yield path, parser
    for action in subs:
        for name, sub in action.choices.items():
            yield from _commands(sub, (*path, name))


def _valid_numeric(action: argparse.Action) -> str:
    if "width" in action.dest or "duration" in action.dest:
        return "1ns"
    return "1"


def _base_arguments(parser: argparse.ArgumentParser, directory: pathlib.Path, skip: str) -> list[str]:
    """The required arguments of a subcommand, filled with small valid values."""
    argv, positionals = [], []
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction) or action.dest == skip:
            continue
        if not action.option_strings:
            if action.required or action.nargs not in ("?", "*"):
                bits = directory / "input.txt"
                bits.write_text("01" * 500 + "\n")
                positionals.append(str(bits))
            continue
        if not action.required:
            continue
        if "out" in action.dest:
            argv += [action.option_strings[0], str(directory / "out")]
        elif _is_numeric(action):
            argv += [action.option_strings[0], _valid_numeric(action)]
        else:
            argv += [action.option_strings[0], str(directory / "missing-input")]
    return [*argv, *positionals]


FLAGS = sorted({(path, action.option_strings[-1]) for path, parser in _commands(build_parser())
                for action in parser._actions if action.option_strings and action.nargs != 0
                and not isinstance(action, argparse._HelpAction) and _is_numeric(action)})


def _run(path, flag, value):
    """Run one example in a fresh folder; returns (code or None if the watchdog fired, stderr, leftovers)."""
    parser = dict(_commands(build_parser()))[path]
    dest = next(a.dest for a in parser._actions if flag in a.option_strings)
    with tempfile.TemporaryDirectory() as folder:
        directory = pathlib.Path(folder)
        argv = [*path, *_base_arguments(parser, directory, dest), flag, value]
        before = {p.name for p in directory.iterdir()}
        error = io.StringIO()

        def fire(signum, frame):
            raise _Watchdog

        previous = signal.signal(signal.SIGALRM, fire)
        signal.setitimer(signal.ITIMER_REAL, _WATCHDOG_S)
        try:
            with contextlib.redirect_stderr(error), contextlib.redirect_stdout(io.StringIO()):
                code = main(argv)
        except _Watchdog:
            code = None
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
        after = {str(p.relative_to(directory)) for p in directory.rglob("*")}
        return argv, code, error.getvalue(), sorted(after - before)


def _visible_lines(text: str) -> list[str]:
    """The lines a terminal shows: a progress bar's carriage returns overwrite, so keep what follows the last."""
    return [line.rsplit("\r", 1)[-1] for line in text.strip().split("\n") if line.rsplit("\r", 1)[-1].strip()]


def _check(path, flag, value, *, must_refuse: bool):
    argv, code, error, new = _run(path, flag, value)
    assert code in (None, 0, 1, 2), (argv, code, error)
    assert "Traceback" not in error, (argv, error)
    assert not [name for name in new if pathlib.PurePath(name).name.startswith(".")], (argv, new)
    if code == 2:
        assert len(_visible_lines(error)) == 1, (argv, error)
        assert new == [], (argv, new)
    if must_refuse:
        assert code == 2, (argv, code, error)


def test_every_subcommand_has_numeric_flags_in_the_fuzz():
    commands = {path[0] for path, _ in FLAGS}
    assert {"trng", "fit", "nist", "sllg", "regress", "demo"} <= commands


_NON_FINITE = st.sampled_from(["nan", "inf", "-inf", "NaN"])


@settings(max_examples=12, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(case=st.sampled_from(FLAGS), value=_NON_FINITE)
def test_non_finite_flag_values_are_refused(case, value):
    path, flag = case
    _check(path, flag, value, must_refuse=True)


@pytest.mark.slow
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=st.sampled_from(FLAGS),
       value=st.one_of(_NON_FINITE, st.sampled_from(["-1", "0", "1e300", str(10 ** 30), "-1e-300", "1e999", "-0"]),
                       st.integers(min_value=-10 ** 20, max_value=10 ** 20).map(str),
                       st.floats(allow_nan=True, allow_infinity=True).map(repr)))
def test_numeric_flag_fuzz_large(case, value):
    path, flag = case
    _check(path, flag, value, must_refuse=value.lower().lstrip("-+") in ("nan", "inf", "1e999"))


_FIELD_VALUES = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(min_value=-10 ** 400,
                                                                                      max_value=10 ** 400),
                          st.text(max_size=5), st.none(), st.booleans(), st.lists(st.integers(), max_size=2),
                          st.dictionaries(st.text(max_size=3), st.integers(), max_size=2))
_CARD = devices.default_card().to_dict()
_CARD_FIELDS = [(section, name) for section in ("data_bit", "p_bit", "endurance") for name in _CARD[section]]
_CARD_FIELDS += [(None, "name"), (None, "provenance"), (None, "schema"), (None, "p_bit")]


@settings(max_examples=10, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(field=st.sampled_from(_CARD_FIELDS), value=_FIELD_VALUES)
def test_card_field_fuzz(field, value):
    card = json.loads(json.dumps(_CARD))
    section, name = field
    (card if section is None else card[section])[name] = value
    with tempfile.TemporaryDirectory() as folder:
        path = pathlib.Path(folder) / "card.json"
        path.write_text(json.dumps(card))
        error = io.StringIO()
        with contextlib.redirect_stderr(error), contextlib.redirect_stdout(io.StringIO()):
            code = main(["device", "--card", str(path), "--json"])
    assert code in (0, 2), error.getvalue()
    if code == 2:
        assert len(error.getvalue().strip().splitlines()) == 1 and "card.json" in error.getvalue()
    if isinstance(value, float) and value != value and section is not None:
        assert code == 2
