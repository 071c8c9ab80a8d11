"""The "second website": APIs accepting keystead's tokens. Refresh rotation and reuse
detection, client_credentials, revocation, introspection, JWT access tokens, resource
indicators, and the verifier library (keystead.rs) used by the example notes API."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from examples.notes_api.app import build_app as build_notes_api
from keystead.jose import jwt
from keystead.rs import Verifier
from keystead.services import clients
from keystead.services.apis import ApiSpec, create_api
from keystead.services.common import CLI
from tests.e2e.conftest import REDIRECT_URI, Browser, Env, pkce_pair, query_of
from tests.e2e.test_authorize_errors import auth_url

pytestmark = pytest.mark.anyio

NOTES = "https://notes.example.com"
CALENDAR = "https://calendar.example.com"


async def setup_apis(env: Env) -> dict[str, Any]:
    notes, _ = await create_api(
        env.provider.store,
        ApiSpec(
            NOTES,
            "Notes",
            [("notes:read", "Read your notes"), ("notes:write", "Write notes")],
            token_format="jwt",
        ),
        env.clock(),
    )
    calendar, secret = await create_api(
        env.provider.store,
        ApiSpec(
            CALENDAR,
            "Calendar",
            [("calendar:read", "See your calendar")],
            token_format="opaque",
            with_secret=True,
        ),
        env.clock(),
    )
    env.provider.forget_apis()
    await env.add_user()
    client_id, client_secret = await env.add_client(
        scope="openid email offline_access notes:read notes:write calendar:read",
        grant_types=["authorization_code", "refresh_token", "client_credentials"],
    )
    return {
        "notes": notes,
        "calendar": calendar,
        "calendar_secret": secret,
        "client_id": client_id,
        "client_secret": client_secret,
    }


def keystead_http(env: Env) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=env.app), base_url=env.settings.issuer
    )


def notes_api(env: Env, **kw: Any) -> httpx.AsyncClient:
    verifier = Verifier(
        env.settings.issuer, NOTES, http=keystead_http(env), clock=lambda: env.clock(), **kw
    )
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=build_notes_api(verifier)),
        base_url="https://notes.example.com",
    )


def calendar_verifier(env: Env, s: dict[str, Any], **kw: Any) -> Verifier:
    return Verifier(
        env.settings.issuer,
        CALENDAR,
        api_id=s["calendar"].api_id,
        api_secret=s["calendar_secret"],
        http=keystead_http(env),
        clock=lambda: env.clock(),
        **kw,
    )


async def authorize(env: Env, s: dict[str, Any], scope: str, **extra: str) -> dict[str, Any]:
    verifier, challenge = pkce_pair()
    async with env.client() as http:
        browser = Browser(http)
        page = await browser.login(
            await browser.open(
                auth_url(s["client_id"], scope=scope, code_challenge=challenge, **extra)
            )
        )
        if 'name="decision"' in page.text:
            assert "Read your notes" in page.text or "notes" not in scope  # API scope words
            page = await browser.consent(page)
    code = query_of(page.headers["location"])["code"]
    return await token(
        env,
        s,
        grant_type="authorization_code",
        code=code,
        redirect_uri=REDIRECT_URI,
        code_verifier=verifier,
    )


async def token(env: Env, s: dict[str, Any], expect: int = 200, **data: str) -> dict[str, Any]:
    async with env.client() as http:
        r = await http.post("/token", data=data, auth=(s["client_id"], s["client_secret"]))
    assert r.status_code == expect, r.text
    body: dict[str, Any] = r.json()
    return body


async def introspect(
    env: Env, tok: str, auth: tuple[str, str] | None, **headers: str
) -> httpx.Response:
    async with env.client() as http:
        return await http.post("/introspect", data={"token": tok}, auth=auth, headers=headers)


async def test_jwt_access_token_for_an_api_per_rfc_9068(env: Env) -> None:
    s = await setup_apis(env)
    body = await authorize(env, s, "openid notes:read offline_access", resource=NOTES)
    header, claims = jwt.verify(body["access_token"], await env.provider.keyring())
    assert header["typ"] == "at+jwt"
    assert {"iss", "exp", "aud", "sub", "client_id", "iat", "jti", "scope"} <= set(claims)
    assert claims["aud"] == [NOTES, env.settings.issuer]  # openid granted: UserInfo too
    assert claims["scope"] == "openid notes:read offline_access"
    assert "refresh_token" in body and "id_token" in body
    async with notes_api(env) as api:
        ok = await api.get("/notes", headers={"Authorization": f"Bearer {body['access_token']}"})
        assert ok.status_code == 200 and ok.json()["sub"] == claims["sub"]
        write = await api.post(
            "/notes",
            json={"text": "x"},
            headers={"Authorization": f"Bearer {body['access_token']}"},
        )
        assert write.status_code == 403
        assert 'error="insufficient_scope"' in write.headers["www-authenticate"]
        missing = await api.get("/notes")
        assert missing.status_code == 401 and missing.headers["www-authenticate"].startswith(
            'Bearer realm="notes"'
        )
    async with env.client() as http:
        info = await http.get(
            "/userinfo", headers={"Authorization": f"Bearer {body['access_token']}"}
        )
    assert info.status_code == 200 and info.json()["sub"] == claims["sub"]


async def test_token_for_api_a_refused_by_api_b(env: Env) -> None:
    s = await setup_apis(env)
    notes_token = (await authorize(env, s, "openid calendar:read notes:read", resource=NOTES))[
        "access_token"
    ]
    with pytest.raises(Exception) as refused:
        await calendar_verifier(env, s).verify(notes_token)
    assert "not for this API" in str(refused.value)
    # the opaque calendar token (second resource of the same grant) is refused by notes
    async with env.client() as http:
        browser = Browser(http)
        verifier, challenge = pkce_pair()
        url = (
            auth_url(
                s["client_id"], scope="openid calendar:read notes:read", code_challenge=challenge
            )
            + f"&resource={NOTES}&resource={CALENDAR}"
        )
        page = await browser.login(await browser.open(url))
        page = await browser.consent(page) if 'name="decision"' in page.text else page
    code = query_of(page.headers["location"])["code"]
    ambiguous = await token(
        env,
        s,
        400,
        grant_type="authorization_code",
        code=code,
        redirect_uri=REDIRECT_URI,
        code_verifier=verifier,
    )
    assert ambiguous["error"] == "invalid_target" and "resource=" in ambiguous["error_description"]


async def test_resource_picks_the_api_and_unknown_is_invalid_target(env: Env) -> None:
    s = await setup_apis(env)
    async with env.client() as http:
        r = await http.get(auth_url(s["client_id"], resource="https://nope.example.com"))
    assert query_of(r.headers["location"])["error"] == "invalid_target"
    body = await authorize(env, s, "openid calendar:read offline_access", resource=CALENDAR)
    assert body["access_token"].count(".") == 0  # opaque for the calendar API
    info = await calendar_verifier(env, s).verify(body["access_token"], ["calendar:read"])
    assert info.client_id == s["client_id"]


async def test_refresh_rotation_and_reuse_revokes_the_family(env: Env) -> None:
    s = await setup_apis(env)
    first = await authorize(env, s, "openid calendar:read offline_access", resource=CALENDAR)
    second = await token(env, s, grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert second["refresh_token"] != first["refresh_token"]
    assert "id_token" in second
    auth = (s["calendar"].api_id, s["calendar_secret"])
    # the refreshed access token was recorded with the rotation (opaque: no record, no token)
    assert (await introspect(env, second["access_token"], auth)).json()["active"] is True
    env.clock.now += env.settings.refresh_grace + 1
    reused = await token(
        env, s, 400, grant_type="refresh_token", refresh_token=first["refresh_token"]
    )
    assert reused["error"] == "invalid_grant" and "revoked" in reused["error_description"]
    # the whole family is dead: the newest refresh token and every access token
    dead = await token(
        env, s, 400, grant_type="refresh_token", refresh_token=second["refresh_token"]
    )
    assert dead["error"] == "invalid_grant"
    for access in (first["access_token"], second["access_token"]):
        assert (await introspect(env, access, auth)).json() == {"active": False}


async def test_concurrent_refresh_in_the_grace_window_is_one_family(env: Env) -> None:
    s = await setup_apis(env)
    first = await authorize(env, s, "openid calendar:read offline_access", resource=CALENDAR)
    a, b = await asyncio.gather(
        token(env, s, grant_type="refresh_token", refresh_token=first["refresh_token"]),
        token(env, s, grant_type="refresh_token", refresh_token=first["refresh_token"]),
    )
    assert a["refresh_token"] == b["refresh_token"]  # the same successor
    assert a["access_token"] != b["access_token"]  # each gets a fresh access token
    auth = (s["calendar"].api_id, s["calendar_secret"])
    for access in (a["access_token"], b["access_token"]):  # the loser's is recorded too
        assert (await introspect(env, access, auth)).json()["active"] is True
    env.clock.now += 5  # still inside the window: a lost response, retried
    again = await token(env, s, grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert again["refresh_token"] == a["refresh_token"]
    nxt = await token(env, s, grant_type="refresh_token", refresh_token=a["refresh_token"])
    assert nxt["access_token"]


async def test_refresh_scope_narrowing_and_widening(env: Env) -> None:
    s = await setup_apis(env)
    first = await authorize(env, s, "openid notes:read notes:write offline_access", resource=NOTES)
    narrow = await token(
        env, s, grant_type="refresh_token", refresh_token=first["refresh_token"], scope="notes:read"
    )
    assert narrow["scope"] == "notes:read"
    _, claims = jwt.verify(narrow["access_token"], await env.provider.keyring())
    assert claims["scope"] == "notes:read" and claims["aud"] == NOTES
    # the refresh token kept its full scope (RFC 6749 §6)
    full = await token(env, s, grant_type="refresh_token", refresh_token=narrow["refresh_token"])
    assert "notes:write" in full["scope"]
    wider = await token(
        env,
        s,
        400,
        grant_type="refresh_token",
        refresh_token=full["refresh_token"],
        scope="notes:read calendar:read",
    )
    assert wider["error"] == "invalid_scope" and "calendar:read" in wider["error_description"]


async def test_refresh_idle_and_absolute_lifetimes(env: Env) -> None:
    s = await setup_apis(env)
    first = await authorize(env, s, "openid offline_access")
    env.clock.now += env.settings.refresh_idle_ttl + 1
    idle = await token(
        env, s, 400, grant_type="refresh_token", refresh_token=first["refresh_token"]
    )
    assert idle["error"] == "invalid_grant" and "expired" in idle["error_description"]


async def test_no_refresh_token_without_offline_access(env: Env) -> None:
    s = await setup_apis(env)
    body = await authorize(env, s, "openid email")
    assert "refresh_token" not in body


async def test_client_credentials(env: Env) -> None:
    s = await setup_apis(env)
    body = await token(env, s, grant_type="client_credentials", scope="notes:read")
    assert "refresh_token" not in body  # RFC 6749 §4.4.3
    _, claims = jwt.verify(body["access_token"], await env.provider.keyring())
    assert claims["sub"] == "client:" + s["client_id"] and claims["aud"] == NOTES
    assert claims["client_id"] == s["client_id"] and claims["scope"] == "notes:read"
    async with notes_api(env) as api:
        r = await api.get("/notes", headers={"Authorization": f"Bearer {body['access_token']}"})
        assert r.status_code == 200
    ambiguous = await token(env, s, 400, grant_type="client_credentials")
    assert ambiguous["error"] == "invalid_target"
    by_resource = await token(env, s, grant_type="client_credentials", resource=CALENDAR)
    assert by_resource["scope"] == "calendar:read"
    bad = await token(env, s, 400, grant_type="client_credentials", scope="openid")
    assert bad["error"] == "invalid_scope"
    public_id, _ = await env.add_client(
        token_endpoint_auth_method="none", grant_types=["authorization_code"]
    )
    async with env.client() as http:
        r = await http.post(
            "/token", data={"grant_type": "client_credentials", "client_id": public_id}
        )
    assert r.status_code == 400 and r.json()["error"] == "unauthorized_client"


async def test_revocation(env: Env) -> None:
    s = await setup_apis(env)
    body = await authorize(env, s, "openid calendar:read offline_access", resource=CALENDAR)
    verifier = calendar_verifier(env, s, introspection_cache_ttl=0)
    await verifier.verify(body["access_token"])
    async with env.client() as http:
        other_id, other_secret = await env.add_client(client_name="Other")
        r = await http.post(
            "/revoke", data={"token": body["access_token"]}, auth=(other_id, other_secret)
        )
        assert r.status_code == 400 and r.json()["error"] == "unauthorized_client"
        r = await http.post(
            "/revoke",
            data={"token": body["access_token"], "token_type_hint": "access_token"},
            auth=(s["client_id"], s["client_secret"]),
        )
        assert r.status_code == 200 and r.content == b""
        unknown = await http.post(
            "/revoke", data={"token": "nope"}, auth=(s["client_id"], s["client_secret"])
        )
        assert unknown.status_code == 200
        unauth = await http.post("/revoke", data={"token": "nope"})
        assert unauth.status_code == 401
    with pytest.raises(Exception, match="not active"):
        await verifier.verify(body["access_token"])
    # revoking the refresh token revokes its access tokens too
    fresh = await token(env, s, grant_type="refresh_token", refresh_token=body["refresh_token"])
    async with env.client() as http:
        await http.post(
            "/revoke",
            data={"token": fresh["refresh_token"]},
            auth=(s["client_id"], s["client_secret"]),
        )
    with pytest.raises(Exception, match="not active"):
        await verifier.verify(fresh["access_token"])


async def test_introspection_rules(env: Env) -> None:
    s = await setup_apis(env)
    body = await authorize(env, s, "openid notes:read offline_access", resource=NOTES)
    access = body["access_token"]
    unauth = await introspect(env, access, None)
    assert unauth.status_code == 401 and unauth.headers["www-authenticate"].startswith("Basic")
    mine = (await introspect(env, access, (s["client_id"], s["client_secret"]))).json()
    assert mine["active"] and mine["client_id"] == s["client_id"] and mine["scope"]
    # the calendar API may not see a notes token
    calendar = (s["calendar"].api_id, s["calendar_secret"])
    assert (await introspect(env, access, calendar)).json() == {"active": False}
    wrong = await introspect(env, access, (s["calendar"].api_id, "bad"))
    assert wrong.status_code == 401
    other_id, other_secret = await env.add_client(client_name="Other")
    assert (await introspect(env, access, (other_id, other_secret))).json() == {"active": False}
    refresh = (
        await introspect(env, body["refresh_token"], (s["client_id"], s["client_secret"]))
    ).json()
    assert refresh["active"] and refresh["token_type"] == "refresh_token"
    # RFC 9701: the JWT response
    r = await introspect(
        env,
        access,
        (s["client_id"], s["client_secret"]),
        accept="application/token-introspection+jwt",
    )
    assert r.headers["content-type"].startswith("application/token-introspection+jwt")
    header, claims = jwt.verify(r.text, await env.provider.keyring())
    assert header["typ"] == "token-introspection+jwt"
    assert claims["token_introspection"]["active"] and claims["aud"] == s["client_id"]


async def test_code_replay_also_kills_the_refresh_token(env: Env) -> None:
    s = await setup_apis(env)
    verifier, challenge = pkce_pair()
    async with env.client() as http:
        browser = Browser(http)
        page = await browser.login(
            await browser.open(
                auth_url(s["client_id"], scope="openid offline_access", code_challenge=challenge)
            )
        )
        page = await browser.consent(page)
    code = query_of(page.headers["location"])["code"]
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT_URI,
        "code_verifier": verifier,
    }
    first = await token(env, s, **data)
    await token(env, s, 400, **data)
    dead = await token(
        env, s, 400, grant_type="refresh_token", refresh_token=first["refresh_token"]
    )
    assert dead["error"] == "invalid_grant"


async def test_a_deleted_clients_jwt_access_tokens_are_inactive(env: Env) -> None:
    """Issue 18 #10: a client_credentials JWT is not recorded, so nothing revoked it when its
    client was deleted; introspection (and UserInfo, the same resolver) must say inactive."""
    api, api_secret = await create_api(
        env.provider.store,
        ApiSpec(
            "https://ledger.example.com",
            "Ledger",
            [("ledger:read", "Read")],
            token_format="jwt",
            with_secret=True,
        ),
        env.clock(),
    )
    env.provider.forget_apis()
    client_id, client_secret = await env.add_client(
        scope="ledger:read", grant_types=["client_credentials"]
    )
    async with env.client() as http:
        issued = await http.post(
            "/token",
            data={"grant_type": "client_credentials", "scope": "ledger:read"},
            auth=(client_id, client_secret),
        )
    access = issued.json()["access_token"]
    caller = (api.api_id, api_secret)
    assert (await introspect(env, access, caller)).json()["active"] is True
    await clients.delete(env.provider, client_id, CLI)
    assert (await introspect(env, access, caller)).json() == {"active": False}


async def test_a_token_of_another_kind_is_not_an_access_token(env: Env) -> None:
    """Issue 18 #7: a refresh token, an ID token or an introspection answer presented as a
    bearer access token is refused (RFC 9068 §4: the typ tells JWT kinds apart; refresh
    tokens live in their own table); the real access token works."""
    s = await setup_apis(env)
    body = await authorize(env, s, "openid email offline_access")
    auth = (s["client_id"], s["client_secret"])
    answer = await introspect(
        env, body["access_token"], auth, accept="application/token-introspection+jwt"
    )
    async with env.client() as http:

        async def userinfo(token: str) -> int:
            r = await http.get("/userinfo", headers={"Authorization": f"Bearer {token}"})
            return r.status_code

        assert await userinfo(body["access_token"]) == 200
        for other in (body["refresh_token"], body["id_token"], answer.text):
            assert await userinfo(other) == 401
    for other in (body["refresh_token"], body["id_token"], answer.text):
        introspected = (await introspect(env, other, auth)).json()
        assert introspected.get("token_type") != "Bearer" or not introspected["active"]
