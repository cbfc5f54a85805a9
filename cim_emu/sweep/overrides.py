"""Dotted-name overrides of frozen configuration dataclasses (``p_bit.sigma_v50_device_V = 0.03``).

A sweep names every setting by its path through nested frozen dataclasses: the device card
(``p_bit.sigma_v50_device_V``), the crossbar configuration (``adc_bits``, or a field of a nested object
once the configuration is composed of sub-objects), an experiment's options. This module resolves such a
path against a base object, converts a TOML value to the field's annotated type (strictly: no silent
float -> int, no bool for a number, no NaN or infinity), and rebuilds the frozen objects bottom-up with
:func:`dataclasses.replace`, so every ``__post_init__`` check of the library still runs.
"""

from __future__ import annotations

import dataclasses
import enum
import math
import types
import typing
from collections.abc import Mapping
from typing import Any

__all__ = ["apply_overrides", "coerce_value", "describe_fields", "field_annotation"]

# TOML has no null: the string "none" selects None where a field allows it (an ideal converter).
NONE_WORD = "none"


def _type_hints(cls: type) -> dict[str, Any]:
    try:
        return typing.get_type_hints(cls)
    except Exception:  # an unresolvable forward reference: fall back on the raw annotations
        return {field.name: field.type for field in dataclasses.fields(cls)}


def describe_fields(obj: Any) -> list[str]:
    """Names of the settable fields of a dataclass instance (init fields), for error messages."""
    return sorted(field.name for field in dataclasses.fields(obj) if field.init)


def _dataclass_options(annotation: Any) -> list[type]:
    """The dataclass types an annotation admits (``FirstOrderIRDrop | None`` -> [FirstOrderIRDrop])."""
    candidates = typing.get_args(annotation) if _is_union(annotation) else (annotation,)
    return [candidate for candidate in candidates
            if isinstance(candidate, type) and dataclasses.is_dataclass(candidate)]


def _is_union(annotation: Any) -> bool:
    return typing.get_origin(annotation) is typing.Union or (
        hasattr(types, "UnionType") and isinstance(annotation, types.UnionType))


def _child(current: Any, name: str, annotation: Any, where: str) -> Any:
    """The object below ``current.name`` to descend into: its value, or a default instance where the field is
    None and admits exactly one dataclass (``crossbar.ir_drop.wire_resistance_per_cell_ohm`` switches IR drop
    on with that resistance)."""
    value = getattr(current, name)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return value
    options = _dataclass_options(annotation)
    if value is None and len(options) == 1:
        return options[0]()
    raise ValueError(f"{where}: {name!r} is a value, not a section; remove what follows it")


def field_annotation(obj: Any, path: tuple[str, ...], where: str) -> Any:
    """The annotated type of the field at ``path`` below the dataclass instance ``obj``.

    A dataclass's init fields are addressed by name; a read-only property with a return annotation (the flat
    names that a configuration keeps for compatibility, e.g. ``CrossbarConfig.adc_bits`` for ``adc.bits``)
    can end a path when the class's constructor takes it as a keyword.

    Raises:
        ValueError: naming ``where`` and the known fields, when a name on the path does not exist or
            the path ends on a section instead of a value.
    """
    current = obj
    for depth, name in enumerate(path):
        last = depth == len(path) - 1
        fields = {field.name: field for field in dataclasses.fields(current) if field.init}
        hints = _type_hints(type(current))
        if name not in fields:
            prop = getattr(type(current), name, None)
            if last and isinstance(prop, property) and "return" in _type_hints_of(prop.fget):
                return _type_hints_of(prop.fget)["return"]
            raise ValueError(f"{where}: unknown field {name!r}; known: {', '.join(sorted(fields))}")
        annotation = hints.get(name, fields[name].type)
        if last:
            return annotation
        current = _child(current, name, annotation, where)
    raise ValueError(f"{where}: an empty name")


def _type_hints_of(function) -> dict[str, Any]:
    try:
        return typing.get_type_hints(function)
    except Exception:
        return {}


def _build_part(value: Any, options: list[type], where: str) -> Any:
    """A configuration part from its class name (``"PerCellReadNoise"``) or a table of its fields (with
    ``kind = "<class name>"`` where the field admits several classes)."""
    names = {option.__name__: option for option in options}
    if isinstance(value, str):
        if value not in names:
            raise ValueError(f"{where}: expected one of {sorted(names)} (or \"none\" where allowed), got {value!r}")
        return names[value]()
    if isinstance(value, dict):
        fields = dict(value)
        kind = fields.pop("kind", None)
        if kind is None and len(options) > 1:
            raise ValueError(f"{where}: name the part with kind = one of {sorted(names)}")
        part_class = options[0] if kind is None else names.get(kind)
        if part_class is None:
            raise ValueError(f"{where}.kind: expected one of {sorted(names)}, got {kind!r}")
        return apply_overrides(part_class(), fields, where)
    raise ValueError(f"{where}: expected one of {sorted(names)} or a table of fields, got {value!r}")


def _is_none_type(candidate: Any) -> bool:
    return candidate is type(None)


def coerce_value(value: Any, annotation: Any, where: str) -> Any:
    """Convert a TOML value to ``annotation`` or raise a ValueError naming ``where`` and the expected type.

    Accepted: ``float`` from an integer or float (finite only); ``int`` from an integer only; ``bool`` from a
    boolean only; ``str``; an ``Enum`` from one of its values or names; ``tuple[T, ...]`` from a list; ``None``
    from the string ``"none"`` where the annotation allows None.
    """
    origin = typing.get_origin(annotation)
    options = _dataclass_options(annotation)
    arguments = typing.get_args(annotation) if _is_union(annotation) else (annotation,)
    if options and all(_is_none_type(argument) or argument in options for argument in arguments):
        # A part of a configuration (an ADC, a read-noise model, p_bit of a card): by name or by a table.
        if value == NONE_WORD and any(map(_is_none_type, arguments)):
            return None
        if isinstance(value, (str, dict)):
            return _build_part(value, options, where)
        raise ValueError(f"{where}: a section; set one of its fields "
                         f"({', '.join(sorted(f.name for f in dataclasses.fields(options[0]) if f.init))}) with a "
                         f"dotted name, or give {' or '.join(repr(o.__name__) for o in options)} or a table")
    if _is_union(annotation):
        arguments = typing.get_args(annotation)
        if any(_is_none_type(argument) for argument in arguments) and value == NONE_WORD:
            return None
        errors = []
        # Try the concrete types in a fixed order: bool before numbers so that True is never read as 1.
        for argument in arguments:
            if _is_none_type(argument):
                continue
            try:
                return coerce_value(value, argument, where)
            except ValueError as error:
                errors.append(str(error).split(": expected ", 1)[-1])
        expected = " or ".join(errors + (['"none"'] if any(map(_is_none_type, arguments)) else []))
        raise ValueError(f"{where}: expected {expected}")
    if annotation is Any:
        raise ValueError(f"{where}: this field has no declared type and cannot be set from a spec")
    if annotation is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"{where}: expected a number, got {value!r}")
        if not math.isfinite(value):
            raise ValueError(f"{where}: expected a finite number, got {value!r} (NaN and infinity are not "
                             "physical values)")
        return float(value)
    if annotation is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{where}: expected an integer, got {value!r}")
        return value
    if annotation is bool:
        if not isinstance(value, bool):
            raise ValueError(f"{where}: expected true or false, got {value!r}")
        return value
    if annotation is str:
        if not isinstance(value, str):
            raise ValueError(f"{where}: expected a string, got {value!r}")
        return value
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        for member in annotation:
            if value == member.value or value == member.name:
                return member
        raise ValueError(f"{where}: expected one of {[member.value for member in annotation]}, got {value!r}")
    if origin is tuple:
        arguments = typing.get_args(annotation)
        if not isinstance(value, list):
            raise ValueError(f"{where}: expected a list, got {value!r}")
        if len(arguments) == 2 and arguments[1] is Ellipsis:
            return tuple(coerce_value(item, arguments[0], f"{where}[{i}]") for i, item in enumerate(value))
        if len(arguments) != len(value):
            raise ValueError(f"{where}: expected a list of {len(arguments)} values, got {value!r}")
        return tuple(coerce_value(item, argument, f"{where}[{i}]")
                     for i, (item, argument) in enumerate(zip(arguments, value, strict=True)))
    raise ValueError(f"{where}: a field of type {annotation!r} cannot be set from a spec")


class _Tree(dict):
    """Pending changes below one object: field name -> value or a nested _Tree."""


def _rebuild(obj: Any, tree: _Tree) -> Any:
    hints = _type_hints(type(obj))
    changes = {name: _rebuild(_child(obj, name, hints.get(name), name), change) if isinstance(change, _Tree)
               else change for name, change in tree.items()}
    return dataclasses.replace(obj, **changes)


def apply_overrides(obj: Any, overrides: Mapping[str, Any], where: str) -> Any:
    """``obj`` with every ``dotted.name -> value`` of ``overrides`` set (values converted and checked).

    Args:
        obj: a frozen dataclass instance (the base: a device card, a crossbar configuration, options).
        overrides: dotted field names relative to ``obj`` and raw (TOML) values.
        where: a prefix for messages, e.g. ``"spec.toml: card"``.

    Returns:
        A new instance; ``obj`` is unchanged. All changes to one nested object are made in a single
        :func:`dataclasses.replace`, so its cross-field checks see the final values together.

    Raises:
        ValueError: naming the dotted key, for an unknown field, a wrong type or a value the class rejects.
    """
    tree = _Tree()
    for name, raw in overrides.items():
        key = f"{where}.{name}"
        path = tuple(name.split("."))
        value = coerce_value(raw, field_annotation(obj, path, key), key)
        node = tree
        for part in path[:-1]:
            node = node.setdefault(part, _Tree())
        node[path[-1]] = value
    if not tree:
        return obj
    try:
        return _rebuild(obj, tree)
    except (ValueError, TypeError) as error:
        keys = ", ".join(f"{where}.{name} = {raw!r}" for name, raw in overrides.items())
        raise ValueError(f"{keys}: {error}") from None
