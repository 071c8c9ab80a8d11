"""issue 18 #8: an attacker guessing alice's password from one address must not keep alice
out. Over HTTP with the fake clock: per (account, address) lockouts, an account-wide counter
that only slows, device cookies (OWASP's "Slow Down Online Guessing Attacks with Device
Cookies") and one login.account_under_attack event."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest

from tests.e2e.conftest import Browser, Env
from tests.e2e.test_authorize_errors import auth_url

pytestmark = pytest.mark.anyio

ATTACKER = "192.0.2.66"
ALICE = "198.51.100.20"
GUESSES = 50
LOCKED_OUT = "Too many failed attempts."


@asynccontextmanager
async def browser_at(env: Env, address: str) -> AsyncIterator[Browser]:
    transport = httpx.ASGITransport(app=env.app, client=(address, 40000))
    async with httpx.AsyncClient(
        transport=transport, base_url=env.settings.issuer, follow_redirects=False
    ) as http:
        yield Browser(http)


def device_cookie_name(env: Env) -> str:
    return "__Host-keystead_device" if env.settings.secure_cookies else "keystead_device"


async def attack(env: Env, client_id: str, browser: Browser, guesses: int = GUESSES) -> None:
    """Fail ``guesses`` times on alice, waiting out every delay (as a patient attacker would)."""
    failed = 0
    while failed < guesses:
        r = await browser.login(await browser.open(auth_url(client_id)), "alice", "guess!")
        if r.status_code == 429:
            env.clock.now += int(r.headers["retry-after"])
            continue
        assert r.status_code == 200 and "Incorrect username or password." in r.text
        failed += 1


async def signs_in(browser: Browser, client_id: str) -> httpx.Response:
    return await browser.login(await browser.open(auth_url(client_id)))


async def owner_with_device_cookie(env: Env, client_id: str) -> str:
    async with browser_at(env, ALICE) as alice:
        r = await signs_in(alice, client_id)
        assert r.status_code == 200 and 'name="decision"' in r.text
        cookie = r.headers.get_list("set-cookie")
        device = [c for c in cookie if c.startswith(device_cookie_name(env) + "=")]
        assert len(device) == 1
        assert "httponly" in device[0].lower() and "samesite=lax" in device[0].lower()
        assert "alice" not in device[0].lower()
        value = alice.http.cookies.get(device_cookie_name(env))
        assert value
        return value


async def test_the_attacker_locks_only_himself_out(env: Env) -> None:
    await env.add_user()
    client_id, _ = await env.add_client()
    async with browser_at(env, ATTACKER) as mallory:
        await attack(env, client_id, mallory)
        r = await signs_in(mallory, client_id)  # even the right password: he is locked out
        assert r.status_code == 429 and int(r.headers["retry-after"]) > 60
    # alice from another address, no device cookie: at most the small account-wide delay.
    async with browser_at(env, ALICE) as alice:
        r = await signs_in(alice, client_id)
        if r.status_code == 429:
            assert LOCKED_OUT in r.text
            assert int(r.headers["retry-after"]) <= env.settings.login_account_max_delay
            env.clock.now += int(r.headers["retry-after"])
            r = await signs_in(alice, client_id)
        assert r.status_code == 200 and 'name="decision"' in r.text


async def test_a_browser_holding_its_device_cookie_signs_in_at_once(env: Env) -> None:
    await env.add_user()
    client_id, _ = await env.add_client()
    cookie = await owner_with_device_cookie(env, client_id)
    async with browser_at(env, ATTACKER) as mallory:
        await attack(env, client_id, mallory)
    # alice's laptop, even from the attacker's own address (a shared NAT): no wait at all.
    async with browser_at(env, ATTACKER) as alice:
        alice.http.cookies.set(device_cookie_name(env), cookie)
        r = await signs_in(alice, client_id)
        assert r.status_code == 200 and 'name="decision"' in r.text


async def test_a_forged_device_cookie_gives_no_benefit(env: Env) -> None:
    await env.add_user()
    client_id, _ = await env.add_client()
    cookie = await owner_with_device_cookie(env, client_id)
    async with browser_at(env, ATTACKER) as mallory:
        await attack(env, client_id, mallory)
        issued_at, nonce, mac = cookie.split(".")
        for forged in (
            f"{issued_at}.{nonce}.{'A' * len(mac)}",  # altered MAC
            f"{int(issued_at) + 1}.{nonce}.{mac}",  # altered content
            f"{issued_at}.{nonce[::-1]}.{mac}",
        ):
            mallory.http.cookies.set(device_cookie_name(env), forged)
            r = await signs_in(mallory, client_id)
            assert r.status_code == 429 and int(r.headers["retry-after"]) > 60


async def test_a_stolen_device_cookie_is_locked_after_its_failures(env: Env) -> None:
    await env.add_user()
    client_id, _ = await env.add_client()
    cookie = await owner_with_device_cookie(env, client_id)
    async with browser_at(env, ATTACKER) as mallory:
        mallory.http.cookies.set(device_cookie_name(env), cookie)
        for _ in range(env.settings.login_device_threshold):  # guesses the cookie buys
            r = await mallory.login(await mallory.open(auth_url(client_id)), "alice", "guess!")
            assert r.status_code == 200 and "Incorrect username or password." in r.text
        r = await signs_in(mallory, client_id)  # the cookie is locked: no more guesses
        assert r.status_code == 429 and LOCKED_OUT in r.text


async def test_the_attack_is_reported_once(env: Env) -> None:
    sub = await env.add_user()
    client_id, _ = await env.add_client()
    async with browser_at(env, ATTACKER) as mallory:
        await attack(env, client_id, mallory)
    await env.provider.recorder.flush()
    events = await env.provider.store.events.recent(1000)
    attacks = [e for e in events if e.name == "login.account_under_attack"]
    assert len(attacks) == 1
    assert attacks[0].data["sub"] == sub
    # What the account page will show (issue 18 #8): when the attack was last seen.
    from keystead.accounts.login import last_attack_at

    assert await last_attack_at(env.provider, sub) is not None
