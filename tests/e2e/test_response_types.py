"""Every OIDC response type × response mode (OIDC Core §3.2, §3.3, Multiple Response Types,
Form Post Response Mode), verified the way a strict relying party does — with Authlib's
OpenID Connect ID token classes (c_hash / at_hash / nonce / azp / exp) — and the OIDC
request parameters (claims, id_token_hint, acr_values, display)."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from authlib.jose import JsonWebKey, JsonWebToken
from authlib.oidc.core import CodeIDToken, HybridIDToken, ImplicitIDToken

from tests.e2e.conftest import (
    REDIRECT_URI,
    Browser,
    Env,
    form_fields,
    fragment_of,
    pkce_pair,
    query_of,
)

pytestmark = pytest.mark.anyio

ALL_TYPES = [
    "code",
    "id_token",
    "id_token token",
    "code id_token",
    "code token",
    "code id_token token",
    "none",
]
NONCE = "n-0S6_WzA2Mj"
STATE = "af0ifjsldkj"


async def hybrid_client(env: Env, **kw: Any) -> tuple[str, str | None]:
    return await env.add_client(
        response_types=ALL_TYPES,
        grant_types=["authorization_code", "implicit", "refresh_token"],
        scope="openid profile email address phone offline_access",
        **kw,
    )


def url_for(
    client_id: str,
    response_type: str,
    mode: str | None = None,
    challenge: str | None = None,
    **extra: str,
) -> str:
    params = {
        "response_type": response_type,
        "client_id": client_id,
        "redirect_uri": REDIRECT_URI,
        "scope": "openid profile email",
        "state": STATE,
        "nonce": NONCE,
    }
    if challenge:
        params.update(code_challenge=challenge, code_challenge_method="S256")
    if mode:
        params["response_mode"] = mode
    params.update(extra)
    return "/authorize?" + urlencode(params)


async def front_channel(
    env: Env, url: str, http: httpx.AsyncClient | None = None, username: str = "alice"
) -> dict[str, str]:
    """Sign in through the pages and return the authorization response's parameters."""

    async def run(client: httpx.AsyncClient) -> httpx.Response:
        browser = Browser(client)
        page = await browser.open(url)
        if 'name="password"' in page.text:
            page = await browser.login(page, username)
        if 'name="decision"' in page.text:
            page = await browser.consent(page)
        return page

    if http is None:
        async with env.client() as client:
            page = await run(client)
    else:
        page = await run(http)
    if page.status_code == 200:  # form_post
        assert f'action="{REDIRECT_URI}"' in page.text
        return form_fields(page.text)
    location = page.headers["location"]
    assert location.startswith(REDIRECT_URI)
    return fragment_of(location) or query_of(location)


async def jwks(env: Env) -> Any:
    async with env.client() as http:
        return JsonWebKey.import_key_set((await http.get("/jwks")).json())


def half_hash(value: str) -> str:
    digest = hashlib.sha256(value.encode()).digest()
    return base64.urlsafe_b64encode(digest[: len(digest) // 2]).rstrip(b"=").decode()


async def verify_id_token(
    env: Env, token: str, client_id: str, response_type: str, params: dict[str, str]
) -> dict[str, Any]:
    claims_cls = {
        "code": CodeIDToken,
        "id_token": ImplicitIDToken,
        "id_token token": ImplicitIDToken,
    }.get(response_type, HybridIDToken)
    claims = JsonWebToken(["ES256", "RS256", "PS256", "EdDSA"]).decode(
        token,
        await jwks(env),
        claims_cls=claims_cls,
        claims_options={"iss": {"essential": True, "value": env.settings.issuer}},
        claims_params={
            "nonce": NONCE,
            "client_id": client_id,
            "access_token": params.get("access_token"),
            "code": params.get("code"),
        },
    )
    claims.validate(now=env.clock())  # iss, aud, azp, exp, iat, nonce, c_hash, at_hash
    assert claims["azp"] == client_id
    if "code" in response_type.split() and "id_token" in response_type.split():
        assert claims["c_hash"] == half_hash(params["code"])
    if "token" in response_type.split():
        assert claims["at_hash"] == half_hash(params["access_token"])
    if response_type != "code":  # front channel: state is bound by s_hash (FAPI)
        assert claims["s_hash"] == half_hash(STATE)
    return dict(claims)


@pytest.mark.parametrize("mode", [None, "form_post"])
@pytest.mark.parametrize("response_type", ALL_TYPES)
async def test_response_type_and_mode(env: Env, response_type: str, mode: str | None) -> None:
    await env.add_user()
    client_id, secret = await hybrid_client(env)
    verifier, challenge = pkce_pair()
    has_code = "code" in response_type.split()
    url = url_for(client_id, response_type, mode, challenge if has_code else None)
    params = await front_channel(env, url)
    assert params["state"] == STATE and params["iss"] == env.settings.issuer
    parts = set(response_type.split()) - {"none"}
    returned = {"code", "id_token", "access_token"} & set(params)
    assert returned == {"token": "access_token"}.get("", set()) | {
        {"token": "access_token"}.get(p, p) for p in parts
    }
    front_sub = None
    if "id_token" in parts:
        claims = await verify_id_token(env, params["id_token"], client_id, response_type, params)
        front_sub = claims["sub"]
        if response_type == "id_token":  # OIDC Core §5.4: no access token, claims in the token
            assert claims["email"] == "alice@example.com"
    if "token" in parts:
        assert params["token_type"] == "Bearer" and int(params["expires_in"]) > 0
        async with env.client() as http:
            info = await http.get(
                "/userinfo", headers={"Authorization": f"Bearer {params['access_token']}"}
            )
        assert info.status_code == 200
        front_sub = front_sub or info.json()["sub"]
        assert info.json()["sub"] == front_sub
    if has_code:
        async with env.client() as http:
            r = await http.post(
                "/token",
                auth=(client_id, secret),
                data={
                    "grant_type": "authorization_code",
                    "code": params["code"],
                    "redirect_uri": REDIRECT_URI,
                    "code_verifier": verifier,
                },
            )
        assert r.status_code == 200, r.text
        back = r.json()
        back_claims = await verify_id_token(
            env, back["id_token"], client_id, "code", {"access_token": back["access_token"]}
        )
        assert front_sub is None or back_claims["sub"] == front_sub
        assert "refresh_token" not in back  # no offline_access asked for


@pytest.mark.parametrize("response_type", ["id_token", "code id_token", "code token"])
async def test_query_mode_refused_for_fragment_types(env: Env, response_type: str) -> None:
    client_id, _ = await hybrid_client(env)
    _, challenge = pkce_pair()
    async with env.client() as http:
        r = await http.get(url_for(client_id, response_type, "query", challenge))
    params = fragment_of(r.headers["location"])
    assert params["error"] == "invalid_request" and "query" in params["error_description"]


async def test_nonce_optional_for_code_token(env: Env) -> None:
    await env.add_user()
    client_id, _ = await hybrid_client(env)
    _, challenge = pkce_pair()
    url = url_for(client_id, "code token", None, challenge).replace(f"&nonce={NONCE}", "")
    params = await front_channel(env, url)
    assert params["code"] and params["access_token"]


@pytest.mark.parametrize("response_type", ["id_token", "id_token token", "code id_token"])
async def test_nonce_required_with_front_channel_id_token(env: Env, response_type: str) -> None:
    client_id, _ = await hybrid_client(env)
    _, challenge = pkce_pair()
    url = url_for(client_id, response_type, None, challenge).replace(f"&nonce={NONCE}", "")
    async with env.client() as http:
        r = await http.get(url)
    params = fragment_of(r.headers["location"])
    assert params["error"] == "invalid_request" and "nonce" in params["error_description"]


async def test_unsupported_plain_token_type(env: Env) -> None:
    client_id, _ = await hybrid_client(env)
    async with env.client() as http:
        r = await http.get(url_for(client_id, "token"))
    assert fragment_of(r.headers["location"])["error"] == "unsupported_response_type"


async def test_claims_parameter(env: Env) -> None:
    await env.add_user(
        profile={
            "phone_number": "+49 30 1234",
            "phone_number_verified": True,
            "address": {"country": "DE", "locality": "Berlin"},
        }
    )
    client_id, secret = await hybrid_client(env)
    verifier, challenge = pkce_pair()
    claims = {
        "userinfo": {"phone_number": {"essential": True}, "address": None},
        "id_token": {"email": None, "acr": {"essential": True}},
    }
    params = await front_channel(
        env, url_for(client_id, "code", None, challenge, scope="openid", claims=json.dumps(claims))
    )
    async with env.client() as http:
        body = (
            await http.post(
                "/token",
                auth=(client_id, secret),
                data={
                    "grant_type": "authorization_code",
                    "code": params["code"],
                    "redirect_uri": REDIRECT_URI,
                    "code_verifier": verifier,
                },
            )
        ).json()
        info = (
            await http.get("/userinfo", headers={"Authorization": f"Bearer {body['access_token']}"})
        ).json()
    assert info["phone_number"] == "+49 30 1234" and info["address"]["locality"] == "Berlin"
    assert "email" not in info  # not asked for in userinfo, scope is only openid
    id_claims = await verify_id_token(env, body["id_token"], client_id, "code", body)
    assert id_claims["email"] == "alice@example.com" and id_claims["acr"] == "1"


@pytest.mark.parametrize(
    "raw",
    [
        "{",
        "[]",
        '{"userinfo": []}',
        '{"id_token": {"x": 1}}',
        '{"userinfo": {"x": {"essential": "yes"}}}',
    ],
)
async def test_malformed_claims_parameter(env: Env, raw: str) -> None:
    client_id, _ = await hybrid_client(env)
    _, challenge = pkce_pair()
    async with env.client() as http:
        r = await http.get(url_for(client_id, "code", None, challenge, claims=raw))
    params = query_of(r.headers["location"])
    assert params["error"] == "invalid_request" and "claims" in params["error_description"]


async def test_address_and_phone_scopes(env: Env) -> None:
    await env.add_user(profile={"phone_number": "+1 555", "address": {"country": "US"}})
    client_id, _ = await hybrid_client(env)
    params = await front_channel(
        env, url_for(client_id, "id_token", None, scope="openid address phone")
    )
    claims = await verify_id_token(env, params["id_token"], client_id, "id_token", params)
    assert claims["phone_number"] == "+1 555" and claims["address"] == {"country": "US"}


async def test_id_token_hint_for_another_user(env: Env) -> None:
    await env.add_user("alice")
    await env.add_user("bob")
    client_id, _ = await hybrid_client(env)
    async with env.client() as http:
        bob_token = (await front_channel(env, url_for(client_id, "id_token"), http, "bob"))[
            "id_token"
        ]
    # another browser, signed in as alice, presents bob's ID token as the hint
    async with env.client() as http:
        await front_channel(env, url_for(client_id, "id_token"), http)
        silent = await http.get(
            url_for(client_id, "id_token", prompt="none", id_token_hint=bob_token)
        )
        assert fragment_of(silent.headers["location"])["error"] == "login_required"
        page = await http.get(url_for(client_id, "id_token", id_token_hint=bob_token))
        assert 'name="password"' in page.text  # a re-login is asked for
        forged = await http.get(url_for(client_id, "id_token", id_token_hint=bob_token + "x"))
        assert fragment_of(forged.headers["location"])["error"] == "invalid_request"


async def test_id_token_hint_of_the_session_user_passes_silently(env: Env) -> None:
    await env.add_user()
    client_id, _ = await hybrid_client(env)
    async with env.client() as http:
        first = await front_channel(env, url_for(client_id, "id_token"), http)
        env.clock.now += env.settings.id_token_ttl + 10  # expired hints are fine
        silent = await http.get(
            url_for(client_id, "id_token", prompt="none", id_token_hint=first["id_token"])
        )
    assert "id_token" in fragment_of(silent.headers["location"])


async def test_display_and_acr_values(env: Env) -> None:
    await env.add_user()
    client_id, _ = await hybrid_client(env)
    async with env.client() as http:
        bad = await http.get(url_for(client_id, "id_token", display="hologram"))
    assert fragment_of(bad.headers["location"])["error"] == "invalid_request"
    params = await front_channel(
        env, url_for(client_id, "id_token", display="touch", acr_values="1", ui_locales="de en")
    )
    claims = await verify_id_token(env, params["id_token"], client_id, "id_token", params)
    assert claims["acr"] == "1" and claims["amr"] == ["pwd"]


async def test_discovery_lists_every_type(env: Env) -> None:
    async with env.client() as http:
        meta = (await http.get("/.well-known/openid-configuration")).json()
    assert set(meta["response_types_supported"]) == set(ALL_TYPES)
    assert meta["claims_parameter_supported"] is True
    assert {"address", "phone"} <= set(meta["scopes_supported"])
    assert meta["end_session_endpoint"] == env.settings.issuer + "/logout"
