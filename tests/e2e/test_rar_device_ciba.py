"""Rich Authorization Requests (RFC 9396) in the device flow (RFC 8628) and CIBA over HTTP:
/device_authorization and /bc-authorize accept authorization_details, the approval pages
(/device, the account page) show them in the consent page's plain words, and the tokens
(token response, JWT access token, introspection, refreshed tokens) carry them; malformed or
unregistered details are refused with invalid_authorization_details before anything is
stored."""

from __future__ import annotations

import json
from html import unescape
from typing import Any

import httpx
import pytest

from keystead.jose import jwt
from keystead.protocol.ciba_metadata import GRANT_TYPE as CIBA
from keystead.protocol.device_authorization import GRANT_TYPE as DEVICE
from keystead.protocol.device_authorization import user_code_hash
from tests.e2e.conftest import Browser, Env
from tests.e2e.test_account_page import sign_in
from tests.e2e.test_ciba_flow import decide, pending_on_account
from tests.e2e.test_rar_tokens import PAY, READ, setup

pytestmark = pytest.mark.anyio
DETAILS = [PAY, READ]
WORDS = "Payments (payment_initiation): initiate, status at https://payments.example.com"
AMOUNT = "instructedAmount: currency EUR, amount 123.50"


def refused(r: httpx.Response, words: str) -> None:
    assert r.status_code == 400, r.text
    assert r.json()["error"] == "invalid_authorization_details"
    assert words in r.json()["error_description"], r.json()


async def carried(
    env: Env, http: httpx.AsyncClient, tokens: dict[str, Any], auth: tuple[str, str]
) -> None:
    assert tokens["authorization_details"] == DETAILS  # RFC 9396 §7
    claims = jwt.verify(tokens["access_token"], await env.provider.keyring())[1]
    assert claims["authorization_details"] == DETAILS  # §9.1
    r = await http.post("/introspect", data={"token": tokens["access_token"]}, auth=auth)
    assert r.json()["authorization_details"] == DETAILS  # §9.2


async def test_device_flow_with_details(env: Env) -> None:
    await setup(env)
    client_id, secret = await env.add_client(
        client_name="Till",
        redirect_uris=[],
        response_types=[],
        grant_types=[DEVICE, "refresh_token"],
        scope="openid payments offline_access",
    )
    assert secret is not None
    auth = (client_id, secret)
    async with env.client() as tv, env.client() as http:
        bad = await tv.post(
            "/device_authorization",
            data={"scope": "openid payments", "authorization_details": '[{"type": "nope"}]'},
            auth=auth,
        )
        refused(bad, "not a type this server accepts")
        r = await tv.post(
            "/device_authorization",
            data={
                "scope": "openid payments offline_access",
                "authorization_details": json.dumps(DETAILS),
            },
            auth=auth,
        )
        assert r.status_code == 200, r.text
        body = r.json()
        browser = Browser(http)
        await sign_in(env, browser)
        page = await browser.open("/device")
        confirm = await browser.submit(page, user_code=body["user_code"])
        text = unescape(confirm.text)
        assert confirm.status_code == 200 and "Till" in text
        assert WORDS in text and AMOUNT in text, text[:3000]
        assert "Payments (account_information): read at" in text
        done = await browser.submit(confirm, decision="approve")
        assert "Device connected" in done.text
        env.clock.now += 10
        r = await tv.post(
            "/token", data={"grant_type": DEVICE, "device_code": body["device_code"]}, auth=auth
        )
        assert r.status_code == 200, r.text
        tokens = r.json()
        await carried(env, tv, tokens, auth)
        # the grant keeps them: a refresh carries them, and may narrow them (§6.2)
        r = await tv.post(
            "/token",
            data={
                "grant_type": "refresh_token",
                "refresh_token": tokens["refresh_token"],
                "authorization_details": json.dumps([READ]),
            },
            auth=auth,
        )
        assert r.status_code == 200 and r.json()["authorization_details"] == [READ], r.text


async def test_device_flow_without_details_is_unchanged(env: Env) -> None:
    await setup(env)
    client_id, secret = await env.add_client(
        client_name="Till", redirect_uris=[], response_types=[], grant_types=[DEVICE]
    )
    assert secret is not None
    async with env.client() as tv:
        r = await tv.post(
            "/device_authorization", data={"scope": "openid"}, auth=(client_id, secret)
        )
        assert r.status_code == 200, r.text
        code = await env.provider.store.device_codes.get_by_user_code(
            user_code_hash(r.json()["user_code"])
        )
        assert code is not None and code.authorization_details is None


async def test_ciba_with_details(env: Env) -> None:
    await setup(env)
    client_id, secret = await env.add_client(
        client_name="Kiosk Bank",
        redirect_uris=[],
        response_types=[],
        grant_types=[CIBA],
        scope="openid payments",
        backchannel_token_delivery_mode="poll",
    )
    assert secret is not None
    auth = (client_id, secret)
    async with env.client() as rp, env.client() as http:
        bad = await rp.post(
            "/bc-authorize",
            data={"scope": "openid", "login_hint": "alice", "authorization_details": "{"},
            auth=auth,
        )
        refused(bad, "not valid JSON")
        r = await rp.post(
            "/bc-authorize",
            data={
                "scope": "openid payments",
                "login_hint": "alice",
                "binding_message": "Pay at Kiosk 7",
                "authorization_details": json.dumps(DETAILS),
            },
            auth=auth,
        )
        assert r.status_code == 200, r.text
        auth_req_id = r.json()["auth_req_id"]
        browser = Browser(http)
        await sign_in(env, browser)
        text, forms = await pending_on_account(browser)
        text = unescape(text)
        assert len(forms) == 1 and WORDS in text and AMOUNT in text, text[:3000]
        done = await decide(browser, "approve")
        assert done.status_code == 303, done.text
        env.clock.now += 10
        r = await rp.post(
            "/token", data={"grant_type": CIBA, "auth_req_id": auth_req_id}, auth=auth
        )
        assert r.status_code == 200, r.text
        await carried(env, rp, r.json(), auth)
