"""SSO sessions: the record (one per signed-in browser) and the store interface (the SQL and
memory implementations are ``store/sql/sessions.py`` and ``store/memory/sessions.py``).
``store/base.py`` re-exports both: protocol code keeps importing from there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Session:
    """An SSO session. ``session_hash`` is the hash of the cookie value; ``sid`` is public."""

    session_hash: str
    sid: str
    sub: str
    auth_time: int
    created_at: int
    last_active_at: int
    expires_at: int  # absolute lifetime end
    amr: tuple[str, ...] = ("pwd",)
    # Where it was signed in, for the user's "where you're signed in" list (never a secret):
    # the browser's User-Agent (at most 256 characters) and the client address.
    user_agent: str | None = None
    ip: str | None = None


class SessionStore(Protocol):
    async def add(self, session: Session) -> None: ...
    async def get(self, session_hash: str) -> Session | None: ...
    async def touch(self, session_hash: str, now: int) -> None: ...
    async def list_for(self, sub: str) -> list[Session]: ...  # the user's, newest first
    async def add_factors(
        self, session_hash: str, amr: tuple[str, ...], auth_time: int
    ) -> bool: ...  # a step-up: the session's new amr and auth_time (False: it is gone)
    async def delete(self, session_hash: str) -> None: ...
    async def purge_expired(self, before: int, idle_before: int) -> int:
        """Delete sessions that expired before ``before`` or were last active before
        ``idle_before``; return how many."""
        ...
