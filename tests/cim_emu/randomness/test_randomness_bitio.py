"""Reading bit files: ASCII and bytes, and the error messages of bad files."""

from __future__ import annotations

import numpy as np
import pytest

from cim_emu.randomness import (
    BitFileError,
    BitFormat,
    bytes_to_bits,
    parse_ascii_bits,
    read_bits,
    split_sequences,
)


def test_ascii_ignores_whitespace(tmp_path):
    path = tmp_path / "bits.txt"
    path.write_text("01 10\n\t1\r\n0\n")
    assert read_bits(path).tolist() == [0, 1, 1, 0, 1, 0]
    assert read_bits(path, max_bits=3).tolist() == [0, 1, 1]


def test_bytes_are_read_msb_first(tmp_path):
    path = tmp_path / "bits.bin"
    path.write_bytes(bytes([0b10000001, 0b01000000]))
    assert read_bits(path, format="bytes").tolist() == [1, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0]
    assert read_bits(path, format=BitFormat.BYTES).tolist() == bytes_to_bits(path.read_bytes()).tolist()
    assert bytes_to_bits(np.array([255], dtype=np.uint8)).tolist() == [1] * 8


@pytest.mark.parametrize(
    ("text", "where"),
    [("0110a", "line 1, column 5"), ("01\n10\n1 2", "line 3, column 3"), ("0\r\n1,0", "line 2, column 2")],
)
def test_bad_character_names_line_and_column(tmp_path, text, where):
    path = tmp_path / "bad.txt"
    path.write_text(text)
    with pytest.raises(BitFileError, match=where) as error:
        read_bits(path)
    assert str(path) in str(error.value)
    assert isinstance(error.value, ValueError)


def test_non_ascii_character_is_shown(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_text("01é", encoding="utf-8")
    with pytest.raises(BitFileError, match="column 3: unexpected character 'é'"):
        read_bits(path)


@pytest.mark.parametrize("content", [b"", b"   \n"])
def test_empty_files_are_refused(tmp_path, content):
    path = tmp_path / "empty.txt"
    path.write_bytes(content)
    with pytest.raises(BitFileError, match="no bits found"):
        read_bits(path)
    with pytest.raises(BitFileError, match="no bits found"):
        read_bits(path, format="bytes") if not content else parse_ascii_bits(content.decode())


def test_unknown_format_and_missing_file(tmp_path):
    with pytest.raises(ValueError, match="'ascii' or 'bytes'"):
        read_bits(tmp_path / "x", format="hex")
    with pytest.raises(OSError):
        read_bits(tmp_path / "missing.txt")


def test_split_sequences_drops_the_tail():
    bits = np.arange(10) % 2
    parts = split_sequences(bits, 3)
    assert parts.shape == (3, 3) and parts.base is not None
    with pytest.raises(ValueError, match="cannot make 11 sequences"):
        split_sequences(bits, 11)
    with pytest.raises(ValueError, match="n_sequences"):
        split_sequences(bits, 0)
