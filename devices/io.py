"""Validated reading of calibration files and atomic writing of outputs.

Every reading error is a :class:`DataError` (a ``ValueError``) whose message
names the file, the line (1-based, the header is line 1), the column and what
was expected, so the CLI can print it as one line and exit with code 2.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import io
import json
import math
import os
import pathlib
import tempfile
from collections.abc import Callable, Iterator, Sequence
from typing import IO

import numpy as np

__all__ = ["DataError", "Column", "read_table", "read_bitstream", "atomic_write", "decode_text", "json_ready",
           "write_json",
           "MAX_EXACT_INTEGER"]


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


#: Largest integer an ``int`` column accepts by default: 2^53, the last integer a float64 holds exactly.
MAX_EXACT_INTEGER = 2 ** 53

#: Rows converted at once by :func:`read_table` (bounds the memory of the Python-level cells).
_CHUNK_ROWS = 65536


@dataclasses.dataclass(frozen=True, kw_only=True)
class Column:
    """One expected CSV column.

    Attributes:
        name: header name (units in the name, e.g. ``voltage_V``).
        kind: ``"float"``, ``"int"`` or ``"str"``.
        minimum: smallest allowed value (numeric kinds), inclusive unless ``strict``.
        maximum: largest allowed value (numeric kinds), inclusive; ``int`` columns default to 2^53.
        strict: the minimum is exclusive (e.g. resistances must be > 0).
        choices: allowed values (``"str"`` kind).
    """

    name: str
    kind: str = "float"
    minimum: float | None = None
    maximum: float | None = None
    strict: bool = False
    choices: tuple[str, ...] | None = None

    @property
    def upper(self) -> float | None:
        """The effective maximum (``int`` columns are capped at 2^53)."""
        if self.kind == "int":
            return MAX_EXACT_INTEGER if self.maximum is None else min(self.maximum, MAX_EXACT_INTEGER)
        return self.maximum

    def describe(self) -> str:
        """Human description of what a cell must hold."""
        if self.kind == "str":
            return f"one of {list(self.choices)}" if self.choices else "a non-empty text"
        noun = "an integer" if self.kind == "int" else "a finite number"
        bounds = []
        if self.minimum is not None:
            bounds.append(f"{'>' if self.strict else '>='} {self.minimum:g}")
        if self.upper is not None:
            bounds.append(f"<= {self.upper:g}")
        return noun + (" " + " and ".join(bounds) if bounds else "")

    def parse(self, text: str) -> float | int | str:
        """Parse one cell; raise ``ValueError`` (caught and located by the caller) if invalid."""
        text = text.strip()
        if self.kind == "str":
            if not text or (self.choices and text not in self.choices):
                raise ValueError
            return text
        number = float(text)  # int columns accept "1000" and "1e3"; "1.5" is rejected below
        if not math.isfinite(number):
            raise ValueError
        if self.kind == "int" and number != int(number):
            raise ValueError
        if self.minimum is not None and (number <= self.minimum if self.strict else number < self.minimum):
            raise ValueError
        if self.upper is not None and number > self.upper:
            raise ValueError
        return int(number) if self.kind == "int" else number

    def convert(self, cells: Sequence[str]) -> np.ndarray | None:
        """Vectorised :meth:`parse` of a chunk of cells; None if any cell is invalid (then parse cell by cell)."""
        if self.kind == "str":
            distinct = set(cells)
            stripped = {cell: cell.strip() for cell in distinct}
            allowed = set(self.choices) if self.choices else None
            for cell in stripped.values():
                if not cell or (allowed is not None and cell not in allowed):
                    return None
            values = np.asarray(cells, dtype=object)
            if any(cell != clean for cell, clean in stripped.items()):
                values = np.asarray([stripped[cell] for cell in cells], dtype=object)
            return values
        try:
            # numpy parses a unicode array to float in C (leading/trailing spaces allowed, as float() does).
            values = np.asarray(cells, dtype=np.str_).astype(np.float64) if len(cells) else np.empty(0)
        except (ValueError, TypeError, OverflowError):
            return None
        return self.convert_numbers(values)

    def convert_numbers(self, values: np.ndarray) -> np.ndarray | None:
        """Check parsed float64 values against the column's rules; the typed array, or None if one fails."""
        valid = np.isfinite(values)
        if self.kind == "int":
            valid &= values == np.floor(values)
        if self.minimum is not None:
            valid &= values > self.minimum if self.strict else values >= self.minimum
        if self.upper is not None:
            valid &= values <= self.upper
        if not valid.all():
            return None
        return values.astype(np.int64) if self.kind == "int" else values


def decode_text(path: str | os.PathLike, raw: bytes) -> str:
    """Decode a text file as UTF-8 (an initial byte-order mark is dropped).

    Raises:
        DataError: the file is UTF-16/32 or not valid UTF-8 (with the line of the first bad byte).
    """
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise DataError(path, "the file is UTF-16 or UTF-32 encoded; save it as UTF-8 (or plain ASCII)", line=1)
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw.count(b"\n", 0, error.start) + 1
        column = error.start - (raw.rfind(b"\n", 0, error.start) + 1) + 1
        raise DataError(path, f"byte 0x{raw[error.start]:02x} at character {column} is not valid UTF-8; save the "
                              f"file as UTF-8 (or plain ASCII)", line=line) from None


def _is_comment(row: list[str]) -> bool:
    return bool(row) and row[0].lstrip().startswith("#")


def read_table(path: str | os.PathLike, columns: Sequence[Column], *,
               row_check: Callable[[dict[str, np.ndarray]], tuple[np.ndarray, str] | None] | None = None
               ) -> dict[str, np.ndarray]:
    """Read a CSV file with a header into one array per expected column.

    Extra columns are ignored; blank lines and comment lines (first cell starting with ``#``) are skipped, before
    the header too; a UTF-8 byte-order mark is accepted. Cells are converted a chunk of rows at a time with
    numpy; an invalid chunk is parsed again cell by cell to locate the first bad cell.

    Args:
        path: the CSV file.
        columns: the expected columns and what their cells must hold.
        row_check: optional vectorised cross-column check on a chunk of parsed columns; returns None or
            ``(bad, "column: message")`` where ``bad`` is a boolean array over the chunk's rows (the message may
            use ``{row[name]}`` fields of the first bad row).

    Returns:
        ``{name: array}``; float64 for ``float``, int64 for ``int``, object for ``str``.

    Raises:
        DataError: undecodable text, missing header or column, bad cell, failed row check, no data rows.
    """
    path = pathlib.Path(path)
    if path.stat().st_size > _FAST_PATH_BYTES:
        table = _read_table_fast(path, columns, row_check)
        if table is not None:
            return table
    text = decode_text(path, path.read_bytes())
    reader = csv.reader(io.StringIO(text, newline=""))
    expected = ", ".join(c.name for c in columns)
    header = None
    for row in reader:
        if any(cell.strip() for cell in row) and not _is_comment(row):
            header = row
            break
    if header is None:
        raise DataError(path, f"empty file; expected a header line with columns {expected}", line=1)
    header_line = reader.line_num
    header = [cell.strip() for cell in header]
    index = {}
    for column in columns:
        if column.name not in header:
            raise DataError(path, f"missing column '{column.name}' (the header has {header}; expected columns: "
                                  f"{expected})", line=header_line)
        index[column.name] = header.index(column.name)
    parts: dict[str, list[np.ndarray]] = {c.name: [] for c in columns}
    rows: list[list[str]] = []
    lines: list[int] = []

    def flush() -> None:
        chunk = _convert_chunk(path, columns, index, rows, lines, row_check)
        for name, values in chunk.items():
            parts[name].append(values)
        rows.clear()
        lines.clear()

    for row in reader:
        first = row[0] if row else ""
        if not first or first[0] in " \t#":  # rare: possibly blank, padded or a comment; check properly
            if not any(cell.strip() for cell in row) or _is_comment(row):
                continue
        rows.append(row)
        lines.append(reader.line_num)
        if len(rows) >= _CHUNK_ROWS:
            flush()
    if rows:
        flush()
    if not parts[columns[0].name]:
        raise DataError(path, "no data rows after the header")
    return {name: np.concatenate(values) for name, values in parts.items()}


#: Files larger than this are first parsed by pyarrow's C++ reader; any irregularity falls back to the reader
#: above, which locates the problem.
_FAST_PATH_BYTES = 1 << 20


def _read_table_fast(path: pathlib.Path, columns: Sequence[Column], row_check) -> dict[str, np.ndarray] | None:
    """Parse a large, regular CSV with pyarrow; None when anything is irregular (then the located reader runs)."""
    try:
        import pyarrow as pa
        import pyarrow.compute as pc
        import pyarrow.csv as pcsv
    except ImportError:  # pragma: no cover - pyarrow is a core dependency
        return None
    types = {c.name: pa.string() if c.kind == "str" else pa.float64() for c in columns}
    try:
        table = pcsv.read_csv(path, convert_options=pcsv.ConvertOptions(
            column_types=types, include_columns=[c.name for c in columns], null_values=[],
            strings_can_be_null=False, quoted_strings_can_be_null=False))
    except (pa.ArrowException, ValueError, KeyError, OSError):
        return None
    if table.num_rows == 0:
        return None
    result = {}
    for column in columns:
        data = table.column(column.name)
        if column.kind == "str":
            distinct = pc.unique(data).to_pylist()
            if any(value != value.strip() or not value or (column.choices and value not in column.choices)
                   for value in distinct):
                return None
            # Through the dictionary: one Python string per distinct value, not per row.
            encoded = pc.dictionary_encode(data).combine_chunks()
            names = np.asarray(encoded.dictionary.to_pylist(), dtype=object)
            result[column.name] = names[encoded.indices.to_numpy(zero_copy_only=False)]
        else:
            values = column.convert_numbers(data.to_numpy())
            if values is None:
                return None
            result[column.name] = values
    if row_check is not None:
        problem = row_check(result)
        if problem is not None and problem[0].any():
            return None
    return result


def _convert_chunk(path, columns, index, rows, lines, row_check) -> dict[str, np.ndarray]:
    width = max(index.values()) + 1
    if min(map(len, rows)) >= width:
        transposed = list(zip(*rows, strict=False))  # C-speed transpose; every row has the needed cells
        cells = {c.name: transposed[index[c.name]] for c in columns}
    else:
        cells = {c.name: [row[index[c.name]] if index[c.name] < len(row) else "" for row in rows] for c in columns}
    chunk = {}
    for column in columns:
        values = column.convert(cells[column.name])
        if values is None:
            for row_number, cell in enumerate(cells[column.name]):
                try:
                    column.parse(cell)
                except (ValueError, OverflowError):
                    shown = cell.strip() if len(cell.strip()) <= 40 else cell.strip()[:40] + "..."
                    hint = " (the row has fewer cells than the header)" if len(rows[row_number]) < width else ""
                    raise DataError(path, f"expected {column.describe()}, got {shown!r}{hint}",
                                    line=lines[row_number], column=column.name) from None
            raise AssertionError("a chunk failed conversion but every cell parsed")  # pragma: no cover
        chunk[column.name] = values
    if row_check is not None:
        problem = row_check(chunk)
        if problem is not None and problem[0].any():
            first = int(np.flatnonzero(problem[0])[0])
            column_name, _, message = problem[1].partition(": ")
            row = {name: values[first] for name, values in chunk.items()}
            raise DataError(path, message.format(row=row), line=lines[first], column=column_name)
    return chunk


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


def json_ready(value):
    """``value`` with every non-finite float written as None (JSON ``null``; bare NaN is not valid JSON), numpy
    scalars and arrays as plain numbers and lists, tuples as lists and keys as strings (recursively)."""
    if hasattr(value, "tolist"):
        return json_ready(value.tolist())
    if isinstance(value, dict):
        return {str(key): json_ready(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_ready(item) for item in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def write_json(path: str | os.PathLike, payload) -> pathlib.Path:
    """Write ``payload`` as indented JSON, atomically (:func:`atomic_write`), NaN and inf as null; returns the
    path."""
    with atomic_write(path, "w", encoding="utf-8") as handle:
        handle.write(json.dumps(json_ready(payload), indent=2) + "\n")
    return pathlib.Path(path)


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
