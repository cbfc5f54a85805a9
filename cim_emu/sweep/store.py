"""The result directory of a sweep: one part file per finished cell, ``results.parquet``, ``sweep.json``.

Layout of ``DIR``::

    sweep.json              spec, package versions, cluster size, timing, status (rewritten atomically)
    parts/cell-000017.json  one finished cell (written atomically when its result reaches the client)
    results.parquet         every cell, one row each (merged from the parts at the end of a run)
    figures/<metric>.png    one figure per metric

Every file is staged beside its final name and renamed into place, so a crash leaves whole files only: a
finished cell is never lost, a cell is never half-written, and ``--resume`` runs exactly the cells without a
part file (and those whose part records an error).
"""

from __future__ import annotations

import json
import os
import pathlib
import re
from collections.abc import Iterable, Mapping
from typing import Any

from devices import atomic_write
from devices.io import json_ready

__all__ = ["ResultStore", "SWEEP_SCHEMA", "part_record"]

SWEEP_SCHEMA = "cim-emu-sweep/1"
_PART = re.compile(r"^cell-(\d+)\.json$")
_FIXED_COLUMNS = ("cell", "point", "replica", "seed")
_TAIL_COLUMNS = ("wall_time_s", "worker", "error")


def part_record(cell, seed: int, outcome, spec_digest: str) -> dict[str, Any]:
    """The JSON content of one part file."""
    return {"cell": cell.index, "point": cell.point, "replica": cell.replica, "seed": seed,
            "values": dict(cell.values), "metrics": dict(outcome.metrics), "error": outcome.error,
            "traceback": outcome.traceback, "wall_time_s": outcome.wall_time_s, "worker": outcome.worker,
            "spec_digest": spec_digest}


class ResultStore:
    """Reads and writes one sweep directory.

    Args:
        out: the directory (``--out``).
    """

    def __init__(self, out: str | os.PathLike):
        self.out = pathlib.Path(out)
        self.parts_dir = self.out / "parts"
        self.manifest_path = self.out / "sweep.json"
        self.results_path = self.out / "results.parquet"
        self.figures_dir = self.out / "figures"

    def prepare(self, spec_digest: str, *, resume: bool) -> None:
        """Check that the directory can take this sweep, before any work.

        Raises:
            ValueError: ``out`` is a file; it holds another sweep (or other files) and ``resume`` is False; or
                ``resume`` is True and it holds a sweep of a different spec.
        """
        if self.out.exists() and not self.out.is_dir():
            raise ValueError(f"{self.out}: --out is a file; give a directory")
        if not self.out.exists():
            return
        manifest = self.read_manifest()
        if not resume:
            if manifest is not None or self.parts_dir.exists():
                raise ValueError(f"{self.out}: holds a sweep already; pass --resume to complete it, or choose "
                                 "another --out")
            if any(self.out.iterdir()):
                raise ValueError(f"{self.out}: --out is not empty; give a new or empty directory")
            return
        if manifest is not None and manifest.get("spec_digest") != spec_digest:
            raise ValueError(f"{self.manifest_path}: records a different spec (digest "
                             f"{str(manifest.get('spec_digest'))[:12]}...); resume with the spec it was run with, "
                             "or choose another --out")

    def read_manifest(self) -> dict | None:
        """``sweep.json`` as a dictionary, or None when absent."""
        if not self.manifest_path.exists():
            return None
        try:
            return json.loads(self.manifest_path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as error:
            raise ValueError(f"{self.manifest_path}: line {error.lineno}: not valid JSON ({error.msg})") from None

    def write_manifest(self, record: Mapping[str, Any]) -> None:
        """Write ``sweep.json`` atomically (NaN written as null)."""
        with atomic_write(self.manifest_path, "w", encoding="utf-8") as handle:
            json.dump(json_ready(record), handle, indent=2)
            handle.write("\n")

    def part_path(self, index: int) -> pathlib.Path:
        return self.parts_dir / f"cell-{index:06d}.json"

    def write_part(self, record: Mapping[str, Any]) -> None:
        """Write one finished cell atomically (NaN metrics kept as JSON ``NaN``, which Python reads back)."""
        with atomic_write(self.part_path(record["cell"]), "w", encoding="utf-8") as handle:
            json.dump(record, handle)

    def read_parts(self, spec_digest: str | None = None) -> dict[int, dict]:
        """Every part file, cell index -> record.

        Raises:
            ValueError: naming the file, for an unreadable part or one of another spec.
        """
        records: dict[int, dict] = {}
        if not self.parts_dir.exists():
            return records
        for path in sorted(self.parts_dir.iterdir()):
            match = _PART.match(path.name)
            if not match:
                continue  # staging files of an interrupted write, and anything else, are not parts
            try:
                record = json.loads(path.read_text(encoding="utf-8"))
            except json.JSONDecodeError as error:
                raise ValueError(f"{path}: line {error.lineno}: not valid JSON ({error.msg}); delete it and "
                                 "resume to rerun the cell") from None
            if spec_digest is not None and record.get("spec_digest") != spec_digest:
                raise ValueError(f"{path}: belongs to another spec; resume with the spec it was run with")
            records[int(match.group(1))] = record
        return records

    def completed_cells(self, spec_digest: str) -> set[int]:
        """Cells with a part file that recorded no error (the ones ``--resume`` skips)."""
        return {index for index, record in self.read_parts(spec_digest).items() if record.get("error") is None}

    def merge(self, records: Iterable[Mapping[str, Any]], axis_names: list[str]) -> pathlib.Path:
        """Write ``results.parquet`` from the part records (one row per cell, in cell order), atomically."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        rows = sorted(records, key=lambda record: record["cell"])
        metric_names: list[str] = []
        for row in rows:
            metric_names.extend(name for name in row["metrics"] if name not in metric_names)
        columns: dict[str, Any] = {
            "cell": pa.array([row["cell"] for row in rows], pa.int64()),
            "point": pa.array([row["point"] for row in rows], pa.int64()),
            "replica": pa.array([row["replica"] for row in rows], pa.int64()),
            "seed": pa.array([row["seed"] for row in rows], pa.int64()),
        }
        for name in axis_names:
            columns[name] = _axis_column([row["values"][name] for row in rows])
        for name in metric_names:
            columns[name] = pa.array([_float(row["metrics"].get(name)) for row in rows], pa.float64())
        columns["wall_time_s"] = pa.array([float(row["wall_time_s"]) for row in rows], pa.float64())
        columns["worker"] = pa.array([row["worker"] for row in rows], pa.string())
        columns["error"] = pa.array([row["error"] for row in rows], pa.string())
        table = pa.table(columns)
        with atomic_write(self.results_path, "wb") as handle:
            pq.write_table(table, handle)
        return self.results_path


def _float(value) -> float | None:
    return None if value is None else float(value)


def _axis_column(values: list[Any]):
    """An axis as a typed column: numbers, booleans or strings as they are; anything mixed or nested as text."""
    import pyarrow as pa

    kinds = {type(value) for value in values}
    if kinds <= {int}:
        return pa.array(values, pa.int64())
    if kinds <= {int, float}:
        return pa.array([float(value) for value in values], pa.float64())
    if kinds <= {bool}:
        return pa.array(values, pa.bool_())
    if kinds <= {str}:
        return pa.array(values, pa.string())
    # Mixed ("none" beside numbers) or nested (a table, a list): text, strings as they are, the rest as JSON.
    return pa.array([value if isinstance(value, str) else json.dumps(value) for value in values], pa.string())

