"""Validated reading of calibration files and atomic writing of outputs.

Every reading error is a :class:`DataError` (a ``ValueError``) whose message
names the file, the line (1-based, the header is line 1), the column and what
was expected, so the CLI can print it as one line and exit with code 2.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import math
import os
import pathlib
import tempfile
from collections.abc import Callable, Iterator, Sequence
from typing import IO

import numpy as np

__all__ = ["DataError", "Column", "read_table", "read_bitstream", "atomic_write"]


class DataError(ValueError):
    """Bad input data; the message says where (file, line, column) and what was expected."""

    def __init__(self, path: str | os.PathLike, message: str, *, line: int | None = None,
                 column: str | None = None):
        location = str(path)
        if line is not None:
            location += f", line {line}"
        if column is not None:
            location += f", column '{column}'"
        super().__init__(f"{location}: {message}")
        self.path, self.line, self.column = str(path), line, column


@dataclasses.dataclass(frozen=True, kw_only=True)
class Column:
    """One expected CSV column.

    Attributes:
        name: header name (units in the name, e.g. ``voltage_V``).
        kind: ``"float"``, ``"int"`` or ``"str"``.
        minimum: smallest allowed value (numeric kinds), inclusive unless ``strict``.
        maximum: largest allowed value (numeric kinds), inclusive.
        strict: the minimum is exclusive (e.g. resistances must be > 0).
        choices: allowed values (``"str"`` kind).
    """

    name: str
    kind: str = "float"
    minimum: float | None = None
    maximum: float | None = None
    strict: bool = False
    choices: tuple[str, ...] | None = None

    def describe(self) -> str:
        """Human description of what a cell must hold."""
        if self.kind == "str":
            return f"one of {list(self.choices)}" if self.choices else "a non-empty text"
        noun = "an integer" if self.kind == "int" else "a finite number"
        bounds = []
        if self.minimum is not None:
            bounds.append(f"{'>' if self.strict else '>='} {self.minimum:g}")
        if self.maximum is not None:
            bounds.append(f"<= {self.maximum:g}")
        return noun + (" " + " and ".join(bounds) if bounds else "")

    def parse(self, text: str) -> float | int | str:
        """Parse one cell; raise ``ValueError`` (caught and located by the caller) if invalid."""
        text = text.strip()
        if self.kind == "str":
            if not text or (self.choices and text not in self.choices):
                raise ValueError
            return text
        value: float | int
        if self.kind == "int":
            number = float(text)  # accept "1000" and "1e3"; reject "1.5" below
            if not math.isfinite(number) or number != int(number):
                raise ValueError
            value = int(number)
        else:
            value = float(text)
            if not math.isfinite(value):
                raise ValueError
        if self.minimum is not None and (value <= self.minimum if self.strict else value < self.minimum):
            raise ValueError
        if self.maximum is not None and value > self.maximum:
            raise ValueError
        return value


def read_table(path: str | os.PathLike, columns: Sequence[Column], *,
               row_check: Callable[[dict[str, object]], str | None] | None = None) -> dict[str, np.ndarray]:
    """Read a CSV file with a header into one array per expected column.

    Extra columns are ignored; blank lines are skipped.

    Args:
        path: the CSV file.
        columns: the expected columns and what their cells must hold.
        row_check: optional cross-column check; returns an error text (naming the column
            first, as ``"column: message"``) or None.

    Returns:
        ``{name: array}``; float64 for ``float``, int64 for ``int``, object for ``str``.

    Raises:
        DataError: missing file content, missing column, bad cell, failed row check, no data rows.
    """
    path = pathlib.Path(path)
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        expected = ", ".join(c.name for c in columns)
        if header is None or not any(cell.strip() for cell in header):
            raise DataError(path, f"empty file; expected a header line with columns {expected}", line=1)
        header = [cell.strip() for cell in header]
        index = {}
        for column in columns:
            if column.name not in header:
                raise DataError(path, f"missing column '{column.name}' (expected columns: {expected})", line=1)
            index[column.name] = header.index(column.name)
        values: dict[str, list] = {c.name: [] for c in columns}
        for line_number, row in enumerate(reader, start=2):
            if not any(cell.strip() for cell in row):
                continue
            parsed = {}
            for column in columns:
                position = index[column.name]
                cell = row[position] if position < len(row) else ""
                try:
                    parsed[column.name] = column.parse(cell)
                except ValueError:
                    raise DataError(path, f"expected {column.describe()}, got {cell.strip()!r}",
                                    line=line_number, column=column.name) from None
            if row_check is not None:
                problem = row_check(parsed)
                if problem:
                    column_name, _, message = problem.partition(": ")
                    raise DataError(path, message, line=line_number, column=column_name)
            for name, value in parsed.items():
                values[name].append(value)
    if not values[columns[0].name]:
        raise DataError(path, "no data rows after the header")
    dtypes = {"float": np.float64, "int": np.int64, "str": object}
    return {c.name: np.asarray(values[c.name], dtype=dtypes[c.kind]) for c in columns}


def read_bitstream(path: str | os.PathLike) -> np.ndarray:
    """Read an ASCII bitstream of '0'/'1' characters (whitespace ignored) into a uint8 array.

    Raises:
        DataError: a character other than 0, 1 or whitespace (with its line and column), or no bits.
    """
    path = pathlib.Path(path)
    raw = path.read_bytes()
    data = np.frombuffer(raw, dtype=np.uint8)
    is_bit = (data == ord("0")) | (data == ord("1"))
    is_space = np.isin(data, np.frombuffer(b" \t\r\n\f\v", dtype=np.uint8))
    bad = np.flatnonzero(~(is_bit | is_space))
    if bad.size:
        offset = int(bad[0])
        line = raw.count(b"\n", 0, offset) + 1
        column = offset - (raw.rfind(b"\n", 0, offset) + 1) + 1
        shown = raw[offset:offset + 1].decode("latin-1")
        raise DataError(path, f"expected only '0', '1' or whitespace, got {shown!r} at character {column}",
                        line=line)
    bits = (data[is_bit] - ord("0")).astype(np.uint8)
    if bits.size == 0:
        raise DataError(path, "empty bitstream; expected '0'/'1' characters")
    return bits


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "w", **open_kwargs) -> Iterator[IO]:
    """Open a temporary file beside ``path`` and move it into place only if the block succeeds.

    A crash or exception inside the block leaves no partial file (and any older file at
    ``path`` untouched).
    """
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle_fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle_fd, mode, **open_kwargs) as handle:
            yield handle
        os.chmod(temporary, 0o666 & ~_current_umask())  # mkstemp creates 0600; give the usual permissions
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
