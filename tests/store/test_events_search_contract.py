"""Contract test of ``EventStore.search`` on every Store implementation (the admin
console's audit log): by type (a name or its dotted prefix), by client or user (named in the
event or as its actor), by time, newest first, a page at a time by keyset."""

from __future__ import annotations

import pytest

from keystead.store.base import EventRecord, Store
from keystead.store.event_filter import EventFilter

pytestmark = pytest.mark.anyio

EVENTS = [
    EventRecord("e1", "client.created", 10, "c1", {"client_id": "app", "by_sub": "admin"}),
    EventRecord("e2", "client.secret_rotated", 20, "c2", {"client_id": "app"}),
    EventRecord("e3", "clients_other.x", 30, None, {"client_id": "app"}),
    EventRecord("e4", "session.ended", 40, "c4", {"sub": "alice", "by_client_id": "app"}),
    EventRecord("e5", "login.failed", 50, None, {"sub": "bob"}),
    EventRecord("e6", "keys.rotated", 60, "c6", {"by_sub": "admin", "kids": ["k"]}),
]


def ids(found: list[EventRecord]) -> list[str]:
    return [e.event_id for e in found]


async def test_search_filters_newest_first_and_pages(store: Store) -> None:
    await store.events.add_many(EVENTS)
    search = store.events.search
    assert ids(await search(EventFilter(), 10)) == ["e6", "e5", "e4", "e3", "e2", "e1"]
    assert ids(await search(EventFilter(name="client"), 10)) == ["e2", "e1"]  # not clients_*
    assert ids(await search(EventFilter(name="client.created"), 10)) == ["e1"]
    assert ids(await search(EventFilter(client_id="app"), 10)) == ["e4", "e3", "e2", "e1"]
    assert ids(await search(EventFilter(sub="admin"), 10)) == ["e6", "e1"]
    assert ids(await search(EventFilter(sub="alice"), 10)) == ["e4"]
    assert ids(await search(EventFilter(since=20, until=50), 10)) == ["e4", "e3", "e2"]
    both = EventFilter(name="client", client_id="app", sub="admin")
    assert ids(await search(both, 10)) == ["e1"]
    first = await search(EventFilter(), 2)
    assert ids(first) == ["e6", "e5"]
    after = EventFilter(before=(first[-1].created_at, first[-1].event_id))
    assert ids(await search(after, 2)) == ["e4", "e3"]
    assert await search(EventFilter(name="nothing"), 10) == []
    assert (await search(EventFilter(name="keys"), 1))[0].data == {"by_sub": "admin", "kids": ["k"]}
