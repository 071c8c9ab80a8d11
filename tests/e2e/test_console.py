"""The admin console over HTTP (issue 27): an admin signs in through /authorize (code +
PKCE), creates a client with the wizard, rotates its secret, ends a user's session and finds
each action in the audit log with their identity; a non-admin gets a 403 page; a form
without its CSRF token changes nothing; a revoked admin is out at the next request."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from html import unescape
from pathlib import Path
from typing import Any

import httpx
import pyotp
import pytest

from keystead.services import factors as factor_service
from keystead.services import users as user_service
from keystead.services.common import CLI
from tests.e2e.conftest import PASSWORD, Browser, Env, form_fields, make_env

pytestmark = pytest.mark.anyio


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[Env]:
    e = await make_env(tmp_path, admin_require_mfa=False)
    yield e
    await e.provider.close()


async def follow(browser: Browser, response: httpx.Response) -> httpx.Response:
    while response.status_code in (302, 303):
        response = await browser.open(response.headers["location"])
    return response


async def console_sign_in(browser: Browser, username: str) -> httpx.Response:
    start = await browser.open("/admin")
    assert start.status_code == 303 and start.headers["location"].endswith("/admin/signin")
    to_authorize = await browser.open(start.headers["location"])
    location = to_authorize.headers["location"]
    assert "client_id=keystead-console" in location and "code_challenge_method=S256" in location
    page = await follow(browser, to_authorize)
    assert "the keystead admin console" in page.text
    return await follow(browser, await browser.login(page, username))


def csrf_of(page: httpx.Response) -> str:
    return form_fields(page.text)["csrf_token"]


def code_text(page: httpx.Response, element_id: str) -> str:
    match = re.search(rf'id="{element_id}"[^>]*><code>([^<]*)</code>', page.text)
    assert match, page.text[:2000]
    return unescape(match.group(1))


def table_of(page: httpx.Response) -> str:
    """The page's table body: what is listed (the filter's datalist names every event)."""
    assert "<tbody>" in page.text, page.text[:2000]
    return page.text.split("<tbody>", 1)[1].split("</tbody>", 1)[0]


async def token_status(env: Env, client_id: str, secret: str) -> int:
    async with env.client() as http:
        response = await http.post(
            "/token",
            data={"grant_type": "authorization_code", "code": "x", "redirect_uri": "x"},
            auth=(client_id, secret),
        )
    return response.status_code


async def test_admin_walkthrough_every_action_audited(env: Env) -> None:
    admin_sub = await env.add_user("root", admin=True)
    alice_sub = await env.add_user("alice")
    async with env.client() as http:  # alice signs in somewhere: a session to end
        alice = Browser(http)
        page = await follow(alice, await alice.open("/account"))
        await follow(alice, await alice.login(page, "alice"))
        assert (await alice.open("/account")).status_code == 200
        alice_cookies = dict(http.cookies)

    async with env.client() as http:
        browser = Browser(http)
        home = await console_sign_in(browser, "root")
        assert home.status_code == 200 and "Signed in as <strong>root</strong>" in home.text
        assert "nonce-" in home.headers["content-security-policy"]
        assert "default-src 'none'" in home.headers["content-security-policy"]
        cookie = home.request.headers["cookie"]
        assert "keystead_console=" in cookie
        set_cookies = [h for h in home.history or []]
        assert not set_cookies  # followed manually

        # The wizard: type, then the form; a bad redirect URI keeps what was typed.
        types = await browser.open("/admin/clients/new")
        assert "Machine to machine" in types.text
        form = await browser.open("/admin/clients/new?type=web")
        bad = await http.post(
            "/admin/clients/new",
            data={
                "csrf_token": csrf_of(form),
                "type": "web",
                "client_name": "Shop",
                "redirect_uris": "not a uri",
                "scope": "openid profile",
            },
        )
        assert bad.status_code == 400
        assert 'aria-invalid="true"' in bad.text and 'value="Shop"' in bad.text
        assert "not a uri" in bad.text
        created = await http.post(
            "/admin/clients/new",
            data={
                "csrf_token": csrf_of(form),
                "type": "web",
                "client_name": "Shop",
                "redirect_uris": "https://shop.example/callback",
                "scope": "openid profile",
            },
        )
        assert created.status_code == 200 and "shown only this once" in created.text
        client_id = code_text(created, "client-id")
        secret = code_text(created, "client-secret")
        assert "authlib" in created.text.lower() and "openid-client" in created.text
        assert await token_status(env, client_id, secret) == 400  # invalid_grant: auth ok

        # The list finds it by name; rotate the secret.
        listed = await browser.open("/admin/clients?q=sho")
        assert client_id in listed.text
        detail = await browser.open(f"/admin/clients/{client_id}")
        rotated = await http.post(
            f"/admin/clients/{client_id}/secret", data={"csrf_token": csrf_of(detail)}
        )
        assert rotated.status_code == 200
        new_secret = code_text(rotated, "client-secret")
        assert new_secret != secret
        assert await token_status(env, client_id, secret) == 401  # the old one stopped
        assert await token_status(env, client_id, new_secret) == 400

        # End alice's session.
        user_page = await browser.open(f"/admin/users/{alice_sub}")
        assert user_page.status_code == 200 and "End session" in user_page.text
        sid = re.search(r'name="sid" value="([^"]+)"', user_page.text)
        assert sid
        ended = await http.post(
            f"/admin/users/{alice_sub}/end-session",
            data={"csrf_token": csrf_of(user_page), "sid": sid.group(1)},
        )
        assert ended.status_code == 303 and "done=session_ended" in ended.headers["location"]

        # Rotate the signing keys.
        keys_page = await browser.open("/admin/keys")
        assert "active" in keys_page.text
        rotate = await http.post("/admin/keys/rotate", data={"csrf_token": csrf_of(keys_page)})
        assert rotate.status_code == 303
        assert "next" in (await browser.open("/admin/keys")).text

        # The audit log: each action, by this admin through the console.
        log = table_of(await browser.open("/admin/events?user=root"))
        for name in ("client.created", "client.secret_rotated", "session.ended", "keys.rotated"):
            assert f"<code>{name}</code>" in log, name
        assert "console.signed_in" in log
        only_clients = table_of(
            await browser.open(f"/admin/events?type=client&client_id={client_id}")
        )
        assert "client.secret_rotated" in only_clients and "client.created" in only_clients
        assert "session.ended" not in only_clients and "keys.rotated" not in only_clients
        assert "console" in only_clients and admin_sub in only_clients
        cid = re.search(r'href="[^"]*/admin/events/([^"]+)"', only_clients)
        assert cid
        explained = await browser.open(f"/admin/events/{cid.group(1)}")
        assert explained.status_code == 200 and "keystead explain" in explained.text

    events = await env.provider.store.events.recent(500)
    rotated_events = [e for e in events if e.name == "client.secret_rotated"]
    assert rotated_events[0].data["channel"] == "console"
    assert rotated_events[0].data["by_sub"] == admin_sub
    async with env.client(cookies=alice_cookies) as http:  # alice's session is over
        assert (await http.get("/account")).status_code == 303


async def test_a_non_admin_is_refused_with_a_page_that_says_so(env: Env) -> None:
    await env.add_user("bob")
    async with env.client() as http:
        refused = await console_sign_in(Browser(http), "bob")
        assert refused.status_code == 403
        assert "Not an administrator" in refused.text and "Traceback" not in refused.text
        assert "keystead_console=" not in refused.headers.get("set-cookie", "").split(";")[0]
        again = await http.get("/admin")
        assert again.status_code == 303  # no console session was opened


async def test_forms_need_the_csrf_token(env: Env) -> None:
    await env.add_user("root", admin=True)
    async with env.client() as http:
        await console_sign_in(Browser(http), "root")
        data: dict[str, Any] = {"type": "m2m", "client_name": "Sneaky", "scope": ""}
        missing = await http.post("/admin/clients/new", data=data)
        assert missing.status_code == 400 and "could not verify" in missing.text
        wrong = await http.post("/admin/clients/new", data={**data, "csrf_token": "x" * 32})
        assert wrong.status_code == 400
    clients = await env.provider.store.clients.list()
    assert [c.client_id for c in clients] == ["keystead-console"]  # the sign-in's anchor


async def test_a_revoked_admin_is_out_at_the_next_request(env: Env) -> None:
    await env.add_user("root", admin=True)
    async with env.client() as http:
        home = await console_sign_in(Browser(http), "root")
        assert home.status_code == 200
        await user_service.set_admin(env.provider, "root", False, CLI)
        refused = await http.get("/admin/clients")
        assert refused.status_code == 403 and "Not an administrator" in refused.text


async def test_no_session_cookie_no_console_and_a_forged_one_is_ignored(env: Env) -> None:
    async with env.client(cookies={"keystead_console": "forged"}) as http:
        response = await http.get("/admin/users")
        assert response.status_code == 303
        assert response.headers["location"].endswith("/admin/signin")
        assert PASSWORD not in response.text


async def test_admins_need_a_second_factor_by_default(tmp_path: Path) -> None:
    env = await make_env(tmp_path)  # KEYSTEAD_ADMIN_REQUIRE_MFA defaults to true
    try:
        assert env.settings.admin_require_mfa
        sub = await env.add_user("root", admin=True)
        async with env.client() as http:  # a password alone does not open the console
            page = await console_sign_in(Browser(http), "root")
            assert page.status_code == 403 and "error=access_denied" in str(page.url)
            assert "requires a second factor the user has not set up" in page.text
            assert (await http.get("/admin")).status_code == 303
        secret = pyotp.random_base32()
        await factor_service.import_totp(env.provider, sub, secret, "Phone", CLI)
        async with env.client() as http:
            browser = Browser(http)
            factor_page = await console_sign_in(browser, "root")
            assert 'autocomplete="one-time-code"' in factor_page.text
            code = pyotp.TOTP(secret).at(env.clock())
            home = await follow(browser, await browser.submit(factor_page, code=code))
            assert home.status_code == 200 and "signed in with two factors" in home.text
    finally:
        await env.provider.close()


async def test_under_https_the_cookie_is_secure_strict_and_scoped(tmp_path: Path) -> None:
    env = await make_env(tmp_path, issuer="https://id.example.test", admin_require_mfa=False)
    try:
        await env.add_user("root", admin=True)
        async with env.client() as http:
            browser = Browser(http)
            start = await browser.open("/admin/signin")
            flow_cookie = start.headers["set-cookie"]
            assert flow_cookie.startswith("__Secure-keystead_console_flow=")
            assert "Path=/admin" in flow_cookie and "SameSite=lax" in flow_cookie
            page = await follow(browser, start)
            callback = await browser.login(page, "root")
            assert callback.headers["location"].startswith("https://id.example.test/admin/callback")
            opened = await browser.open(callback.headers["location"])
            cookies = opened.headers.get_list("set-cookie")
            session = next(c for c in cookies if c.startswith("__Secure-keystead_console="))
            for attribute in ("HttpOnly", "Path=/admin", "SameSite=strict", "Secure"):
                assert attribute in session, session
            home = await browser.open(opened.headers["location"])
            assert home.status_code == 200
    finally:
        await env.provider.close()
