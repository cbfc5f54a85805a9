"""The result directory: part files, the parquet merge and the checks made before any work."""

from __future__ import annotations

import math

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cim_emu.sweep.store import ResultStore


def _record(cell, values, metrics, error=None):
    return {"cell": cell, "point": cell, "replica": 0, "seed": 2**62 + cell, "values": values, "metrics": metrics,
            "error": error, "traceback": None, "wall_time_s": 0.5, "worker": "host:1", "spec_digest": "d"}


def test_merge_types_axis_columns_and_keeps_failed_rows(tmp_path):
    store = ResultStore(tmp_path / "out")
    records = [_record(1, {"a.bits": "none", "a.w": 2, "a.on": True}, {}, error="RuntimeError: boom"),
               _record(0, {"a.bits": 4, "a.w": 1.5, "a.on": False}, {"m": math.nan, "n": 2.0})]
    for record in records:
        store.write_part(record)
    assert sorted(store.read_parts("d")) == [0, 1] and store.completed_cells("d") == {0}
    table = pq.read_table(store.merge(store.read_parts("d").values(), ["a.bits", "a.w", "a.on"]))
    assert table.schema.field("a.bits").type == pa.string() and table.column("a.bits").to_pylist() == ["4", "none"]
    assert table.schema.field("a.w").type == pa.float64() and table.schema.field("a.on").type == pa.bool_()
    assert table.column("seed").to_pylist() == [2**62, 2**62 + 1]
    rows = table.to_pylist()
    assert math.isnan(rows[0]["m"]) and rows[0]["n"] == 2.0 and rows[0]["error"] is None
    assert rows[1]["m"] is None and rows[1]["error"] == "RuntimeError: boom"


def test_prepare_refuses_files_foreign_directories_and_other_specs(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(ValueError, match="--out is a file"):
        ResultStore(tmp_path / "file").prepare("d", resume=False)
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("mine")
    with pytest.raises(ValueError, match="--out is not empty"):
        ResultStore(tmp_path / "busy").prepare("d", resume=False)
    store = ResultStore(tmp_path / "sweep")
    store.write_manifest({"spec_digest": "d", "x": math.inf})
    assert store.read_manifest()["x"] is None  # JSON has no infinity
    store.prepare("d", resume=True)
    with pytest.raises(ValueError, match="records a different spec"):
        store.prepare("e", resume=True)
    store.write_part(_record(0, {}, {}))
    (store.parts_dir / "cell-000001.json").write_text("{")
    with pytest.raises(ValueError, match=r"cell-000001.json: line 1: not valid JSON"):
        store.read_parts("d")
