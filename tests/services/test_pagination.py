"""Keyset pagination of admin listings."""

from __future__ import annotations

import pytest

from keystead.services.pagination import CursorError, paginate


def test_pages_cover_everything_once() -> None:
    items = [(t, f"id{t}") for t in (5, 1, 3, 3, 2)]
    seen, cursor = [], None
    while True:
        page = paginate(items, lambda i: i, 2, cursor)
        seen += page.items
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == sorted(items)


def test_an_item_deleted_between_pages_does_not_shift_the_next_page() -> None:
    items = [(1, "a"), (2, "b"), (3, "c"), (4, "d")]
    first = paginate(items, lambda i: i, 2, None)
    items.remove((1, "a"))
    assert paginate(items, lambda i: i, 2, first.next_cursor).items == [(3, "c"), (4, "d")]


@pytest.mark.parametrize(("limit", "cursor"), [(0, None), (201, None), (10, "%%%"), (10, "e30")])
def test_bad_parameters(limit: int, cursor: str | None) -> None:
    with pytest.raises(CursorError):
        paginate([(1, "a")], lambda i: i, limit, cursor)
