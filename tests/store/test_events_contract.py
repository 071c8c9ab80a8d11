"""Contract tests for the events store (every Store implementation)."""

from __future__ import annotations

import pytest

from keystead.store.base import EventRecord, Store

pytestmark = pytest.mark.anyio


def ev(event_id: str, created_at: int, cid: str | None = "cid-1") -> EventRecord:
    return EventRecord(event_id, "request.refused", created_at, cid, {"catalog_id": "code-unknown"})


async def test_events_by_correlation_id_in_order(store: Store) -> None:
    await store.events.add_many([ev("b", 20), ev("a", 10), ev("c", 15, "other")])
    found = await store.events.by_correlation_id("cid-1")
    assert [e.event_id for e in found] == ["a", "b"]
    assert found[0].data == {"catalog_id": "code-unknown"}
    assert await store.events.by_correlation_id("nope") == []


async def test_events_recent_newest_first(store: Store) -> None:
    await store.events.add_many([ev("a", 10), ev("b", 30), ev("c", 20)])
    assert [e.event_id for e in await store.events.recent(2)] == ["b", "c"]


async def test_events_purge_before(store: Store) -> None:
    await store.events.add_many([ev("a", 10), ev("b", 20), ev("c", 30)])
    assert await store.events.purge(20) == 1
    assert [e.event_id for e in await store.events.recent(10)] == ["c", "b"]
    await store.events.add_many([])
