"""Conversions between the ORM rows of ``models.py`` and the dataclasses of ``store/base.py``.

Column names equal field names, so the conversion is by name: a dataclass field without a
column fails loudly (``TypeError`` from the row constructor) instead of being dropped.
JSON arrays are tuples on the dataclass side.
"""

from __future__ import annotations

import copy
import dataclasses
from typing import Any, TypeVar

from keystead.store.sql.models import Base

T = TypeVar("T")
R = TypeVar("R", bound=Base)


def to_row(obj: Any, row_type: type[R]) -> R:
    values: dict[str, Any] = {}
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        if isinstance(value, tuple):
            value = list(value)
        elif isinstance(value, dict):
            value = copy.deepcopy(value)
        values[f.name] = value
    return row_type(**values)


def from_mapping(values: Any, cls: type[T]) -> T:
    """Build ``cls`` from anything indexable by field name (a row mapping)."""
    kwargs: dict[str, Any] = {}
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        value = values[f.name]
        kwargs[f.name] = tuple(value) if isinstance(value, list) else value
    return cls(**kwargs)


def from_row(row: Base, cls: type[T]) -> T:
    kwargs: dict[str, Any] = {}
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        value = getattr(row, f.name)
        kwargs[f.name] = tuple(value) if isinstance(value, list) else value
    return cls(**kwargs)
