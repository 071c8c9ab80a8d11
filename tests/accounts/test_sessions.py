"""SSO sessions: only the cookie's hash is stored; idle and absolute expiry."""

from __future__ import annotations

import pytest

from keystead.accounts.sessions import create_session, describe_device, load_session
from keystead.secrets_util import sha256_hex
from keystead.store.base import User

pytestmark = pytest.mark.anyio

NOW = 1_700_000_000
IDLE = 600
ABSOLUTE = 3600
ALICE = User(sub="u-5d1f0c7e", username="alice", password_hash="x")


@pytest.fixture
def provider(make_provider):
    return make_provider(session_idle_ttl=IDLE, session_absolute_ttl=ABSOLUTE)


async def stored(provider, cookie: str):
    return await provider.store.sessions.get(sha256_hex(cookie))


async def test_create_session(provider, events) -> None:
    cookie, session = await create_session(provider, ALICE)
    assert len(cookie) >= 43  # 256 bits
    assert session.session_hash == sha256_hex(cookie)
    assert session.sub == ALICE.sub
    assert session.auth_time == session.created_at == session.last_active_at == NOW
    assert session.expires_at == NOW + ABSOLUTE
    assert session.sid and session.sid not in cookie
    assert await stored(provider, cookie) == session
    assert await provider.store.sessions.get(cookie) is None  # never the clear value
    assert [e.name for e in events] == ["session.created"]
    assert cookie not in repr(events[0].data)


async def test_every_session_is_new(provider) -> None:
    (c1, s1), (c2, s2) = (
        await create_session(provider, ALICE),
        await create_session(provider, ALICE),
    )
    assert c1 != c2
    assert s1.sid != s2.sid


@pytest.mark.parametrize("cookie", [None, "", "unknown-cookie"])
async def test_no_or_unknown_cookie(provider, cookie) -> None:
    assert await load_session(provider, cookie) is None


async def test_load_a_fresh_session(provider) -> None:
    cookie, session = await create_session(provider, ALICE)
    assert await load_session(provider, cookie) == session


async def test_idle_expiry(provider, clock) -> None:
    cookie, _ = await create_session(provider, ALICE)
    clock.advance(IDLE - 1)
    assert await load_session(provider, cookie) is not None
    clock.advance(IDLE)  # idle again for a full period since the touch
    assert await load_session(provider, cookie) is None


async def test_idle_expiry_at_exactly_the_ttl(provider, clock) -> None:
    cookie, _ = await create_session(provider, ALICE)
    clock.advance(IDLE)
    assert await load_session(provider, cookie) is None
    assert await stored(provider, cookie) is None  # deleted, not just ignored


async def test_activity_keeps_the_session_alive(provider, clock) -> None:
    cookie, _ = await create_session(provider, ALICE)
    for _ in range(4):
        clock.advance(IDLE - 100)
        assert await load_session(provider, cookie) is not None
    assert clock.now - NOW > IDLE


async def test_absolute_expiry_even_when_active(provider, clock) -> None:
    cookie, _ = await create_session(provider, ALICE)
    while clock.now + 300 < NOW + ABSOLUTE:
        clock.advance(300)
        assert await load_session(provider, cookie) is not None
    clock.now = NOW + ABSOLUTE
    assert await load_session(provider, cookie) is None
    assert await stored(provider, cookie) is None


async def test_touch_at_most_once_a_minute(provider, clock) -> None:
    cookie, _ = await create_session(provider, ALICE)
    clock.advance(59)
    await load_session(provider, cookie)
    assert (await stored(provider, cookie)).last_active_at == NOW
    clock.advance(1)
    await load_session(provider, cookie)
    assert (await stored(provider, cookie)).last_active_at == NOW + 60
    clock.advance(30)
    await load_session(provider, cookie)
    assert (await stored(provider, cookie)).last_active_at == NOW + 60


async def test_touch_does_not_change_auth_time(provider, clock) -> None:
    cookie, _ = await create_session(provider, ALICE)
    clock.advance(120)
    await load_session(provider, cookie)
    session = await stored(provider, cookie)
    assert session.auth_time == NOW
    assert session.expires_at == NOW + ABSOLUTE


async def test_a_session_keeps_where_it_signed_in(provider) -> None:
    cookie, session = await create_session(
        provider, ALICE, user_agent="x" * 300 + "tail", ip="192.0.2.7"
    )
    assert session.user_agent == "x" * 256  # at most 256 characters kept
    assert session.ip == "192.0.2.7"
    assert await stored(provider, cookie) == session
    _, bare = await create_session(provider, ALICE, user_agent="", ip="")
    assert bare.user_agent is None and bare.ip is None


@pytest.mark.parametrize(
    ("user_agent", "device"),
    [
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
            "Edge on Windows",
        ),
        (
            "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/131.0.0.0 Mobile Safari/537.36",
            "Chrome on Android",
        ),
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_7) AppleWebKit/605.1.15 (KHTML, like "
            "Gecko) Version/18.1 Safari/605.1.15",
            "Safari on macOS",
        ),
        (
            "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
            "Firefox on Linux",
        ),
        (
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "HeadlessChrome/131.0.0.0 Safari/537.36",
            "Headless Chrome on Linux",
        ),
        ("curl/8.5.0", "curl"),
        ("SomeBot/1.0", "SomeBot/1.0"),
        ("x" * 100, "x" * 80 + "…"),
        (None, "Unknown device"),
    ],
)
def test_describe_device(user_agent: str | None, device: str) -> None:
    assert describe_device(user_agent) == device
