"""Dotted override keys over nested frozen dataclasses: how :mod:`nar_slp.config`
resolves ``"pt.train.epochs"`` / ``pt__train__epochs`` to a field, checks a value
against the field's annotation and applies changes to nested sections.

Generic: nothing here knows the configuration's sections.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable
from dataclasses import fields, replace
from typing import Any


def type_ok(value: Any, annotation: Any) -> bool:
    """isinstance against a (possibly generic/union) annotation; bool is not an int."""
    origin = typing.get_origin(annotation)
    if annotation is Any:
        return True
    if origin in (typing.Union, types.UnionType):
        return any(type_ok(value, a) for a in typing.get_args(annotation))
    if annotation is type(None):
        return value is None
    if origin is tuple:
        args = typing.get_args(annotation)
        if not isinstance(value, (tuple, list)):
            return False
        if len(args) == 2 and args[1] is Ellipsis:
            return all(type_ok(v, args[0]) for v in value)
        return len(value) == len(args) and all(
            type_ok(v, a) for v, a in zip(value, args, strict=True)
        )
    if annotation is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if annotation is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, annotation)


def coerce(value: Any, annotation: Any) -> Any:
    if typing.get_origin(annotation) is tuple and isinstance(value, list):
        return tuple(value)
    if annotation is float and isinstance(value, int):
        return float(value)
    return value


def field_types(obj: Any) -> dict[str, Any]:
    hints = typing.get_type_hints(type(obj))
    return {f.name: hints[f.name] for f in fields(obj)}


def leaf_keys(obj: Any, prefix: str) -> list[str]:
    """``prefix.field`` for every field of ``obj``, nested dataclasses expanded."""
    keys = []
    for name in field_types(obj):
        value = getattr(obj, name)
        if dataclasses.is_dataclass(value):
            keys += leaf_keys(value, f"{prefix}.{name}")
        else:
            keys.append(f"{prefix}.{name}")
    return keys


def resolve_key(
    cfg: Any, key: str, sections: tuple[str, ...], all_keys: Callable[[], list[str]]
) -> tuple[list[str], str, Any]:
    """The dataclass path, field name and annotation of override ``key``
    (``"pt.train.epochs"`` or ``pt__train__epochs``), or a KeyError saying what is
    valid."""
    dotted = key.replace("__", ".")
    section, *path = dotted.split(".")
    if section not in sections or not path:
        raise KeyError(
            f"unknown config key {key!r}; valid keys: {', '.join(all_keys())}"
        )
    obj = getattr(cfg, section)
    parents = [section]
    for i, name in enumerate(path):
        types_ = field_types(obj)
        value = getattr(obj, name, None)
        last = i == len(path) - 1
        if (
            name not in types_
            or (last and dataclasses.is_dataclass(value))
            or (not last and not dataclasses.is_dataclass(value))
        ):
            where = ".".join(parents)
            raise KeyError(
                f"unknown config key {key!r}; valid keys in {where!r}: "
                + ", ".join(leaf_keys(obj, where))
            )
        if last:
            return parents, name, types_[name]
        obj = value
        parents.append(name)
    raise AssertionError("unreachable")


def replace_path(obj: Any, path: list[str], changes: dict[str, Any]) -> Any:
    """``obj`` with ``changes`` applied to the nested dataclass at ``path``."""
    if not path:
        return replace(obj, **changes)
    head, rest = path[0], path[1:]
    return replace(obj, **{head: replace_path(getattr(obj, head), rest, changes)})


def apply_changes(obj: Any, changes: dict[str, Any]) -> Any:
    """``obj`` with ``changes``, whose values for nested dataclass fields may be
    dicts of their own changes (``{"train": {"epochs": 2}}``)."""
    flat = {}
    for name, value in changes.items():
        current = getattr(obj, name)
        if dataclasses.is_dataclass(current) and isinstance(value, dict):
            value = apply_changes(current, value)
        flat[name] = value
    return replace(obj, **flat)


def flatten(d: dict[str, Any], prefix: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in d.items():
        if isinstance(value, dict):
            out.update(flatten(value, f"{prefix}.{name}"))
        else:
            out[f"{prefix}.{name}"] = value
    return out
