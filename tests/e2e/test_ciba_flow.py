"""OpenID Connect CIBA Core 1.0 over HTTP: a client asks at /bc-authorize for a user named
by a hint, polls the token endpoint (pending, too fast: slow_down and +5 s), the user signs in
to /account in a browser and approves with the CSRF token; the client gets an ID token for
that user once. Denied, expired, replayed and other-client requests; bad hints, a missing
openid scope, a bad binding_message; id_token_hint and login_hint_token; and ping mode with a
real HTTP receiver on loopback getting the bearer-authenticated ping through the outbox."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import AsyncIterator, Iterator
from html import unescape
from pathlib import Path
from typing import Any

import httpx
import pytest
from joserfc import jwt as jose_jwt
from joserfc.jwk import ECKey

from keystead.housekeeping import PURGE_MARGIN, purge_expired
from keystead.jobs import HANDLERS
from keystead.outbox import Sender
from keystead.protocol.ciba_metadata import GRANT_TYPE
from tests.e2e.ciba_receiver import PingReceiver
from tests.e2e.conftest import Browser, Env, make_env
from tests.e2e.test_account_page import sign_in

pytestmark = pytest.mark.anyio
BINDING = "Pay 42 EUR at Kiosk 7"


async def ciba_client(env: Env, mode: str = "poll", **overrides: Any) -> tuple[str, str]:
    client_id, secret = await env.add_client(
        client_name="Kiosk Bank",
        redirect_uris=[],
        response_types=[],
        grant_types=[GRANT_TYPE, "refresh_token"],
        scope="openid profile email offline_access",
        backchannel_token_delivery_mode=mode,
        **overrides,
    )
    assert secret is not None
    return client_id, secret


async def bc_authorize(
    http: httpx.AsyncClient, client: tuple[str, str], **params: str
) -> httpx.Response:
    data = {"scope": "openid profile", **params}
    return await http.post("/bc-authorize", data=data, auth=client)


async def start(http: httpx.AsyncClient, client: tuple[str, str], **params: str) -> str:
    params.setdefault("login_hint", "alice")
    params.setdefault("binding_message", BINDING)
    r = await bc_authorize(http, client, **params)
    assert r.status_code == 200, r.text
    assert r.headers["cache-control"] == "no-store"
    body = r.json()
    assert body["expires_in"] == int(params.get("requested_expiry", 600))
    assert body["interval"] == 5
    assert len(body["auth_req_id"]) >= 22  # §7.3: at least 128 bits
    auth_req_id: str = body["auth_req_id"]
    return auth_req_id


async def poll(
    http: httpx.AsyncClient, client: tuple[str, str], auth_req_id: str
) -> httpx.Response:
    data = {"grant_type": GRANT_TYPE, "auth_req_id": auth_req_id}
    return await http.post("/token", data=data, auth=client)


def error_of(r: httpx.Response, status: int = 400) -> str:
    assert r.status_code == status, r.text
    error: str = r.json()["error"]
    return error


def claims_of(jwt: str) -> dict[str, Any]:
    payload: dict[str, Any] = json.loads(base64.urlsafe_b64decode(jwt.split(".")[1] + "=="))
    return payload


_CIBA_FORM = re.compile(
    r'action="[^"]*/account/ciba/answer".*?name="csrf_token" value="([^"]*)".*?'
    r'name="request_id" value="([^"]*)"',
    re.S,
)


async def pending_on_account(browser: Browser) -> tuple[str, list[tuple[str, str]]]:
    """The account page's text and its CIBA forms' (csrf_token, request_id)."""
    page = await browser.open("/account")
    assert page.status_code == 200, page.text[:300]
    return page.text, [(unescape(c), unescape(r)) for c, r in _CIBA_FORM.findall(page.text)]


async def decide(browser: Browser, decision: str, index: int = 0) -> httpx.Response:
    text, forms = await pending_on_account(browser)
    assert forms, text[:2000]
    csrf, request_id = forms[index]
    data = {"csrf_token": csrf, "request_id": request_id, "decision": decision}
    return await browser.http.post("/account/ciba/answer", data=data)


async def test_poll_mode_approved_once(env: Env) -> None:
    client = await ciba_client(env)
    sub = await env.add_user()
    async with env.client() as rp, env.client() as http:
        auth_req_id = await start(rp, client)
        assert error_of(await poll(rp, client, auth_req_id)) == "authorization_pending"
        env.clock.now += 1
        assert error_of(await poll(rp, client, auth_req_id)) == "slow_down"
        env.clock.now += 6  # more than 5 s, less than the raised 10 s
        assert error_of(await poll(rp, client, auth_req_id)) == "slow_down"

        browser = Browser(http)
        await sign_in(env, browser)
        text, forms = await pending_on_account(browser)
        assert "Kiosk Bank" in text and BINDING in text and "expires in" in text
        assert len(forms) == 1
        # The attacker's move: a cross-site POST without the CSRF token changes nothing.
        no_csrf = await http.post(
            "/account/ciba/answer", data={"request_id": forms[0][1], "decision": "approve"}
        )
        assert no_csrf.status_code == 400
        env.clock.now += 16
        assert error_of(await poll(rp, client, auth_req_id)) == "authorization_pending"

        done = await decide(browser, "approve")
        assert done.status_code == 303 and "done=ciba_approved" in done.headers["location"]
        text, forms = await pending_on_account(browser)
        assert forms == [] and "You approved the request" not in text  # no ?done here

        env.clock.now += 16
        r = await poll(rp, client, auth_req_id)
        assert r.status_code == 200, r.text
        tokens = r.json()
        assert tokens["token_type"] == "Bearer" and "refresh_token" not in tokens
        claims = claims_of(tokens["id_token"])
        assert claims["sub"] == sub and claims["aud"] == client[0]
        assert claims["acr"] == "1" and claims["amr"] == ["pwd"] and claims["sid"]
        assert claims["iss"] == env.settings.issuer and "nonce" not in claims
        userinfo = await rp.get(
            "/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"}
        )
        assert userinfo.status_code == 200 and userinfo.json()["sub"] == sub

        # Single use (§10.1): the auth_req_id is spent.
        assert error_of(await poll(rp, client, auth_req_id)) == "invalid_grant"
        # An unknown one, and someone else's.
        assert error_of(await poll(rp, client, "made-up")) == "invalid_grant"
        other = await ciba_client(env)
        second = await start(rp, client)
        assert error_of(await poll(rp, other, second)) == "invalid_grant"
        # The wrong secret never reaches the grant.
        r = await poll(rp, (client[0], "wrong"), second)
        assert error_of(r, 401) == "invalid_client"


async def test_denied_and_refresh_token(env: Env) -> None:
    client = await ciba_client(env)
    await env.add_user(email_verified=True)
    async with env.client() as rp, env.client() as http:
        # The email of a verified address names the user too.
        denied = await start(rp, client, login_hint="alice@example.com")
        browser = Browser(http)
        await sign_in(env, browser)
        r = await decide(browser, "deny")
        assert r.status_code == 303 and "done=ciba_denied" in r.headers["location"]
        assert error_of(await poll(rp, client, denied)) == "access_denied"

        approved = await start(rp, client, scope="openid offline_access")
        await decide(browser, "approve")
        tokens = (await poll(rp, client, approved)).json()
        assert "refresh_token" in tokens and "id_token" in tokens


async def test_expired_request(env: Env) -> None:
    client = await ciba_client(env)
    await env.add_user()
    async with env.client() as rp, env.client() as http:
        auth_req_id = await start(rp, client, requested_expiry="30")
        browser = Browser(http)
        await sign_in(env, browser)
        env.clock.now += 31
        _, forms = await pending_on_account(browser)
        assert forms == []  # no longer listed
        assert error_of(await poll(rp, client, auth_req_id)) == "expired_token"
        # Housekeeping purges it after the margin; then it is simply unknown.
        env.clock.now += PURGE_MARGIN + 1
        assert (await purge_expired(env.provider))["ciba_requests"] == 1
        assert error_of(await poll(rp, client, auth_req_id)) == "invalid_grant"


async def test_page_escapes_the_message_and_approval_needs_a_fresh_sign_in(env: Env) -> None:
    client = await ciba_client(env)
    await env.add_user()
    async with env.client() as rp, env.client() as http:
        script = "<script>alert(1)</script>"
        auth_req_id = await start(rp, client, binding_message=script, requested_expiry="1800")
        browser = Browser(http)
        await sign_in(env, browser)
        text, _ = await pending_on_account(browser)
        assert "<script>alert(1)</script>" not in text and "&lt;script&gt;" in text
        env.clock.now += 16 * 60  # the sign-in is no longer fresh
        r = await decide(browser, "approve")
        assert r.status_code == 303 and "/authorize" in r.headers["location"]
        assert error_of(await poll(rp, client, auth_req_id)) == "authorization_pending"
        r = await decide(browser, "deny")  # denying needs no fresh sign-in
        assert r.status_code == 303 and "done=ciba_denied" in r.headers["location"]
        assert error_of(await poll(rp, client, auth_req_id)) == "access_denied"


async def test_another_user_cannot_answer(env: Env) -> None:
    client = await ciba_client(env)
    await env.add_user()
    await env.add_user("bob")
    async with env.client() as rp, env.client() as alice_http, env.client() as bob_http:
        auth_req_id = await start(rp, client)
        alice = Browser(alice_http)
        await sign_in(env, alice)
        _, forms = await pending_on_account(alice)
        request_id = forms[0][1]
        bob = Browser(bob_http)
        await sign_in(env, bob, username="bob")
        text, bob_forms = await pending_on_account(bob)
        assert bob_forms == [] and BINDING not in text
        csrf = re.search(r'name="csrf_token" value="([^"]*)"', text)
        assert csrf
        r = await bob_http.post(
            "/account/ciba/answer",
            data={"csrf_token": csrf.group(1), "request_id": request_id, "decision": "approve"},
        )
        assert r.status_code == 303 and "done=ciba_gone" in r.headers["location"]
        assert error_of(await poll(rp, client, auth_req_id)) == "authorization_pending"


async def test_refused_requests(env: Env) -> None:
    client = await ciba_client(env)
    await env.add_user()  # alice@example.com, not verified
    async with env.client() as rp:
        cases = [
            ({"login_hint": "nobody"}, "unknown_user_id"),
            ({"login_hint": "alice@example.com"}, "unknown_user_id"),  # unverified address
            ({"login_hint": "alice", "scope": "profile"}, "invalid_request"),  # no openid
            ({}, "invalid_request"),  # no hint
            ({"login_hint": "alice", "id_token_hint": "x.y.z"}, "invalid_request"),  # two
            ({"login_hint": "alice", "binding_message": "x" * 101}, "invalid_binding_message"),
            ({"login_hint": "alice", "binding_message": "a\x07b"}, "invalid_binding_message"),
            ({"login_hint": "alice", "requested_expiry": "0"}, "invalid_request"),
            ({"login_hint": "alice", "requested_expiry": "9999"}, "invalid_request"),
            ({"login_hint": "alice", "request": "a.b.c"}, "invalid_request"),
            ({"id_token_hint": "not-a-jwt"}, "invalid_request"),
        ]
        for params, error in cases:
            r = await bc_authorize(rp, client, **params)
            assert error_of(r) == error, (params, r.text)
        r = await bc_authorize(rp, (client[0], "wrong"), login_hint="alice")
        assert error_of(r, 401) == "invalid_client"
        plain, secret = await env.add_client(client_name="No CIBA")
        assert secret is not None
        r = await bc_authorize(rp, (plain, secret), login_hint="alice")
        assert error_of(r) == "unauthorized_client"
        # Nothing was stored for the refused requests.
        sub = (await env.provider.store.users.get_by_username("alice")).sub  # type: ignore[union-attr]
        assert await env.provider.store.ciba_requests.pending_for(sub, env.clock()) == []


async def test_id_token_hint_and_login_hint_token(env: Env) -> None:
    key = ECKey.generate_key("P-256", private=True)
    key.ensure_kid()
    jwks = {"keys": [{**key.as_dict(private=False), "kid": key.kid, "use": "sig"}]}
    client = await ciba_client(env, jwks=jwks)
    sub = await env.add_user()
    issuer = env.settings.issuer
    async with env.client() as rp, env.client() as http:
        browser = Browser(http)
        await sign_in(env, browser)
        first = await start(rp, client)
        await decide(browser, "approve")
        id_token = (await poll(rp, client, first)).json()["id_token"]

        # id_token_hint: an ID token this client received names its user (even expired).
        env.clock.now += 7200
        await sign_in(env, browser)
        by_id_token = await start(rp, client, login_hint="", id_token_hint=id_token)
        assert by_id_token
        other = await ciba_client(env)
        r = await bc_authorize(rp, other, id_token_hint=id_token)
        assert error_of(r) == "invalid_request"  # issued to another client

        def hint(claims: dict[str, Any], signer: ECKey = key) -> str:
            header = {"alg": "ES256", "kid": signer.kid}
            return jose_jwt.encode(header, claims, signer)

        now = env.clock()
        good = {
            "iss": client[0],
            "aud": issuer,
            "exp": now + 60,
            "sub_id": {"format": "iss_sub", "iss": issuer, "sub": sub},
        }
        by_token = await start(rp, client, login_hint="", login_hint_token=hint(good))
        await decide(browser, "approve")
        await decide(browser, "approve")
        for auth_req_id in (by_id_token, by_token):
            r = await poll(rp, client, auth_req_id)
            assert r.status_code == 200, r.text
            assert claims_of(r.json()["id_token"])["sub"] == sub

        expired = {**good, "exp": now - 120}
        r = await bc_authorize(rp, client, login_hint_token=hint(expired))
        assert error_of(r) == "expired_login_hint_token"
        stranger = ECKey.generate_key("P-256", private=True)
        stranger.ensure_kid()
        r = await bc_authorize(rp, client, login_hint_token=hint(good, stranger))
        assert error_of(r) == "invalid_request"  # not signed with the client's keys
        wrong_aud = {**good, "aud": "https://elsewhere.example"}
        r = await bc_authorize(rp, client, login_hint_token=hint(wrong_aud))
        assert error_of(r) == "invalid_request"
        nobody = {**good, "sub_id": {"format": "iss_sub", "iss": issuer, "sub": "nobody"}}
        r = await bc_authorize(rp, client, login_hint_token=hint(nobody))
        assert error_of(r) == "unknown_user_id"


@pytest.fixture
def receiver() -> Iterator[PingReceiver]:
    with PingReceiver() as running:
        yield running  # type: ignore[misc]


@pytest.fixture
async def dev_env(tmp_path: Path) -> AsyncIterator[Env]:
    e = await make_env(tmp_path, allow_private_network_fetch=True)
    yield e
    await e.provider.close()


async def test_ping_mode(dev_env: Env, receiver: PingReceiver) -> None:
    env = dev_env
    client = await ciba_client(
        env, "ping", backchannel_client_notification_endpoint=receiver.uri("kiosk")
    )
    sub = await env.add_user()
    async with env.client() as rp, env.client() as http:
        # §7.1: ping mode needs the client's notification token.
        r = await bc_authorize(rp, client, login_hint="alice")
        assert error_of(r) == "invalid_request"
        r = await bc_authorize(
            rp, client, login_hint="alice", client_notification_token="not a token"
        )
        assert error_of(r) == "invalid_request"
        token = "ping-token-" + "x" * 40
        auth_req_id = await start(rp, client, client_notification_token=token)
        stored = await env.provider.store.ciba_requests.pending_for(sub, env.clock())
        assert token not in str(stored) and auth_req_id not in str(stored)  # sealed at rest
        # A ping client may still poll (§7.3 gives it an interval).
        assert error_of(await poll(rp, client, auth_req_id)) == "authorization_pending"
        sender = Sender(env.provider, HANDLERS)
        assert await sender.run_once() == 0  # nothing to send before the user answers

        browser = Browser(http)
        await sign_in(env, browser)
        await decide(browser, "approve")
        assert await sender.run_once() == 1
        assert len(receiver.pings) == 1
        ping = receiver.pings[0]
        # §10.2: JSON {"auth_req_id"} with the client's bearer token.
        assert ping.body == {"auth_req_id": auth_req_id}
        assert ping.authorization == f"Bearer {token}"
        assert ping.content_type.startswith("application/json")
        env.clock.now += 10
        r = await poll(rp, client, auth_req_id)
        assert r.status_code == 200 and claims_of(r.json()["id_token"])["sub"] == sub

        # A denial is pinged too; the client then learns access_denied.
        denied = await start(rp, client, client_notification_token=token)
        await decide(browser, "deny")
        assert await sender.run_once() == 1
        assert receiver.pings[-1].body == {"auth_req_id": denied}
        assert error_of(await poll(rp, client, denied)) == "access_denied"


async def test_ping_to_a_private_address_is_refused_without_the_setting(
    env: Env, receiver: PingReceiver
) -> None:
    client = await ciba_client(
        env, "ping", backchannel_client_notification_endpoint=receiver.uri("kiosk")
    )
    await env.add_user()
    async with env.client() as rp, env.client() as http:
        await start(rp, client, client_notification_token="tok")
        browser = Browser(http)
        await sign_in(env, browser)
        await decide(browser, "approve")
        assert await Sender(env.provider, HANDLERS).run_once() == 1
    assert receiver.pings == []  # the SSRF guard never connected
    jobs = await env.provider.store.jobs.recent(5)
    assert jobs[0].kind == "ciba_ping" and jobs[0].failed_at is not None


async def test_discovery(env: Env) -> None:
    async with env.client() as http:
        meta = (await http.get("/.well-known/openid-configuration")).json()
    assert meta["backchannel_authentication_endpoint"] == env.settings.issuer + "/bc-authorize"
    assert meta["backchannel_token_delivery_modes_supported"] == ["poll", "ping"]
    assert meta["backchannel_user_code_parameter_supported"] is False
    assert "backchannel_authentication_request_signing_alg_values_supported" not in meta
    assert GRANT_TYPE in meta["grant_types_supported"]


async def test_acr_values_need_a_step_up_before_approval(env: Env) -> None:
    """A request asking for acr 2 (CIBA Core §7.1): a password-only session is sent to add
    its second factor first; then the approval counts and the ID token says acr 2."""
    from tests.e2e.test_mfa_login import CODE_FIELD, enrol_totp

    client = await ciba_client(env)
    sub = await env.add_user()
    async with env.client() as rp, env.client() as http:
        browser = Browser(http)
        await sign_in(env, browser)  # before the app was enrolled: a password-only session
        app = await enrol_totp(env, sub)
        auth_req_id = await start(rp, client, acr_values="2")
        step_up = await decide(browser, "approve")
        assert step_up.status_code == 303 and "acr_values=2" in step_up.headers["location"]
        assert error_of(await poll(rp, client, auth_req_id)) == "authorization_pending"
        page = await browser.open(step_up.headers["location"])
        assert CODE_FIELD in page.text, page.text[:500]
        env.clock.now += 5
        back = await browser.submit(page, code=app.at(env.clock()))
        assert back.status_code == 303 and back.headers["location"].endswith("/account")
        done = await decide(browser, "approve")
        assert done.status_code == 303 and "ciba_approved" in done.headers["location"]
        env.clock.now += 10
        r = await poll(rp, client, auth_req_id)
        assert r.status_code == 200, r.text
        claims = claims_of(r.json()["id_token"])
        assert claims["acr"] == "2" and "otp" in claims["amr"]


async def test_a_client_cannot_flood_a_user(env: Env) -> None:
    client = await ciba_client(env)
    other = await ciba_client(env)
    await env.add_user()
    async with env.client() as rp:
        for _ in range(5):
            await start(rp, client)
        r = await bc_authorize(rp, client, login_hint="alice", binding_message=BINDING)
        assert (
            error_of(r) == "invalid_request" and "not answered yet" in r.json()["error_description"]
        )
        await start(rp, other)  # another client is not held back
        env.clock.now += 601  # expired ones no longer count
        await start(rp, client)
