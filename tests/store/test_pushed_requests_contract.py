"""Contract tests of the pushed authorization requests (RFC 9126) on every Store
implementation: taken once while unexpired, bound to what was stored, purged when expired."""

from __future__ import annotations

import asyncio

import pytest

from keystead.store.base import DuplicateError, Store
from keystead.store.pushed_requests import PushedRequest

pytestmark = pytest.mark.anyio


def pushed(n: str = "1", expires_at: int = 70) -> PushedRequest:
    params = {"client_id": "client-a", "scope": "openid", "state": "é"}
    return PushedRequest(n * 64, "client-a", params, 10, expires_at)


async def test_add_get_and_duplicates(store: Store) -> None:
    first = pushed()
    await store.pushed_requests.add(first)
    assert await store.pushed_requests.get(first.request_uri_hash) == first
    assert await store.pushed_requests.get("f" * 64) is None
    with pytest.raises(DuplicateError):
        await store.pushed_requests.add(first)


async def test_taken_once(store: Store) -> None:
    p = pushed()
    await store.pushed_requests.add(p)
    assert await store.pushed_requests.take("9" * 64, 20) is None
    results = await asyncio.gather(
        *(store.pushed_requests.take(p.request_uri_hash, 20) for _ in range(5))
    )
    taken = [r for r in results if r is not None]
    assert len(taken) == 1  # RFC 9126 §2.2: one-time use
    assert taken[0].params == p.params and taken[0].used_at == 20
    got = await store.pushed_requests.get(p.request_uri_hash)
    assert got is not None and got.used_at == 20


async def test_expiry_and_purge(store: Store) -> None:
    expired, live = pushed("1", expires_at=50), pushed("2", expires_at=200)
    await store.pushed_requests.add(expired)
    await store.pushed_requests.add(live)
    assert await store.pushed_requests.take(expired.request_uri_hash, 50) is None
    assert await store.pushed_requests.purge(51) == 1
    assert await store.pushed_requests.get(expired.request_uri_hash) is None
    assert await store.pushed_requests.get(live.request_uri_hash) is not None
