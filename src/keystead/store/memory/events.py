"""``EventStore`` in memory."""

from __future__ import annotations

import copy
from collections.abc import Sequence

from keystead.store.base import EventRecord
from keystead.store.event_filter import EventFilter


class MemoryEventStore:
    def __init__(self) -> None:
        self._events: list[EventRecord] = []

    async def add_many(self, events: Sequence[EventRecord]) -> None:
        self._events.extend(copy.deepcopy(list(events)))

    async def by_correlation_id(self, correlation_id: str) -> list[EventRecord]:
        found = [e for e in self._events if e.correlation_id == correlation_id]
        return sorted(found, key=lambda e: (e.created_at, e.event_id))

    async def recent(self, limit: int) -> list[EventRecord]:
        ordered = sorted(self._events, key=lambda e: (e.created_at, e.event_id), reverse=True)
        return ordered[:limit]

    async def about(self, sub: str, limit: int) -> list[EventRecord]:
        return [e for e in await self.recent(len(self._events)) if e.data.get("sub") == sub][:limit]

    async def search(self, f: EventFilter, limit: int) -> list[EventRecord]:
        ordered = await self.recent(len(self._events))
        return [e for e in ordered if f.keeps(e.name, e.created_at, e.event_id, e.data)][:limit]

    async def purge(self, before: int) -> int:
        kept = [e for e in self._events if e.created_at >= before]
        removed = len(self._events) - len(kept)
        self._events = kept
        return removed
