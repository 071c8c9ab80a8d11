"""The account page over HTTP (issue 20): signed in through keystead's own flow, an
authenticator app enrolled from the page's secret, recovery codes shown once and used, the
password changed, passkeys added, and what an attacker would try (no CSRF token, a stale
session, another user's factor)."""

from __future__ import annotations

import base64
import html
import json
import re

import httpx
import pyotp
import pytest

from tests.accounts.soft_authenticator import SoftAuthenticator
from tests.e2e.conftest import PASSWORD, Browser, Env, form_fields

pytestmark = pytest.mark.anyio

NEW_PASSWORD = "a much better passphrase"


async def follow(browser: Browser, response: httpx.Response) -> httpx.Response:
    while response.status_code in (302, 303):
        response = await browser.open(response.headers["location"])
    return response


async def sign_in(
    env: Env, browser: Browser, password: str = PASSWORD, username: str = "alice"
) -> httpx.Response:
    page = await follow(browser, await browser.open("/account"))
    assert 'name="password"' in page.text and "your keystead account" in page.text
    return await follow(browser, await browser.login(page, username, password=password))


def secret_on(page: httpx.Response) -> str:
    match = re.search(r'id="totp-secret">([^<]+)<', page.text)
    assert match, page.text[:500]
    return "".join(match.group(1).split())


async def enrol_totp(env: Env, browser: Browser) -> tuple[pyotp.TOTP, list[str]]:
    page = await browser.open("/account/totp")
    assert page.status_code == 200 and 'src="data:image/svg+xml' in page.text
    app = pyotp.TOTP(secret_on(page))
    wrong = await browser.submit(page, code="000000" if app.now() != "000000" else "111111")
    assert wrong.status_code == 400 and "That code is not right" in wrong.text
    assert secret_on(wrong) == app.secret  # the same secret, to try again
    codes_page = await browser.submit(wrong, code=app.at(env.clock()), name="Phone")
    assert codes_page.status_code == 200 and "shown only now" in codes_page.text
    codes = re.findall(r"<li><code>([a-z2-7-]+)</code></li>", codes_page.text)
    return app, codes


async def test_sign_in_enrol_use_a_recovery_code_and_see_it(env: Env) -> None:
    sub = await env.add_user()
    async with env.client() as http:
        browser = Browser(http)
        account = await sign_in(env, browser)
        assert account.status_code == 200 and "Signed in as <strong>alice</strong>" in account.text
        assert account.headers["x-frame-options"] == "DENY"
        app, codes = await enrol_totp(env, browser)
        assert len(codes) == 10
        account = await browser.open("/account")
        assert "Phone" in account.text and "10 of 10 unused" in account.text
    factors = await env.provider.store.factors.list(sub)
    assert [f.name for f in factors] == ["Phone"] and app.secret not in str(factors)
    env.clock.now += 60
    async with env.client() as http:  # another browser: password, then a recovery code
        browser = Browser(http)
        page = await follow(browser, await browser.open("/account"))
        factor_page = await browser.login(page)
        assert 'autocomplete="one-time-code"' in factor_page.text
        account = await follow(browser, await browser.submit(factor_page, code=codes[0]))
        assert "A recovery code was used" in account.text and "9 left" in account.text


async def test_change_the_password(env: Env) -> None:
    await env.add_user()
    async with env.client() as http:
        browser = Browser(http)
        account = await sign_in(env, browser)
        form = form_fields(account.text)
        token = form["csrf_token"]

        async def change(current: str, new: str, again: str) -> httpx.Response:
            data = {"csrf_token": token, "current_password": current}
            data |= {"new_password": new, "confirm_password": again}
            return await http.post("/account/password", data=data)

        wrong = await change("nope", NEW_PASSWORD, NEW_PASSWORD)
        assert wrong.status_code == 400 and "not your current password" in wrong.text
        assert 'aria-describedby="current_password-error"' in wrong.text
        short = await change(PASSWORD, "short", "short")
        assert short.status_code == 400 and "at least" in short.text
        differ = await change(PASSWORD, NEW_PASSWORD, NEW_PASSWORD + "!")
        assert differ.status_code == 400 and "differ" in differ.text
        done = await follow(browser, await change(PASSWORD, NEW_PASSWORD, NEW_PASSWORD))
        assert "Your password was changed." in done.text
    async with env.client() as http:
        account = await sign_in(env, Browser(http), password=NEW_PASSWORD)
        assert "Signed in as" in account.text


async def test_forms_need_the_csrf_token_and_changes_a_fresh_sign_in(env: Env) -> None:
    await env.add_user()
    async with env.client() as http:
        browser = Browser(http)
        await sign_in(env, browser)
        refused = await http.post("/account/recovery-codes", data={"csrf_token": "forged"})
        assert refused.status_code == 400 and "Correlation id" in refused.text
        env.clock.now += 3600  # an hour later: the session lives, but is not fresh
        account = await browser.open("/account")
        assert "confirm it's you first" in account.text and "totp-start" not in account.text
        token = form_fields(account.text)["csrf_token"]
        stale = await http.post("/account/recovery-codes", data={"csrf_token": token})
        assert stale.status_code == 303 and "prompt=login" in stale.headers["location"]
        page = await follow(browser, stale)
        assert 'name="password"' in page.text  # signs in again, then back to the page
        account = await follow(browser, await browser.login(page))
        assert "totp-start" in account.text


async def test_add_and_remove_a_passkey(env: Env) -> None:
    sub = await env.add_user()
    device = SoftAuthenticator("127.0.0.1", env.settings.issuer, user_handle=sub.encode())
    async with env.client() as http:
        browser = Browser(http)
        account = await sign_in(env, browser)
        match = re.search(r'id="passkey-options"[^>]*>([^<]+)</script>', account.text)
        assert match
        options = json.loads(html.unescape(match.group(1)))
        assert options["rp"]["id"] == "127.0.0.1" and options["user"]["name"] == "alice"
        challenge = base64.urlsafe_b64decode(options["challenge"] + "==")
        fields = form_fields(account.text)
        data = {
            "csrf_token": fields["csrf_token"],
            "passkey_state": fields["passkey_state"],
            "credential": device.register(challenge),
            "name": "Laptop",
        }
        added = await follow(browser, await http.post("/account/passkeys", data=data))
        assert "Your passkey was added." in added.text and "Laptop" in added.text
        again = await http.post("/account/passkeys", data=data)  # the same ceremony replayed
        assert again.status_code == 400 and "already used" in again.text
        [factor] = await env.provider.store.factors.list(sub)
        other = await env.add_user("bob")
        token = form_fields(added.text)["csrf_token"]
        bobs = await http.post(
            "/account/factors/remove", data={"csrf_token": token, "factor_id": "x" + other}
        )
        assert bobs.status_code == 303  # nothing of another user's can be named
        removed = await http.post(
            "/account/factors/remove", data={"csrf_token": token, "factor_id": factor.factor_id}
        )
        assert "removed" in (await follow(browser, removed)).text
    assert await env.provider.store.factors.list(sub) == []


async def test_a_new_password_revokes_oauth1_tokens_and_the_export_lists_them(env: Env) -> None:
    """issue 26: OAuth 1.0a token credentials end with a password change, as grants do."""
    from keystead.store.oauth1 import TokenCredential

    sub = await env.add_user()
    client_id, _ = await env.add_client()
    token = TokenCredential("t-1", "0" * 64, "v1.x", client_id, sub, "openid profile", 1)
    await env.provider.store.oauth1.add_token(token)
    async with env.client() as http:
        browser = Browser(http)
        account = await sign_in(env, browser)
        export = (await http.get("/account/data")).json()
        assert export["oauth1_tokens"][0]["token_id"] == "t-1"
        assert export["oauth1_tokens"][0]["revoked_at"] is None
        data = {"csrf_token": form_fields(account.text)["csrf_token"]}
        data |= {"current_password": PASSWORD}
        data |= {"new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD}
        assert (await http.post("/account/password", data=data)).status_code == 303
    revoked = await env.provider.store.oauth1.get_token_by_id("t-1")
    assert revoked is not None and revoked.revoked_at == env.clock()
