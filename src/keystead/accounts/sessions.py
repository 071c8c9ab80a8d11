"""SSO sessions: a random cookie value, stored only as its SHA-256; idle and absolute expiry."""

from __future__ import annotations

from typing import TYPE_CHECKING

from keystead.secrets_util import random_token, sha256_hex
from keystead.store.base import Session, User

if TYPE_CHECKING:
    from keystead.provider import Provider

_TOUCH_EVERY = 60  # seconds: do not write on every request
MAX_USER_AGENT = 256  # characters of the User-Agent kept (the user's list shows a short form)


async def create_session(
    provider: Provider,
    user: User,
    amr: tuple[str, ...] = ("pwd",),
    *,
    user_agent: str | None = None,
    ip: str | None = None,
) -> tuple[str, Session]:
    """A new session of ``user``; ``user_agent`` and ``ip`` (of the request that signed in)
    are kept for the user's list of where they are signed in."""
    now = provider.now()
    cookie = random_token()
    session = Session(
        session_hash=sha256_hex(cookie),
        sid=random_token(16),
        sub=user.sub,
        auth_time=now,
        created_at=now,
        last_active_at=now,
        expires_at=now + provider.settings.session_absolute_ttl,
        amr=amr,
        user_agent=user_agent[:MAX_USER_AGENT] if user_agent else None,
        ip=ip or None,
    )
    await provider.store.sessions.add(session)
    provider.events.emit("session.created", sub=user.sub, sid=session.sid)
    return cookie, session


async def load_session(provider: Provider, cookie: str | None) -> Session | None:
    if not cookie:
        return None
    session_hash = sha256_hex(cookie)
    session = await provider.store.sessions.get(session_hash)
    if session is None:
        return None
    now = provider.now()
    idle_end = session.last_active_at + provider.settings.session_idle_ttl
    if session.expires_at <= now or idle_end <= now:
        await provider.store.sessions.delete(session_hash)
        return None
    if now - session.last_active_at >= _TOUCH_EVERY:
        await provider.store.sessions.touch(session_hash, now)
    return session
