"""Conversions between rows of the tables of ``models.py`` (as Core reads and writes them) and
the dataclasses of ``store/base.py``.

Column names equal field names, so the conversion is by name: a dataclass field without a
column fails loudly (no such key or column) instead of being dropped.
JSON arrays are tuples on the dataclass side, at every depth (``Api.scopes`` is a tuple of
``(name, description)`` tuples). JSON objects (``Client.extra``, ``StoredKey.public_jwk``,
``EventRecord.data``) are kept verbatim: a list inside a dict stays a list.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
from typing import Any, TypeVar

T = TypeVar("T")


def _to_json(value: Any) -> Any:
    """A dataclass value as a column value: tuples become lists (nested ones too)."""
    if isinstance(value, tuple | list):
        return [_to_json(item) for item in value]
    if isinstance(value, dict):
        return copy.deepcopy(value)
    return value


def _from_json(value: Any) -> Any:
    """A column value as a dataclass value: lists become tuples (nested ones too)."""
    if isinstance(value, list):
        return tuple(_from_json(item) for item in value)
    return value


@functools.cache
def _field_names(cls: type) -> tuple[str, ...]:
    fields = getattr(cls, "_fields", None)  # a named tuple's
    if fields is not None:
        return tuple(fields)
    return tuple(f.name for f in dataclasses.fields(cls))


def from_mapping(values: Any, cls: type[T]) -> T:
    """Build ``cls`` from anything indexable by field name (a row mapping)."""
    return cls(**{name: _from_json(values[name]) for name in _field_names(cls)})


@functools.cache
def _positions(cls: type, columns: tuple[str, ...]) -> tuple[int, ...]:
    return tuple(columns.index(name) for name in _field_names(cls))


def from_values(values: Any, cls: type[T], columns: tuple[str, ...], offset: int = 0) -> T:
    """Build ``cls`` from a row by position: ``columns`` names the row's columns from
    ``offset`` on (a row of two tables holds the second one's at an offset)."""
    row = [values[offset + i] for i in _positions(cls, columns)]
    for i, value in enumerate(row):
        if type(value) is list:  # JSON arrays only; everything else is taken as it is
            row[i] = _from_json(value)
    return cls(*row)


def to_values(obj: Any, *, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    """Column values of a dataclass (fields in ``skip`` left out: an UPDATE's keys)."""
    values = {name: getattr(obj, name) for name in _field_names(type(obj)) if name not in skip}
    for name, value in values.items():
        if isinstance(value, tuple | list | dict):  # JSON columns: copied, tuples as lists
            values[name] = _to_json(value)
    return values
