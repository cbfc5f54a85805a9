"""What a sweep cell can run: one file per experiment, each a thin adapter over the library.

An :class:`Experiment` names its setting groups (``card``, ``crossbar``, ``pulse``, ``energy``, ``options``),
how to build each group's base object for a cell, and a ``run(settings, stream)`` that calls the library and
returns the cell's scalar metrics. The sweep machinery (spec validation, grid, Dask, storage, plots) knows
nothing else about the experiments, and users can add their own with :func:`register_experiment`.
"""

from __future__ import annotations

import dataclasses
import importlib
import re
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["BuildContext", "Experiment", "Group", "experiment_names", "get_experiment", "register_experiment",
           "metric_name"]


@dataclasses.dataclass(frozen=True)
class BuildContext:
    """What a group's base factory may look at.

    Attributes:
        base_card: the spec's device card (``card_file``, or the shipped default) before overrides.
        built: the groups of this cell built so far (in the experiment's group order), name -> object.
        touched: the fully-qualified keys (``"pulse.voltage_V"``) this cell sets, fixed or swept.
        uses_card_file: whether the spec names a ``card_file`` (rather than using the shipped card).
    """

    base_card: Any
    built: Mapping[str, Any]
    touched: frozenset[str]
    uses_card_file: bool = False


@dataclasses.dataclass(frozen=True)
class Group:
    """A family of settings, addressed in a spec as ``<name>.<dotted field>``.

    Attributes:
        name: the prefix (``"card"``, ``"crossbar"``, ...).
        base: builds the group's base object (a frozen dataclass) before the cell's overrides.
        description: one line for the docs and for error messages.
    """

    name: str
    base: Callable[[BuildContext], Any]
    description: str


@dataclasses.dataclass(frozen=True)
class Experiment:
    """A sweepable experiment.

    Attributes:
        name: the spec's ``experiment = "..."``.
        description: one line.
        groups: its setting groups, in build order (a later group's base may depend on an earlier one).
        run: ``run(settings, stream) -> {metric: float}``; ``settings`` maps group name -> built object,
            ``stream`` is the cell's :class:`cim_emu.rng.SeedStream`. Runs on a worker.
        reserved: fully-qualified keys a spec may not set, with the reason (``"options.seed"``: the sweep
            owns the seed).
        check: optional cross-group validation ``check(settings, touched)`` raising ValueError; run on the
            client for every cell before any work.
        warm_up: optional ``warm_up()`` run once per worker before its first cell (imports, JIT compiles).
    """

    name: str
    description: str
    groups: tuple[Group, ...]
    run: Callable[[Mapping[str, Any], Any], Mapping[str, float]]
    reserved: Mapping[str, str] = dataclasses.field(default_factory=dict)
    check: Callable[[Mapping[str, Any], frozenset[str]], None] | None = None
    warm_up: Callable[[], None] | None = None

    @property
    def group_names(self) -> tuple[str, ...]:
        return tuple(group.name for group in self.groups)

    def build(self, base_card: Any, overrides: Mapping[str, Mapping[str, Any]], where: str, *,
              uses_card_file: bool = False) -> dict[str, Any]:
        """Every group's object for one cell: base, then the cell's overrides (group -> {dotted: value}).

        Raises:
            ValueError: naming the key, for an unknown field, a wrong type or a value the library rejects.
        """
        from cim_emu.sweep.overrides import apply_overrides

        touched = frozenset(f"{group}.{name}" for group, values in overrides.items() for name in values)
        built: dict[str, Any] = {}
        for group in self.groups:
            base = group.base(BuildContext(base_card=base_card, built=dict(built), touched=touched,
                                           uses_card_file=uses_card_file))
            built[group.name] = apply_overrides(base, overrides.get(group.name, {}), f"{where}{group.name}")
        if self.check is not None:
            self.check(built, touched)
        return built


_REGISTRY: dict[str, Experiment] = {}
# The shipped adapters, imported on first use so that `import cim_emu.sweep` stays light. classify joins
# when its library module exists (it is optional: an ImportError leaves it out).
_BUILTIN = {"trng": "trng", "regress": "regress", "bench": "bench", "generate": "generate", "classify": "classify"}


def register_experiment(experiment: Experiment) -> Experiment:
    """Make ``experiment`` available to specs by its name (replacing one of the same name).

    On a distributed cluster the workers must be able to import the module that registers it; on a
    ``LocalCluster(processes=False)`` the registration of the calling process is shared.
    """
    if not isinstance(experiment, Experiment):
        raise ValueError(f"register_experiment takes an Experiment, got {type(experiment).__name__}")
    _REGISTRY[experiment.name] = experiment
    return experiment


def _load_builtin(name: str) -> None:
    module = _BUILTIN.get(name)
    if module is None or name in _REGISTRY:
        return
    try:
        loaded = importlib.import_module(f"{__name__}.{module}")
    except ImportError:
        return  # an optional experiment whose library part is absent
    register_experiment(loaded.EXPERIMENT)


def get_experiment(name: str) -> Experiment:
    """The registered experiment ``name``.

    Raises:
        ValueError: listing the available experiments.
    """
    _load_builtin(name)
    if name not in _REGISTRY:
        raise ValueError(f"unknown experiment {name!r}; available: {', '.join(experiment_names())}")
    return _REGISTRY[name]


def experiment_names() -> list[str]:
    """Names of the experiments available here (shipped ones whose library part imports, and registered)."""
    for name in _BUILTIN:
        _load_builtin(name)
    return sorted(_REGISTRY)


def metric_name(*parts: str) -> str:
    """A metric column name: lower-case words joined by ``_`` (no dots, which mark setting names)."""
    text = "_".join(parts)
    return re.sub(r"[^0-9A-Za-z]+", "_", text).strip("_").lower()


def card_group() -> Group:
    """The device-card group shared by the experiments that simulate devices."""
    return Group("card", lambda context: context.base_card,
                 "device-card fields (devices.DeviceCard): data_bit.*, p_bit.*, endurance.*")
