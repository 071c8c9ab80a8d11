"""SSO sessions: a random cookie value, stored only as its SHA-256; idle and absolute expiry;
the user's list of them (where, on which device) and ending them."""

from __future__ import annotations

import re
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


def is_live(provider: Provider, session: Session, now: int) -> bool:
    """Whether ``load_session`` would still accept it (neither expiry has passed)."""
    idle_end = session.last_active_at + provider.settings.session_idle_ttl
    return session.expires_at > now and idle_end > now


async def live_sessions(provider: Provider, sub: str) -> list[Session]:
    """The user's sessions that still sign a browser in, newest first."""
    now = provider.now()
    return [s for s in await provider.store.sessions.list_for(sub) if is_live(provider, s, now)]


async def end_session(provider: Provider, sub: str, sid: str) -> Session | None:
    """End the session ``sid`` of ``sub`` — only one of theirs (another user's sid is as
    unknown); the session ended, or None."""
    for session in await provider.store.sessions.list_for(sub):
        if session.sid == sid:
            await provider.store.sessions.delete(session.session_hash)
            return session
    return None


async def end_sessions(provider: Provider, sub: str, keep: str | None = None) -> list[Session]:
    """End every session of ``sub`` but the one whose hash is ``keep``; those ended. Their
    grants stay: apps keep the access the user gave them (revoking it is its own action)."""
    ended = [s for s in await provider.store.sessions.list_for(sub) if s.session_hash != keep]
    for session in ended:
        await provider.store.sessions.delete(session.session_hash)
    return ended


# A short reading of a User-Agent: the first pattern that matches names the browser (order
# matters: Edge and Opera say "Chrome" too, Chrome says "Safari"), and likewise the system.
_BROWSERS = (
    (re.compile(r"\bEdg(?:e|A|iOS)?/"), "Edge"),
    (re.compile(r"\bOPR/|\bOpera\b"), "Opera"),
    (re.compile(r"\bSamsungBrowser/"), "Samsung Internet"),
    (re.compile(r"\bFirefox/|\bFxiOS/"), "Firefox"),
    (re.compile(r"\bHeadlessChrome/"), "Headless Chrome"),
    (re.compile(r"\bChrom(?:e|ium)/|\bCriOS/"), "Chrome"),
    (re.compile(r"\bVersion/[\d.]+.*\bSafari/"), "Safari"),
    (re.compile(r"^curl/"), "curl"),
    (re.compile(r"^python-httpx/"), "httpx"),
)
_SYSTEMS = (
    (re.compile(r"\b(?:iPhone|iPad|iPod)\b"), "iOS"),
    (re.compile(r"\bAndroid\b"), "Android"),
    (re.compile(r"\bCrOS\b"), "ChromeOS"),
    (re.compile(r"\bWindows\b"), "Windows"),
    (re.compile(r"\bMac OS X\b|\bMacintosh\b"), "macOS"),
    (re.compile(r"\bLinux\b|\bX11\b"), "Linux"),
)
MAX_DEVICE = 80  # characters of an unrecognised User-Agent shown as it is


def describe_device(user_agent: str | None) -> str:
    """ "Firefox on Linux", "Safari on iOS" ...; the raw string (shortened) when no browser is
    recognised, "Unknown device" without one."""
    if not user_agent:
        return "Unknown device"
    browser = next((name for pattern, name in _BROWSERS if pattern.search(user_agent)), None)
    system = next((name for pattern, name in _SYSTEMS if pattern.search(user_agent)), None)
    if browser is None:
        return user_agent[:MAX_DEVICE] + ("…" if len(user_agent) > MAX_DEVICE else "")
    return f"{browser} on {system}" if system else browser
