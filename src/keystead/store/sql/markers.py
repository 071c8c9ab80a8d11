"""``MarkerStore`` on SQL."""

from __future__ import annotations

from sqlalchemy import bindparam, delete, select

from keystead.store.sql.concern import Concern
from keystead.store.sql.models import MarkerRow
from keystead.store.sql.prepared import Prepared
from keystead.store.sql.tables import MARKERS

_GET = Prepared(
    select(MARKERS.c.expires_at).where(
        MARKERS.c.key == bindparam("key"), MARKERS.c.expires_at > bindparam("now")
    )
)


class SqlMarkerStore(Concern):
    async def add(self, key: str, expires_at: int, now: int) -> bool:
        # One upsert: a new key is inserted, an expired one taken over; a live one is left
        # alone and nothing comes back — so of concurrent callers exactly one sees a row.
        query = (
            self._insert(MarkerRow)
            .values(key=key, expires_at=expires_at)
            .on_conflict_do_update(
                index_elements=[MarkerRow.key],
                set_={"expires_at": expires_at},
                where=MarkerRow.expires_at <= now,
            )
            .returning(MarkerRow.key)
        )
        put = await self._db.statement(lambda connection: connection.execute(query).first())
        return put is not None

    async def get(self, key: str, now: int) -> int | None:
        row = await self._db.first(_GET, {"key": key, "now": now})
        return None if row is None else int(row[0])

    async def take(self, key: str, now: int) -> bool:
        query = delete(MarkerRow).where(MarkerRow.key == key, MarkerRow.expires_at > now)
        return bool(await self._rowcount(query))

    async def purge(self, now: int) -> int:
        return await self._purge(MARKERS, MarkerRow.expires_at <= now)
