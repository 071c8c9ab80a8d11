"""The account page's "Where you're signed in" and "Apps with access" over HTTP: two
browsers of one user listed with the device each signed in from, one signed out from the
other (its next authorization request asks for a password), every other one signed out, an
app's access revoked (its refresh token refused, its access token inactive, the consent asked
again), and what an attacker would try (another user's sid, no CSRF token, a stale sign-in)."""

from __future__ import annotations

import html
import re
from typing import Any

import httpx
import pytest

from keystead.events import Event
from tests.e2e.conftest import REDIRECT_URI, Browser, Env, form_fields, pkce_pair, query_of
from tests.e2e.test_account_page import follow, sign_in
from tests.e2e.test_authorize_errors import auth_url

pytestmark = pytest.mark.anyio

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1"
)
_SESSION = re.compile(
    r'<form[^>]*action="[^"]*/account/sessions/end"[^>]*>.*?name="sid" value="([^"]+)".*?'
    r"<strong[^>]*>([^<]+)</strong>(.*?)</form>",
    re.S,
)


def sessions_on(page: httpx.Response) -> list[tuple[str, str, bool, bool]]:
    """(sid, device, this device?, has a Sign out button?) of each listed session."""
    return [
        (sid, html.unescape(device), "(this device)" in rest, ">Sign out</button>" in rest)
        for sid, device, rest in _SESSION.findall(page.text)
    ]


async def post(browser: Browser, path: str, **data: str) -> httpx.Response:
    token = form_fields((await browser.open("/account")).text)["csrf_token"]
    return await browser.http.post(path, data={"csrf_token": token, **data})


async def test_two_browsers_are_listed_and_one_signs_the_other_out(env: Env) -> None:
    sub = await env.add_user()
    client_id, _ = await env.add_client()
    recorded: list[Event] = []
    env.provider.events.subscribers.append(recorded.append)
    async with (
        env.client(headers={"user-agent": FIREFOX}) as laptop_http,
        env.client(headers={"user-agent": IPHONE}) as phone_http,
    ):
        laptop, phone = Browser(laptop_http), Browser(phone_http)
        await sign_in(env, laptop)
        env.clock.now += 30
        await sign_in(env, phone)
        page = await laptop.open("/account")
        assert "Where you&#39;re signed in" in page.text or "Where you're signed in" in page.text
        listed = sessions_on(page)
        assert [(d, this, button) for _, d, this, button in listed] == [
            ("Safari on iOS", False, True),  # newest first
            ("Firefox on Linux", True, False),  # this one signs out with "Sign out" above
        ]
        assert "203.0.113.7" in page.text  # the address each signed in from
        stored = await env.provider.store.sessions.list_for(sub)
        assert {s.user_agent for s in stored} == {FIREFOX, IPHONE}
        phone_sid = listed[0][0]

        done = await follow(laptop, await post(laptop, "/account/sessions/end", sid=phone_sid))
        assert "That browser was signed out." in done.text
        assert [d for _, d, _, _ in sessions_on(done)] == ["Firefox on Linux"]
        assert any(e.name == "session.ended" and e.data["sid"] == phone_sid for e in recorded)
        # The phone's next authorization request asks who is there.
        again = await phone.open(auth_url(client_id))
        assert again.status_code == 200 and 'name="password"' in again.text
        assert (await laptop.open(auth_url(client_id))).status_code in (200, 303)
        assert (await laptop.open("/account")).status_code == 200  # the laptop stays in


async def test_sign_out_everywhere_else_keeps_this_browser(env: Env) -> None:
    sub = await env.add_user()
    async with env.client() as a, env.client() as b, env.client() as c:
        for http in (a, b, c):
            await sign_in(env, Browser(http))
        assert len(sessions_on(await Browser(c).open("/account"))) == 3
        done = await follow(Browser(c), await post(Browser(c), "/account/sessions/end-others"))
        assert "Every other browser was signed out." in done.text
        assert [this for _, _, this, _ in sessions_on(done)] == [True]
        for http in (a, b):
            gone = await http.get("/account")
            assert gone.status_code == 303 and "/authorize" in gone.headers["location"]
    assert len(await env.provider.store.sessions.list_for(sub)) == 1


async def _tokens(env: Env, browser: Browser, client_id: str, secret: str | None) -> dict[str, Any]:
    verifier, challenge = pkce_pair()
    url = auth_url(client_id, scope="openid email offline_access", code_challenge=challenge)
    page = await browser.open(url)
    if 'name="decision"' in page.text:
        page = await browser.consent(page)
    assert page.status_code in (302, 303), page.text[:300]
    code = query_of(page.headers["location"])["code"]
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI}
    r = await browser.http.post(
        "/token", data={**data, "code_verifier": verifier}, auth=(client_id, secret or "")
    )
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


async def test_revoke_access_stops_the_apps_tokens_and_asks_consent_again(env: Env) -> None:
    sub = await env.add_user()
    client_id, secret = await env.add_client(
        scope="openid email offline_access",
        grant_types=["authorization_code", "refresh_token"],
    )
    other_id, other_secret = await env.add_client(client_name="Other App")
    assert secret is not None and other_secret is not None
    async with env.client() as http:
        browser = Browser(http)
        await sign_in(env, browser)
        tokens = await _tokens(env, browser, client_id, secret)
        other = await _tokens(env, browser, other_id, other_secret)
        page = await browser.open("/account")
        assert "Test App" in page.text and "Other App" in page.text
        assert "email, offline_access, openid" in page.text

        done = await follow(
            browser, await post(browser, "/account/apps/revoke", client_id=client_id)
        )
        assert "access was revoked" in done.text
        assert "Test App" not in done.text and "Other App" in done.text
        refreshed = await http.post(
            "/token",
            data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
            auth=(client_id, secret),
        )
        assert refreshed.status_code == 400 and refreshed.json()["error"] == "invalid_grant"
        for token, auth in ((tokens, (client_id, secret)), (other, (other_id, other_secret))):
            r = await http.post("/introspect", data={"token": token["access_token"]}, auth=auth)
            assert r.status_code == 200
            assert r.json()["active"] is (token is other)  # only the revoked app's stops
        assert await env.provider.store.consents.get(sub, client_id) is None
        # The next sign-in to that app asks for consent again.
        _, challenge = pkce_pair()
        again = await browser.open(auth_url(client_id, code_challenge=challenge))
        assert 'name="decision"' in again.text


async def test_another_users_session_cannot_be_ended(env: Env) -> None:
    await env.add_user()
    bob = await env.add_user("bob")
    async with env.client() as alice_http, env.client() as bob_http:
        alice = Browser(alice_http)
        await sign_in(env, alice)
        await sign_in(env, Browser(bob_http), username="bob")
        (bob_session,) = await env.provider.store.sessions.list_for(bob)
        r = await follow(alice, await post(alice, "/account/sessions/end", sid=bob_session.sid))
        assert r.status_code == 200 and "signed out" not in r.text
        assert await env.provider.store.sessions.get(bob_session.session_hash) == bob_session
        assert (await bob_http.get("/account")).status_code == 200
        # Without the CSRF token nothing happens either.
        forged = await alice_http.post("/account/sessions/end", data={"sid": bob_session.sid})
        assert forged.status_code == 400
        forged = await alice_http.post("/account/sessions/end-others", data={})
        assert forged.status_code == 400
        assert (await bob_http.get("/account")).status_code == 200


async def test_changes_need_a_fresh_sign_in(env: Env) -> None:
    await env.add_user()
    async with env.client() as a, env.client() as b:
        await sign_in(env, Browser(a))
        await sign_in(env, Browser(b))
        env.clock.now += 3600  # both live on (idle time is longer), neither is fresh
        page = await Browser(a).open("/account")
        assert [button for *_, button in sessions_on(page)] == [False, False]
        stale = await post(Browser(a), "/account/sessions/end-others")
        assert stale.status_code == 303 and "prompt=login" in stale.headers["location"]
        assert (await b.get("/account")).status_code == 200
