"""Read bit sequences from files: ASCII '0'/'1' text or raw bytes (MSB first)."""

from __future__ import annotations

import enum
import os
import pathlib

import numpy as np

__all__ = ["BitFormat", "BitFileError", "read_bits", "parse_ascii_bits", "bytes_to_bits", "split_sequences"]

# Byte classes of the ASCII format: 0 and 1 are bits, 2 is ignorable whitespace.
_ZERO, _ONE, _SPACE, _BAD = 0, 1, 2, 3
_CLASSES = np.full(256, _BAD, dtype=np.uint8)
_CLASSES[ord("0")] = _ZERO
_CLASSES[ord("1")] = _ONE
for _byte in b" \t\n\r\v\f":
    _CLASSES[_byte] = _SPACE


class BitFormat(enum.Enum):
    """How a file holds its bits."""

    ASCII = "ascii"  # characters '0' and '1'; whitespace is ignored (STS's ASCII format)
    BYTES = "bytes"  # raw bytes, each giving 8 bits, most significant bit first (STS's binary format)


class BitFileError(ValueError):
    """A bit file that cannot be read as the format it claims; the message names the place."""


def parse_ascii_bits(data: bytes | str, *, source: str = "<string>") -> np.ndarray:
    """Bits from '0'/'1' text, whitespace ignored.

    Args:
        data: the text (bytes or str).
        source: name used in error messages (the file name).

    Returns:
        uint8 array (n,) of 0/1.

    Raises:
        BitFileError: a character other than '0', '1' or whitespace (the message gives
            line and column, both from 1), or no bits at all.
    """
    raw = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    codes = np.frombuffer(raw, dtype=np.uint8)
    classes = _CLASSES[codes]
    bad = np.flatnonzero(classes == _BAD)
    if bad.size:
        position = int(bad[0])
        line = raw.count(b"\n", 0, position) + 1
        column = position - (raw.rfind(b"\n", 0, position) + 1) + 1
        character = raw[position : position + 4].decode("utf-8", "replace")[:1]
        raise BitFileError(
            f"{source}: line {line}, column {column}: unexpected character {character!r}; "
            "an ASCII bit file holds only '0', '1' and whitespace (use --format bytes for binary files)"
        )
    bits = classes[classes != _SPACE]
    if bits.size == 0:
        what = "is empty" if not raw else "holds only whitespace"
        raise BitFileError(f"{source}: no bits found: the file {what}")
    return bits


def bytes_to_bits(data: bytes | bytearray | memoryview | np.ndarray) -> np.ndarray:
    """Unpack bytes into bits, most significant bit of each byte first: uint8 (8 * n_bytes,)."""
    if isinstance(data, np.ndarray):
        if data.dtype != np.uint8:
            raise ValueError(f"bytes_to_bits needs a uint8 array, got dtype {data.dtype}")
        return np.unpackbits(data.ravel())
    return np.unpackbits(np.frombuffer(bytes(data), dtype=np.uint8))


def read_bits(
    path: str | os.PathLike, *, format: BitFormat | str = BitFormat.ASCII, max_bits: int | None = None
) -> np.ndarray:
    """Read a bit sequence from a file.

    Args:
        path: the file.
        format: ``BitFormat.ASCII`` ('0'/'1' text, whitespace ignored) or
            ``BitFormat.BYTES`` (raw bytes, MSB first); the strings "ascii"/"bytes" work too.
        max_bits: keep only the first ``max_bits`` bits (None: all).

    Returns:
        uint8 array (n,) of 0/1.

    Raises:
        BitFileError: empty file, or characters other than 0/1/whitespace (ASCII).
        OSError: the file cannot be read.
    """
    try:
        format = BitFormat(format)
    except ValueError:
        raise ValueError(f"format must be 'ascii' or 'bytes', got {format!r}") from None
    path = pathlib.Path(path)
    raw = path.read_bytes()
    if format is BitFormat.ASCII:
        bits = parse_ascii_bits(raw, source=str(path))
    else:
        if not raw:
            raise BitFileError(f"{path}: no bits found: the file is empty")
        bits = np.unpackbits(np.frombuffer(raw, dtype=np.uint8))
    if max_bits is not None:
        if max_bits < 1:
            raise ValueError(f"max_bits must be >= 1, got {max_bits}")
        bits = bits[:max_bits]
    return bits


def split_sequences(bits: np.ndarray, n_sequences: int) -> np.ndarray:
    """Cut a stream into K consecutive sequences of floor(n / K) bits (STS's bitstreams).

    Returns:
        uint8 array (K, n // K), a view of ``bits``; the last n mod K bits are dropped.
    """
    if isinstance(n_sequences, bool) or not isinstance(n_sequences, int) or n_sequences < 1:
        raise ValueError(f"n_sequences must be an integer >= 1, got {n_sequences!r}")
    length = bits.shape[0] // n_sequences
    if length < 1:
        raise ValueError(f"{bits.shape[0]} bits cannot make {n_sequences} sequences of at least one bit")
    return bits[: length * n_sequences].reshape(n_sequences, length)
