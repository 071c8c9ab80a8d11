"""The device authorization grant (RFC 8628) over HTTP: a TV asks for codes, polls (pending,
then too fast: slow_down and +5 s), the user signs in and approves at /device in a browser,
the TV gets tokens once; an expired code, a denied one, and the attacker's moves at /device
(no CSRF token, guessing codes)."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import pytest

from keystead.protocol.device_authorization import GRANT_TYPE
from tests.e2e.conftest import Browser, Env
from tests.e2e.test_account_page import follow, sign_in

pytestmark = pytest.mark.anyio


async def tv_client(env: Env) -> str:
    client_id, _ = await env.add_client(
        client_name="Living Room TV",
        redirect_uris=[],
        response_types=[],
        grant_types=[GRANT_TYPE, "refresh_token"],
        token_endpoint_auth_method="none",
    )
    return client_id


async def start(http: httpx.AsyncClient, client_id: str) -> dict[str, Any]:
    r = await http.post(
        "/device_authorization",
        data={"client_id": client_id, "scope": "openid profile offline_access"},
    )
    assert r.status_code == 200, r.text
    assert r.headers["cache-control"] == "no-store"
    body: dict[str, Any] = r.json()
    return body


async def poll(http: httpx.AsyncClient, client_id: str, device_code: str) -> httpx.Response:
    data = {"grant_type": GRANT_TYPE, "client_id": client_id, "device_code": device_code}
    return await http.post("/token", data=data)


def error_of(r: httpx.Response) -> str:
    assert r.status_code == 400, r.text
    error: str = r.json()["error"]
    return error


async def answer(env: Env, browser: Browser, user_code: str, decision: str) -> httpx.Response:
    """Enter the code in lower case without the dash, see who asks, then decide."""
    page = await browser.open("/device")
    assert page.status_code == 200 and 'name="user_code"' in page.text
    confirm = await browser.submit(page, user_code=user_code.replace("-", "").lower())
    assert confirm.status_code == 200 and "Living Room TV" in confirm.text, confirm.text[:800]
    return await browser.submit(confirm, decision=decision)


async def test_device_flow_approved_once(env: Env) -> None:
    client_id = await tv_client(env)
    await env.add_user()
    async with env.client() as tv, env.client() as http:
        body = await start(tv, client_id)
        assert body["verification_uri"] == env.settings.issuer + "/device"
        device_code = body["device_code"]
        assert error_of(await poll(tv, client_id, device_code)) == "authorization_pending"
        env.clock.now += 1
        assert error_of(await poll(tv, client_id, device_code)) == "slow_down"
        env.clock.now += 6  # more than 5 s, less than the raised 10 s
        assert error_of(await poll(tv, client_id, device_code)) == "slow_down"

        browser = Browser(http)
        # Not signed in: /device sends the browser to the account sign-in, which comes back
        # to /device with the code of verification_uri_complete filled in.
        r = await browser.open(body["verification_uri_complete"])
        assert r.status_code == 303
        login = await follow(browser, r)
        assert 'name="password"' in login.text
        back = await follow(browser, await browser.login(login, "alice"))
        assert str(back.url).startswith(env.settings.issuer + "/device?user_code=")
        assert f'value="{body["user_code"]}"' in back.text, back.text[:600]
        done = await answer(env, browser, body["user_code"], "approve")
        assert done.status_code == 200 and "Device connected" in done.text

        env.clock.now += 20
        r = await poll(tv, client_id, device_code)
        assert r.status_code == 200, r.text
        tokens = r.json()
        assert tokens["token_type"] == "Bearer"
        assert {"access_token", "id_token", "refresh_token"} <= set(tokens)
        # the ID token reports the approving sign-in (a password: acr 1, amr pwd)
        claims = json.loads(base64.urlsafe_b64decode(tokens["id_token"].split(".")[1] + "=="))
        assert claims["acr"] == "1" and claims["amr"] == ["pwd"] and claims["sid"]
        info = await tv.get(
            "/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"}
        )
        assert info.status_code == 200 and info.json()["name"] == "Alice"
        env.clock.now += 20
        second = await poll(tv, client_id, device_code)
        assert error_of(second) == "invalid_grant"  # the device code is single use


async def test_device_flow_denied_and_expired(env: Env) -> None:
    client_id = await tv_client(env)
    await env.add_user()
    async with env.client() as tv, env.client() as http:
        denied, expired = await start(tv, client_id), await start(tv, client_id)
        browser = Browser(http)
        await sign_in(env, browser)
        done = await answer(env, browser, denied["user_code"], "deny")
        assert done.status_code == 200 and "Request denied" in done.text
        assert error_of(await poll(tv, client_id, denied["device_code"])) == "access_denied"

        env.clock.now += expired["expires_in"]
        assert error_of(await poll(tv, client_id, expired["device_code"])) == "expired_token"
        page = await browser.open("/device")
        late = await browser.submit(page, user_code=expired["user_code"])
        assert late.status_code == 400 and "not valid or has expired" in late.text


async def test_device_page_attacks(env: Env) -> None:
    client_id = await tv_client(env)
    await env.add_user()
    async with env.client() as tv, env.client() as http:
        body = await start(tv, client_id)
        browser = Browser(http)
        await sign_in(env, browser)
        page = await browser.open("/device")
        # No CSRF token: refused, the code stays pending.
        forged = await http.post(
            "/device", data={"user_code": body["user_code"], "decision": "approve"}
        )
        assert forged.status_code in (400, 403)
        assert error_of(await poll(tv, client_id, body["device_code"])) == "authorization_pending"
        # Guessing codes: after a few misses, the address waits.
        statuses = []
        for _ in range(7):
            r = await browser.submit(page, user_code="BCDF-GHJK")
            statuses.append(r.status_code)
        assert statuses[:5] == [400] * 5 and statuses[-1] == 429
        right = await browser.submit(page, user_code=body["user_code"])
        assert right.status_code == 429  # even the right code waits out the delay


async def test_client_not_registered_for_the_grant(env: Env) -> None:
    client_id, _ = await env.add_client(token_endpoint_auth_method="none")
    async with env.client() as http:
        r = await http.post("/device_authorization", data={"client_id": client_id})
        assert r.status_code == 400 and r.json()["error"] == "unauthorized_client"
