"""``EventStore`` on SQL."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import insert, select

from keystead.store.base import EventRecord
from keystead.store.sql.concern import Concern
from keystead.store.sql.convert import to_values
from keystead.store.sql.models import EventRow
from keystead.store.sql.tables import EVENTS


class SqlEventStore(Concern):
    async def add_many(self, events: Sequence[EventRecord]) -> None:
        if not events:
            return
        rows = [to_values(event) for event in events]
        await self._db.run(lambda connection: connection.execute(insert(EVENTS), rows))

    async def by_correlation_id(self, correlation_id: str) -> list[EventRecord]:
        query = (
            select(EVENTS)
            .where(EventRow.correlation_id == correlation_id)
            .order_by(EventRow.created_at, EventRow.event_id)
        )
        return await self._all(query, EventRecord)

    async def recent(self, limit: int) -> list[EventRecord]:
        query = (
            select(EVENTS)
            .order_by(EventRow.created_at.desc(), EventRow.event_id.desc())
            .limit(limit)
        )
        return await self._all(query, EventRecord)

    async def about(self, sub: str, limit: int) -> list[EventRecord]:
        query = (
            select(EVENTS)
            .where(EventRow.data["sub"].as_string() == sub)
            .order_by(EventRow.created_at.desc(), EventRow.event_id.desc())
            .limit(limit)
        )
        return await self._all(query, EventRecord)

    async def purge(self, before: int) -> int:
        return await self._purge(EVENTS, EventRow.created_at < before)
