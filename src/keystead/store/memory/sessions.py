"""``SessionStore`` in memory."""

from __future__ import annotations

import dataclasses

from keystead.store.base import DuplicateError, Session


class MemorySessionStore:
    def __init__(self) -> None:
        self._sessions: dict[str, Session] = {}

    async def add(self, session: Session) -> None:
        if session.session_hash in self._sessions:
            raise DuplicateError("session already exists")
        self._sessions[session.session_hash] = session

    async def get(self, session_hash: str) -> Session | None:
        return self._sessions.get(session_hash)

    async def touch(self, session_hash: str, now: int) -> None:
        session = self._sessions.get(session_hash)
        if session is not None:
            self._sessions[session_hash] = dataclasses.replace(session, last_active_at=now)

    async def add_factors(self, session_hash: str, amr: tuple[str, ...], auth_time: int) -> bool:
        session = self._sessions.get(session_hash)
        if session is None:
            return False
        self._sessions[session_hash] = dataclasses.replace(
            session, amr=tuple(amr), auth_time=auth_time
        )
        return True

    async def list_for(self, sub: str) -> list[Session]:
        mine = [s for s in self._sessions.values() if s.sub == sub]
        return sorted(mine, key=lambda s: s.created_at, reverse=True)

    async def delete(self, session_hash: str) -> None:
        self._sessions.pop(session_hash, None)

    def end_for(self, sub: str, keep: str | None) -> int:
        doomed = [k for k, s in self._sessions.items() if s.sub == sub and k != keep]
        for key in doomed:
            del self._sessions[key]
        return len(doomed)

    def delete_sub(self, sub: str, now: int) -> None:
        self._sessions = {k: s for k, s in self._sessions.items() if s.sub != sub}

    async def purge_expired(self, before: int, idle_before: int) -> int:
        doomed = [
            key
            for key, s in self._sessions.items()
            if s.expires_at < before or s.last_active_at < idle_before
        ]
        for key in doomed:
            del self._sessions[key]
        return len(doomed)
