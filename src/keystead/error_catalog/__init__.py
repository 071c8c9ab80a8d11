"""The error catalog's data: one row per error keystead can return, in one module per area.

A row is ``(id, error, status, title, causes, fixes)`` with, for an error shown to a person,
``(what happened, what to do)`` last: the fields of ``errors.CatalogEntry``, in its order.
``errors.py`` builds ``CATALOG`` from the areas' ``ROWS`` in a fixed order, which is the order
of docs/errors.md and of the /errors index. This package holds data only and imports nothing of
keystead's.
"""

from __future__ import annotations

from typing import TypeAlias

Row: TypeAlias = (
    tuple[str, str, int, str, tuple[str, ...], tuple[str, ...]]
    | tuple[str, str, int, str, tuple[str, ...], tuple[str, ...], tuple[str, str]]
)
