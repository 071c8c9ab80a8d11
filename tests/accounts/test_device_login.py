"""Device cookies (accounts/device.py) and the under-attack signal in accounts/login.py."""

from __future__ import annotations

import pytest

from keystead.accounts import device
from keystead.accounts.login import ATTACK_EVENT_WINDOW, _keys, authenticate, last_attack_at

pytestmark = pytest.mark.anyio

PASSWORD = "correct horse battery staple"
HOME = "198.51.100.1"
ATTACKER = "203.0.113.66"


@pytest.fixture
def provider(make_provider):
    return make_provider(
        login_account_threshold=2,
        login_ip_threshold=100,
        login_max_delay=8,
        login_attack_threshold=4,
        login_account_max_delay=2,
        login_device_threshold=2,
        login_device_cookie_ttl=3600,
    )


async def seed(provider, key: str, failures: int) -> None:
    for _ in range(failures):
        await provider.store.throttle.record_failure(key, provider.now())


async def signed_in_cookie(provider) -> str:
    result = await authenticate(provider, "alice", PASSWORD, HOME)
    assert result.user is not None and result.device_cookie
    return result.device_cookie


def names(events) -> list[str]:
    return [e.name for e in events]


async def test_a_success_hands_out_a_cookie_without_the_username(provider, add_user) -> None:
    await add_user(provider)
    cookie = await signed_in_cookie(provider)
    assert "alice" not in cookie.lower()
    assert device.trusted_nonce(provider, cookie, "alice") is not None
    assert device.trusted_nonce(provider, cookie, "bob") is None  # bound to its account


async def test_the_cookie_skips_the_untrusted_throttles(provider, add_user, events) -> None:
    await add_user(provider)
    cookie = await signed_in_cookie(provider)
    await seed(provider, _keys("alice", HOME, None).source, 9)
    await seed(provider, "user:alice", 50)
    await seed(provider, f"ip:{HOME}", 500)
    assert (await authenticate(provider, "alice", PASSWORD, HOME)).retry_after > 0
    result = await authenticate(provider, "alice", PASSWORD, HOME, cookie)
    assert result.user is not None
    assert events[-1].name == "login.succeeded" and events[-1].data["trusted_device"] is True


@pytest.mark.parametrize(
    "mangle",
    [
        lambda c: c[:-2] + ("AA" if not c.endswith("AA") else "BB"),  # altered MAC
        lambda c: str(int(c.split(".")[0]) + 1) + c[c.index(".") :],  # altered issue time
        lambda c: "1." + c.split(".", 1)[1],  # forged, old issue time
        lambda c: "garbage",
        lambda c: "x" * 5000,
        lambda c: c[:-2] + "é£",  # a MAC with non-ASCII characters (Latin-1 in a header)
        lambda c: "²" + c[c.index(".") :],  # an issue time of digits int() refuses
    ],
)
async def test_a_forged_cookie_is_worth_nothing(provider, add_user, mangle) -> None:
    await add_user(provider)
    cookie = await signed_in_cookie(provider)
    await seed(provider, "user:alice", 50)
    assert (await authenticate(provider, "alice", PASSWORD, HOME, mangle(cookie))).retry_after


async def test_an_expired_cookie_is_not_trusted(provider, clock, add_user) -> None:
    await add_user(provider)
    cookie = await signed_in_cookie(provider)
    clock.advance(3600)
    assert device.trusted_nonce(provider, cookie, "alice") is None


async def test_a_stolen_cookie_is_locked_after_its_failures(provider, clock, add_user) -> None:
    await add_user(provider)
    cookie = await signed_in_cookie(provider)
    for _ in range(2):  # login_device_threshold
        result = await authenticate(provider, "alice", "guess", ATTACKER, cookie)
        assert result.user is None and result.retry_after == 0
    # Now untrusted, and the guesses counted against the address too: a lockout.
    assert (await authenticate(provider, "alice", PASSWORD, ATTACKER, cookie)).retry_after == 1
    clock.advance(8)  # login_max_delay: the lock is over
    assert (await authenticate(provider, "alice", PASSWORD, ATTACKER, cookie)).user is not None


async def test_the_owner_typos_with_a_cookie_are_reset_by_a_success(provider, add_user) -> None:
    await add_user(provider)
    cookie = await signed_in_cookie(provider)
    assert (await authenticate(provider, "alice", "typo", HOME, cookie)).user is None
    assert (await authenticate(provider, "alice", PASSWORD, HOME, cookie)).user is not None
    assert await provider.store.throttle.get("user:alice") is None  # not counted as an attack


async def test_one_cookie_remembers_a_few_accounts(provider, add_user) -> None:
    await add_user(provider)
    cookie = await signed_in_cookie(provider)
    for name in ("bob", "carol", "dave", "erin"):
        cookie = device.remember(provider, cookie, name)
    assert device.trusted_nonce(provider, cookie, "erin") is not None
    assert device.trusted_nonce(provider, cookie, "bob") is not None
    assert device.trusted_nonce(provider, cookie, "alice") is None  # the oldest goes
    again = device.remember(provider, cookie, "erin")
    assert len(again.split("~")) == device.MAX_TOKENS


async def test_under_attack_event_once_per_attack(provider, clock, add_user, events) -> None:
    user = await add_user(provider)
    assert await last_attack_at(provider, user.sub) is None
    for i in range(10):
        await authenticate(provider, "alice", "guess", f"192.0.2.{i}")
        clock.advance(2)  # past the account-wide delay
    attacks = [e for e in events if e.name == "login.account_under_attack"]
    assert len(attacks) == 1
    assert attacks[0].data == {"sub": user.sub, "failures": 4}
    assert await last_attack_at(provider, user.sub) == provider.now() - 2
    clock.advance(ATTACK_EVENT_WINDOW)  # quiet for a window: the next one is a new attack
    await authenticate(provider, "alice", "guess", "192.0.2.200")
    assert names(events).count("login.account_under_attack") == 2
    assert await last_attack_at(provider, user.sub) == provider.now()


async def test_no_attack_event_for_an_unknown_account(provider, clock, events) -> None:
    for i in range(6):
        await authenticate(provider, "nobody", "guess", f"192.0.2.{i}")
        clock.advance(2)
    assert "login.account_under_attack" not in names(events)
