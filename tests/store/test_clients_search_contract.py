"""Contract test of ``ClientStore.list(search=...)`` on every Store implementation: the
database filters on client_id or name, case-insensitively, with LIKE's wildcards taken as
typed, and pages the matches by keyset like the plain list (the admin console's search)."""

from __future__ import annotations

import pytest

from keystead.store.base import Client, Store

pytestmark = pytest.mark.anyio


def client(client_id: str, name: str, created_at: int) -> Client:
    return Client(
        client_id=client_id,
        client_name=name,
        redirect_uris=("https://app.example/cb",),
        grant_types=("authorization_code",),
        response_types=("code",),
        scope="openid",
        token_endpoint_auth_method="none",
        created_at=created_at,
    )


async def test_search_filters_and_pages(store: Store) -> None:
    rows = [
        client("shop-1", "Shop Front", 1),
        client("x2", "Back office", 2),
        client("x3", "SHOPPING list", 3),
        client("x4", "100% fun", 4),
        client("x5", "100 fun", 5),
        client("x6", "under_score", 6),
        client("x7", "underXscore", 7),
    ]
    for row in rows:
        await store.clients.add(row)
    ids = [c.client_id for c in await store.clients.list(search="shop")]
    assert ids == ["shop-1", "x3"]
    assert [c.client_id for c in await store.clients.list(search="X2")] == ["x2"]
    # LIKE's wildcards are searched as typed: % and _ match themselves only.
    assert [c.client_id for c in await store.clients.list(search="100%")] == ["x4"]
    assert [c.client_id for c in await store.clients.list(search="under_")] == ["x6"]
    first = await store.clients.list(None, 1, search="shop")
    assert [c.client_id for c in first] == ["shop-1"]
    after = (first[-1].created_at, first[-1].client_id)
    assert [c.client_id for c in await store.clients.list(after, 5, search="shop")] == ["x3"]
    assert await store.clients.list(search="nothing like it") == []
    assert len(await store.clients.list(search="")) == len(rows)  # empty: no filter
