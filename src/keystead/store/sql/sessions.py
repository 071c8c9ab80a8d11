"""``SessionStore`` on SQL."""

from __future__ import annotations

from sqlalchemy import bindparam, delete, or_, select, update

from keystead.store.base import Session
from keystead.store.sql.concern import Concern
from keystead.store.sql.models import SessionRow
from keystead.store.sql.prepared import Prepared
from keystead.store.sql.tables import BY_KEY, SESSIONS

_TOUCH_SESSION = Prepared(
    update(SESSIONS)
    .where(SESSIONS.c.session_hash == bindparam("key"))
    .values(last_active_at=bindparam("now"))
)


class SqlSessionStore(Concern):
    async def add(self, session: Session) -> None:
        await self._add(SESSIONS, session, "session")

    async def get(self, session_hash: str) -> Session | None:
        return await self._first(BY_KEY[SESSIONS], Session, {"key": session_hash})

    async def touch(self, session_hash: str, now: int) -> None:
        params = {"key": session_hash, "now": now}
        await self._db.rowcount(_TOUCH_SESSION, params)

    async def add_factors(self, session_hash: str, amr: tuple[str, ...], auth_time: int) -> bool:
        query = (
            update(SessionRow)
            .where(SessionRow.session_hash == session_hash)
            .values(amr=list(amr), auth_time=auth_time)
        )
        return bool(await self._rowcount(query))

    async def list_for(self, sub: str) -> list[Session]:
        query = select(SESSIONS).where(SessionRow.sub == sub)
        return await self._all(query.order_by(SessionRow.created_at.desc()), Session)

    async def delete(self, session_hash: str) -> None:
        await self._rowcount(delete(SessionRow).where(SessionRow.session_hash == session_hash))

    async def purge_expired(self, before: int, idle_before: int) -> int:
        idle = or_(SessionRow.expires_at < before, SessionRow.last_active_at < idle_before)
        return await self._purge(SESSIONS, idle)
