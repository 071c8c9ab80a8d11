"""``EventStore`` on SQL."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import insert, or_, select, tuple_

from keystead.store.base import EventRecord
from keystead.store.event_filter import EventFilter
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

    async def search(self, f: EventFilter, limit: int) -> list[EventRecord]:
        query = select(EVENTS)
        data = EventRow.data
        if f.name:
            query = query.where(
                or_(
                    EventRow.name == f.name, EventRow.name.startswith(f.name + ".", autoescape=True)
                )
            )
        if f.client_id:
            query = query.where(
                or_(
                    data["client_id"].as_string() == f.client_id,
                    data["by_client_id"].as_string() == f.client_id,
                )
            )
        if f.sub:
            query = query.where(
                or_(data["sub"].as_string() == f.sub, data["by_sub"].as_string() == f.sub)
            )
        if f.since is not None:
            query = query.where(EventRow.created_at >= f.since)
        if f.until is not None:
            query = query.where(EventRow.created_at < f.until)
        if f.before is not None:
            query = query.where(tuple_(EventRow.created_at, EventRow.event_id) < f.before)
        query = query.order_by(EventRow.created_at.desc(), EventRow.event_id.desc()).limit(limit)
        return await self._all(query, EventRecord)

    async def purge(self, before: int) -> int:
        return await self._purge(EVENTS, EventRow.created_at < before)
