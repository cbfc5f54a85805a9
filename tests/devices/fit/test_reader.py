"""The calibration CSV reader: large regular files take the fast path, and any irregularity is still located."""

from __future__ import annotations

import numpy as np
import pytest

from devices.fit import aggregate_switching, read_switching
from devices.io import DataError

HEADER = "device_id,array_id,voltage_V,pulse_width_s,n_trials,n_switched\n"


def _rows(n: int) -> list[str]:
    rng = np.random.default_rng(5)
    voltages = rng.choice([0.5, 1.0, 1.5, 2.0], n)
    switched = rng.integers(0, 21, n)
    return [f"S{i % 7},A{i % 3},{v},7e-10,20,{k}" for i, (v, k) in enumerate(zip(voltages, switched, strict=True))]


@pytest.fixture
def large_rows(monkeypatch) -> list[str]:
    # The fast path starts at 1 MB; lower its threshold so that a small file takes it (the logic is the same).
    monkeypatch.setattr("devices.io._FAST_PATH_BYTES", 10_000)
    return _rows(3_000)


def test_the_fast_and_the_located_reader_agree(tmp_path, large_rows, monkeypatch):
    import devices.io

    answers = []
    fast_reader = devices.io._read_table_fast
    monkeypatch.setattr(devices.io, "_read_table_fast", lambda *a: answers.append(fast_reader(*a)) or answers[-1])
    large, small = tmp_path / "large.csv", tmp_path / "small.csv"
    large.write_text(HEADER + "\n".join(large_rows) + "\n")
    assert large.stat().st_size > 10_000
    # A comment line sends the same content through the located (Python) reader.
    small.write_text("# same rows\n" + HEADER + "\n".join(large_rows) + "\n")
    fast, located = read_switching(large), read_switching(small)
    assert answers[0] is not None and answers[1] is None  # the first took the fast path, the second fell back
    for name in fast:
        assert fast[name].dtype == located[name].dtype
        assert np.array_equal(fast[name], located[name]), name


@pytest.mark.parametrize(("line", "column", "value", "expected"), [
    (2_000, "voltage_V", "1.5V", "expected a finite number"),
    (2_999, "n_switched", "25", "exceeds n_trials"),
    (1_234, "n_trials", "1e30", "an integer >= 1"),
    (2_501, "array_id", " ", "a non-empty text"),
])
def test_a_bad_cell_in_a_large_file_is_located(tmp_path, large_rows, line, column, value, expected):
    header = HEADER.strip().split(",")
    rows = list(large_rows)
    cells = rows[line - 2].split(",")
    cells[header.index(column)] = value
    rows[line - 2] = ",".join(cells)
    path = tmp_path / "switching.csv"
    path.write_text(HEADER + "\n".join(rows) + "\n")
    with pytest.raises(DataError, match=f"line {line}, column '{column}'.*{expected}"):
        read_switching(path)


def test_aggregation_sums_counts_per_point(tmp_path):
    path = tmp_path / "switching.csv"
    path.write_text(HEADER + "S1,A,1.0,7e-10,10,3\nS2,A,1.0,7e-10,10,4\nS1,A,1.0,7e-10,5,5\nS1,A,2.0,7e-10,10,9\n")
    table = aggregate_switching(read_switching(path))
    got = sorted(zip(table["device_id"], table["voltage_V"], table["n_trials"], table["n_switched"], strict=True))
    assert got == [("S1", 1.0, 15, 8), ("S1", 2.0, 10, 9), ("S2", 1.0, 10, 4)]
