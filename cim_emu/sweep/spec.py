"""The sweep specification: TOML in, a validated :class:`SweepSpec` and its expanded cells out.

A spec (see ``docs/sweeps.md``)::

    experiment = "trng"          # what every cell runs
    seed = 0                     # root seed; cell i draws from SeedStream(seed).index(i)
    replicas = 4                 # Monte-Carlo repeats of every grid point
    card_file = "card.json"      # optional device card (relative to the spec); default: the shipped card

    [options]                    # fixed settings, one table per group of the experiment
    n_bits = 4096

    [axes]                       # swept settings: "<group>.<dotted field>" = list or grid
    "card.p_bit.sigma_v50_device_V" = [0.0, 0.02, 0.04]
    "pulse.pulse_width_s" = { start = 5e-10, stop = 9e-10, num = 5 }
    "options.n_bits" = { start = 256, stop = 4096, num = 5, scale = "log" }

Validation is complete before anything runs or is written: an unknown key or field, an empty axis, a value of
the wrong type or one the library rejects (for any cell of the grid) raises a ValueError naming the key.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import itertools
import json
import math
import os
import pathlib
import sys
from collections.abc import Mapping
from typing import Any

from cim_emu.sweep.experiments import Experiment, get_experiment

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

__all__ = ["Axis", "Cell", "SweepSpec", "load_spec", "parse_spec", "DEFAULT_MAX_CELLS"]

# A grid beyond this many cells is refused unless the caller raises the limit (--max-cells).
DEFAULT_MAX_CELLS = 10_000
_TOP_LEVEL = ("experiment", "seed", "replicas", "card_file", "description", "axes")
_GRID_KEYS = {"start", "stop", "num", "scale"}


@dataclasses.dataclass(frozen=True)
class Axis:
    """One swept setting.

    Attributes:
        name: fully-qualified dotted name, ``"<group>.<field path>"``.
        values: the raw (TOML) values in sweep order.
        log: the values come from a logarithmic grid (plots use a log axis).
    """

    name: str
    values: tuple[Any, ...]
    log: bool = False

    @property
    def group(self) -> str:
        return self.name.split(".", 1)[0]

    @property
    def field(self) -> str:
        return self.name.split(".", 1)[1]


@dataclasses.dataclass(frozen=True)
class Cell:
    """One run of the experiment.

    Attributes:
        index: position in the sweep (grid point major, replica minor): index = point * replicas + replica.
        point: index of the grid point.
        replica: Monte-Carlo repeat, 0 .. replicas - 1.
        values: axis name -> raw value of this cell.
    """

    index: int
    point: int
    replica: int
    values: Mapping[str, Any]


@dataclasses.dataclass(frozen=True)
class SweepSpec:
    """A validated sweep.

    Attributes:
        experiment: the registered experiment's name.
        seed: root seed (integer >= 0).
        replicas: Monte-Carlo repeats per grid point (>= 1).
        fixed: group -> {dotted field: raw value} applied to every cell.
        axes: the swept settings, in spec order (the first varies slowest).
        card: the base device card as a dictionary (``card_file``'s content, or None for the shipped card).
        source: where the spec came from (a path, or ``"<dict>"``).
        description: free text.
    """

    experiment: str
    seed: int
    replicas: int
    fixed: Mapping[str, Mapping[str, Any]]
    axes: tuple[Axis, ...]
    card: Mapping[str, Any] | None = None
    source: str = "<dict>"
    description: str = ""

    @property
    def n_points(self) -> int:
        return math.prod(len(axis.values) for axis in self.axes)

    @property
    def n_cells(self) -> int:
        return self.n_points * self.replicas

    def cells(self) -> list[Cell]:
        """Every cell, in index order."""
        names = [axis.name for axis in self.axes]
        cells = []
        for point, combination in enumerate(itertools.product(*(axis.values for axis in self.axes))):
            values = dict(zip(names, combination, strict=True))
            cells.extend(Cell(point * self.replicas + replica, point, replica, values)
                         for replica in range(self.replicas))
        return cells

    def cell(self, index: int) -> Cell:
        """Cell ``index`` (without enumerating the others)."""
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < self.n_cells:
            raise ValueError(f"cell index must be an integer in [0, {self.n_cells - 1}], got {index!r}")
        point, replica = divmod(index, self.replicas)
        values, rest = {}, point
        for axis in reversed(self.axes):  # the last axis varies fastest
            rest, position = divmod(rest, len(axis.values))
            values[axis.name] = axis.values[position]
        return Cell(index, point, replica, {axis.name: values[axis.name] for axis in self.axes})

    def overrides(self, cell: Cell) -> dict[str, dict[str, Any]]:
        """group -> {dotted field: raw value}: the fixed settings with the cell's axis values on top."""
        merged = {group: dict(values) for group, values in self.fixed.items()}
        for name, value in cell.values.items():
            group, field = name.split(".", 1)
            merged.setdefault(group, {})[field] = value
        return merged

    @functools.cached_property
    def _card(self):
        import devices

        if self.card is None:
            return devices.default_card()
        return devices.DeviceCard.from_dict(dict(self.card), source=f"{self.source}: card_file")

    def base_card(self):
        """The base ``devices.DeviceCard`` of every cell (``card_file``, or the shipped card)."""
        return self._card

    def build(self, cell: Cell) -> dict[str, Any]:
        """The experiment's settings objects for ``cell`` (group -> object)."""
        where = f"{self.source}: cell {cell.index}: " if self.axes else f"{self.source}: "
        return get_experiment(self.experiment).build(self.base_card(), self.overrides(cell), where,
                                                     uses_card_file=self.card is not None)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (also what ``sweep.json`` records and what :meth:`digest` hashes)."""
        return {"experiment": self.experiment, "seed": self.seed, "replicas": self.replicas,
                "fixed": {group: dict(values) for group, values in self.fixed.items()},
                "axes": [{"name": axis.name, "values": list(axis.values), "log": axis.log} for axis in self.axes],
                "card": None if self.card is None else dict(self.card), "description": self.description}

    def digest(self) -> str:
        """SHA-256 of the canonical JSON of :meth:`to_dict`: two specs with the same digest have the same cells."""
        text = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _flatten(table: Mapping[str, Any], prefix: str, *, grids: bool) -> dict[str, Any]:
    """Nested TOML tables -> dotted keys (``p_bit.v50_V``); a grid table (``start``/``stop``) is a leaf."""
    flat: dict[str, Any] = {}
    for key, value in table.items():
        name = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict) and not (grids and "start" in value):
            if not value:
                raise ValueError(f"{name}: an empty table; give values or remove it")
            flat.update(_flatten(value, name, grids=grids))
        else:
            flat[name] = value
    return flat


def _grid(name: str, table: Mapping[str, Any]) -> tuple[tuple[Any, ...], bool]:
    unknown = set(table) - _GRID_KEYS
    if unknown:
        raise ValueError(f"axes.{name}: unknown grid key(s) {sorted(unknown)}; a grid is "
                         "{ start = ..., stop = ..., num = ..., scale = \"linear\" or \"log\" }")
    for key in ("start", "stop", "num"):
        if key not in table:
            raise ValueError(f"axes.{name}: a grid needs start, stop and num (missing {key})")
    start, stop, num, scale = table["start"], table["stop"], table["num"], table.get("scale", "linear")
    for key, value in (("start", start), ("stop", stop)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ValueError(f"axes.{name}.{key}: expected a finite number, got {value!r}")
    if isinstance(num, bool) or not isinstance(num, int) or num < 1:
        raise ValueError(f"axes.{name}.num: expected an integer >= 1 (an axis needs values), got {num!r}")
    if scale not in ("linear", "log"):
        raise ValueError(f"axes.{name}.scale: expected \"linear\" or \"log\", got {scale!r}")
    if scale == "log" and (start <= 0 or stop <= 0):
        raise ValueError(f"axes.{name}: a log grid needs start and stop > 0, got {start!r} and {stop!r}")
    if num == 1:
        points = [float(start)]
    elif scale == "log":
        ratio = math.log(stop / start) / (num - 1)
        points = [start * math.exp(ratio * k) for k in range(num)]
        points[-1] = float(stop)
    else:
        points = [start + (stop - start) * k / (num - 1) for k in range(num)]
    if isinstance(start, int) and isinstance(stop, int):
        # An integer grid stays integer when its points are (start = 64, stop = 256, num = 4); a field that
        # wants integers gets a clear message about the others.
        rounded = [round(point) for point in points]
        if all(abs(point - value) < 1e-9 * max(1, abs(value)) for point, value in zip(points, rounded, strict=True)):
            points = rounded
    return tuple(point if isinstance(point, int) else float(point) for point in points), scale == "log"


def _check_finite(name: str, value: Any) -> None:
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{name}: {value!r} is not a value (NaN and infinity are refused)")
    if isinstance(value, list):
        for item in value:
            _check_finite(name, item)


def _reserved_reason(experiment: Experiment, name: str) -> str | None:
    for key, reason in experiment.reserved.items():
        if name == key or name.startswith(key + "."):
            return reason
    return None


def parse_spec(data: Mapping[str, Any], *, source: str = "<dict>", base_dir: str | os.PathLike | None = None,
               max_cells: int = DEFAULT_MAX_CELLS) -> SweepSpec:
    """Validate a spec given as a dictionary (the parsed TOML) and build every cell's settings once.

    Args:
        data: the spec.
        source: name used in messages (the file path).
        base_dir: directory that a relative ``card_file`` is read from (default: the working directory).
        max_cells: refuse larger sweeps (the CLI's ``--max-cells``).

    Raises:
        ValueError: ``"<source>: <key>: <what was expected>"``.
    """
    try:
        return _parse(data, source, base_dir, max_cells)
    except ValueError as error:
        message = str(error)
        raise ValueError(message if message.startswith(f"{source}:") else f"{source}: {message}") from None


def _parse(data, source, base_dir, max_cells) -> SweepSpec:
    if not isinstance(data, Mapping):
        raise ValueError(f"a spec is a table of settings, got {type(data).__name__}")
    if "experiment" not in data:
        raise ValueError("experiment: missing; e.g. experiment = \"trng\"")
    name = data["experiment"]
    if not isinstance(name, str):
        raise ValueError(f"experiment: expected a string, got {name!r}")
    experiment = get_experiment(name)
    known = set(_TOP_LEVEL) | set(experiment.group_names)
    for key in data:
        if key not in known:
            raise ValueError(f"{key}: unknown key for experiment {name!r}; known: {', '.join(sorted(known))}")
    seed = data.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed: expected an integer >= 0, got {seed!r}")
    replicas = data.get("replicas", 1)
    if isinstance(replicas, bool) or not isinstance(replicas, int) or replicas < 1:
        raise ValueError(f"replicas: expected an integer >= 1, got {replicas!r}")
    description = data.get("description", "")
    if not isinstance(description, str):
        raise ValueError(f"description: expected a string, got {description!r}")

    card = None
    if "card_file" in data:
        card_file = data["card_file"]
        if not isinstance(card_file, str) or not card_file:
            raise ValueError(f"card_file: expected a path (string), got {card_file!r}")
        if "card" not in experiment.group_names:
            raise ValueError(f"card_file: experiment {name!r} does not use a device card")
        import devices

        path = pathlib.Path(base_dir or ".") / card_file
        card = devices.load_card(path).to_dict()

    fixed: dict[str, dict[str, Any]] = {}
    for group in experiment.group_names:
        if group not in data:
            continue
        if not isinstance(data[group], dict):
            raise ValueError(f"{group}: expected a table of fields ([{group}]), got {data[group]!r}")
        fixed[group] = _flatten(data[group], "", grids=False)
        for field, value in fixed[group].items():
            _check_finite(f"{group}.{field}", value)
            reason = _reserved_reason(experiment, f"{group}.{field}")
            if reason:
                raise ValueError(f"{group}.{field}: cannot be set in a sweep ({reason})")

    axes = []
    raw_axes = data.get("axes", {})
    if not isinstance(raw_axes, dict):
        raise ValueError(f"axes: expected a table ([axes]), got {raw_axes!r}")
    for axis_name, spec_value in _flatten(raw_axes, "", grids=True).items():
        key = f"axes.{axis_name}"
        group = axis_name.split(".", 1)[0]
        if group not in experiment.group_names or "." not in axis_name:
            raise ValueError(f"{key}: an axis is named <group>.<field> with group one of "
                             f"{', '.join(experiment.group_names)} (experiment {name!r})")
        reason = _reserved_reason(experiment, axis_name)
        if reason:
            raise ValueError(f"{key}: cannot be swept ({reason})")
        if axis_name.split(".", 1)[1] in fixed.get(group, {}):
            raise ValueError(f"{key}: also fixed in [{group}]; keep one of the two")
        if isinstance(spec_value, dict):
            values, log = _grid(axis_name, spec_value)
        elif isinstance(spec_value, list):
            if not spec_value:
                raise ValueError(f"{key}: an empty axis; give at least one value")
            values, log = tuple(spec_value), False
        else:
            raise ValueError(f"{key}: expected a list of values or a grid {{ start, stop, num }}, "
                             f"got {spec_value!r}")
        _check_finite(key, list(values))
        if len({json.dumps(value, sort_keys=True) for value in values}) != len(values):
            raise ValueError(f"{key}: repeats a value; use replicas for repeats")
        axes.append(Axis(axis_name, values, log))

    spec = SweepSpec(experiment=name, seed=seed, replicas=replicas, fixed=fixed, axes=tuple(axes), card=card,
                     source=source, description=description)
    if isinstance(max_cells, bool) or not isinstance(max_cells, int) or max_cells < 1:
        raise ValueError(f"max_cells: expected an integer >= 1, got {max_cells!r}")
    if spec.n_cells > max_cells:
        raise ValueError(f"{spec.n_cells} cells ({spec.n_points} grid points x {replicas} replicas) exceed the "
                         f"limit of {max_cells}; raise it with --max-cells {spec.n_cells} (max_cells=)")
    _validate_cells(spec)
    return spec


def _validate_cells(spec: SweepSpec) -> None:
    """Build every distinct combination once, so a bad value fails before any work (with the axis named).

    Each axis value is first checked alone (against the fixed settings) so the message names that axis; then
    every grid point is built, which catches combinations the library rejects.
    """
    from cim_emu.sweep.overrides import coerce_value, field_annotation

    experiment = get_experiment(spec.experiment)
    card = spec.base_card()
    where = f"{spec.source}: "
    base = experiment.build(card, spec.fixed, where, uses_card_file=spec.card is not None)
    for axis in spec.axes:
        # Name and type of every axis against the fixed settings first, so the message names the axis's key.
        key = f"axes.{axis.name}"
        annotation = field_annotation(base[axis.group], tuple(axis.field.split(".")), key)
        for value in axis.values:
            coerce_value(value, annotation, key)
        for value in axis.values:
            overrides = {group: dict(values) for group, values in spec.fixed.items()}
            overrides.setdefault(axis.group, {})[axis.field] = value
            experiment.build(card, overrides, where, uses_card_file=spec.card is not None)
    for cell in spec.cells()[::spec.replicas]:
        spec.build(cell)


def load_spec(path: str | os.PathLike, *, max_cells: int = DEFAULT_MAX_CELLS) -> SweepSpec:
    """Read and validate a TOML spec file.

    Raises:
        ValueError: naming the file and the key (or line and column for TOML syntax errors).
        OSError: when the file cannot be read.
    """
    path = pathlib.Path(path)
    with open(path, "rb") as handle:
        try:
            data = tomllib.load(handle)
        except tomllib.TOMLDecodeError as error:
            raise ValueError(f"{path}: not valid TOML: {error}") from None
    return parse_spec(data, source=str(path), base_dir=path.parent, max_cells=max_cells)
