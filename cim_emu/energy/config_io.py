"""Read and write :class:`EnergyConfig` as JSON.

A file overrides the defaults: every section is optional and every field inside it too, e.g.::

    {"write": {"pulse_width_s": 1.0e-9}, "array": {"n_rows": 256, "n_columns": 256}}

``ex_situ_designs`` is the full list of designs to compare; an entry whose ``name`` is one of the
default designs starts from that design, a new name must give every required field
(``n_sense_amplifiers``, ``sense_amplifier.input_pair_area_m2``, ``wire_length_m``). Unknown keys,
wrong types and physically impossible values (negative capacitance, a zero cycle time) raise
``ValueError`` naming the file, the key path and the fix.
"""

from __future__ import annotations

import dataclasses
import json
import os
import types
import typing
from collections.abc import Mapping

from cim_emu.energy.circuit import EnergyConfig, ExSituDesign, default_ex_situ_designs

__all__ = ["energy_config_from_dict", "energy_config_to_dict", "load_energy_config", "save_energy_config"]


class _ConfigError(ValueError):
    pass


def _is_dataclass_type(candidate: object) -> bool:
    return isinstance(candidate, type) and dataclasses.is_dataclass(candidate)


def _convert(annotation: object, value: object, base: object, where: str) -> object:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        options = [option for option in typing.get_args(annotation) if option is not type(None)]
        if value is None:
            return None
        return _convert(options[0], value, base, where)
    if annotation is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise _ConfigError(f"{where}: expected a number, got {value!r}")
        return float(value)
    if annotation is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise _ConfigError(f"{where}: expected an integer, got {value!r}")
        return value
    if annotation is str:
        if not isinstance(value, str):
            raise _ConfigError(f"{where}: expected a string, got {value!r}")
        return value
    if _is_dataclass_type(annotation):
        return _build(annotation, value, base if isinstance(base, annotation) else None, where)
    if origin is tuple:
        return _designs(value, where)
    raise _ConfigError(f"{where}: unsupported field type {annotation!r}")  # pragma: no cover


def _build(cls: type, data: object, base: object | None, where: str) -> object:
    if not isinstance(data, Mapping):
        raise _ConfigError(f"{where}: expected a JSON object for {cls.__name__}, got {type(data).__name__}")
    hints = typing.get_type_hints(cls)
    names = [field.name for field in dataclasses.fields(cls)]
    unknown = sorted(set(data) - set(names))
    if unknown:
        raise _ConfigError(f"{where}: unknown key(s) {unknown} for {cls.__name__}; known keys: {names}")
    values = {
        name: _convert(hints[name], value, getattr(base, name) if base is not None else None, f"{where}.{name}")
        for name, value in data.items()
    }
    try:
        if base is not None:
            return dataclasses.replace(base, **values)
        required = [
            field.name
            for field in dataclasses.fields(cls)
            if field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING
        ]
        missing = [name for name in required if name not in values]
        if missing:
            raise _ConfigError(f"{where}: missing required key(s) {missing} for {cls.__name__}")
        return cls(**values)
    except _ConfigError:
        raise
    except ValueError as error:
        raise _ConfigError(f"{where}: {error}") from None


def _designs(value: object, where: str) -> tuple[ExSituDesign, ...]:
    if not isinstance(value, list):
        raise _ConfigError(f"{where}: expected a list of ex-situ designs, got {type(value).__name__}")
    defaults = {design.name: design for design in default_ex_situ_designs()}
    designs = []
    for index, entry in enumerate(value):
        label = f"{where}[{index}]"
        if not isinstance(entry, Mapping) or "name" not in entry:
            raise _ConfigError(f"{label}: each ex-situ design is an object with a 'name'")
        designs.append(_build(ExSituDesign, entry, defaults.get(entry["name"]), label))
    return tuple(designs)


def energy_config_from_dict(data: Mapping, *, source: str = "energy config") -> EnergyConfig:
    """Build a configuration from a (JSON-like) mapping of overrides to the defaults.

    Args:
        data: sections and fields to override; see the module docstring.
        source: how errors name the origin (a file name).

    Raises:
        ValueError: unknown key, wrong type, missing required field or an invalid value; the message
            names ``source``, the key path and what is expected.
    """
    try:
        return _build(EnergyConfig, data, EnergyConfig(), "config")
    except ValueError as error:
        raise ValueError(f"{source}: {error}") from None


def energy_config_to_dict(config: EnergyConfig) -> dict:
    """Every field of ``config`` as a JSON-ready dictionary (loads back to an equal config)."""
    return json.loads(json.dumps(dataclasses.asdict(config)))


def load_energy_config(path: str | os.PathLike) -> EnergyConfig:
    """Read a JSON configuration file (overrides of the defaults)."""
    path = os.fspath(path)
    with open(path, encoding="utf-8") as handle:
        try:
            data = json.load(handle)
        except json.JSONDecodeError as error:
            raise ValueError(
                f"{path}: not valid JSON ({error.msg} at line {error.lineno}, column {error.colno})"
            ) from None
    return energy_config_from_dict(data, source=path)


def save_energy_config(config: EnergyConfig, path: str | os.PathLike) -> None:
    """Write every field of ``config`` to ``path`` as JSON (atomically)."""
    from devices import atomic_write  # torch-heavy import, only when writing

    with atomic_write(path, "w", encoding="utf-8") as handle:
        handle.write(json.dumps(energy_config_to_dict(config), indent=2) + "\n")
