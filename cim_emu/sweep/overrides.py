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


def field_annotation(obj: Any, path: tuple[str, ...], where: str) -> Any:
    """The annotated type of the field at ``path`` below the dataclass instance ``obj``.

    Raises:
        ValueError: naming ``where`` and the known fields, when a name on the path does not exist or
            the path ends on a section instead of a value.
    """
    current = obj
    for depth, name in enumerate(path):
        if not dataclasses.is_dataclass(current) or isinstance(current, type):
            done = ".".join(path[:depth])
            raise ValueError(f"{where}: {done!r} is a value, not a section; remove '.{'.'.join(path[depth:])}'")
        fields = {field.name: field for field in dataclasses.fields(current) if field.init}
        if name not in fields:
            raise ValueError(f"{where}: unknown field {name!r}; known: {', '.join(sorted(fields))}")
        annotation = _type_hints(type(current)).get(name, fields[name].type)
        value = getattr(current, name)
        if depth == len(path) - 1:
            if dataclasses.is_dataclass(value) and not isinstance(value, type):
                raise ValueError(f"{where}: {name!r} is a section; set one of its fields "
                                 f"({', '.join(describe_fields(value))}) with a dotted name")
            return annotation
        current = value
    raise ValueError(f"{where}: an empty name")


def _is_none_type(candidate: Any) -> bool:
    return candidate is type(None)


def coerce_value(value: Any, annotation: Any, where: str) -> Any:
    """Convert a TOML value to ``annotation`` or raise a ValueError naming ``where`` and the expected type.

    Accepted: ``float`` from an integer or float (finite only); ``int`` from an integer only; ``bool`` from a
    boolean only; ``str``; an ``Enum`` from one of its values or names; ``tuple[T, ...]`` from a list; ``None``
    from the string ``"none"`` where the annotation allows None.
    """
    origin = typing.get_origin(annotation)
    if origin is typing.Union or (hasattr(types, "UnionType") and isinstance(annotation, types.UnionType)):
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
    changes = {name: _rebuild(getattr(obj, name), change) if isinstance(change, _Tree) else change
               for name, change in tree.items()}
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
