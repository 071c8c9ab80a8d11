"""Keyset pagination for admin listings: ``limit`` items after an opaque ``cursor``.

Every store lists in a stable order ((created_at, id) for clients, users and APIs); the
cursor is the position of the last item returned, so pages do not shift when items are added
or deleted between requests.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")
Position = tuple[int, str]

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


class CursorError(ValueError):
    """A cursor or limit that cannot be used."""


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


def encode_cursor(position: Position) -> str:
    raw = json.dumps(list(position), separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def decode_cursor(cursor: str) -> Position:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        created_at, ident = json.loads(raw)
    except (binascii.Error, ValueError, TypeError):
        raise CursorError("cursor is not one this API returned.") from None
    if not isinstance(created_at, int) or not isinstance(ident, str):
        raise CursorError("cursor is not one this API returned.")
    return created_at, ident


# Reads the items after a position (None: from the start), at most ``limit`` of them, in
# position order: a store's ``list(after, limit)`` (the database pages, not the service).
Fetch = Callable[[Position | None, int], Awaitable[Sequence[T]]]


def _check_limit(limit: int) -> None:
    if not 1 <= limit <= MAX_LIMIT:
        raise CursorError(f"limit must be between 1 and {MAX_LIMIT}.")


async def page_of(
    fetch: Fetch[T], position: Callable[[T], Position], limit: int, cursor: str | None
) -> Page[T]:
    """The page after ``cursor``, read by ``fetch``: one more item than the page tells
    whether another page follows."""
    _check_limit(limit)
    after = None if cursor is None else decode_cursor(cursor)
    found = list(await fetch(after, limit + 1))
    page = found[:limit]
    return Page(page, encode_cursor(position(page[-1])) if len(found) > limit and page else None)


def paginate(
    items: Sequence[T], position: Callable[[T], Position], limit: int, cursor: str | None
) -> Page[T]:
    """``items`` sorted by ``position``; the page after ``cursor`` (small listings read
    whole: keys, APIs)."""
    _check_limit(limit)
    ordered = sorted(items, key=position)
    if cursor is not None:
        after = decode_cursor(cursor)
        ordered = [item for item in ordered if position(item) > after]
    page = ordered[:limit]
    more = len(ordered) > limit
    return Page(page, encode_cursor(position(page[-1])) if more and page else None)
