"""The full authorization code flow, driven by Authlib's OAuth2 client over HTTP."""

from __future__ import annotations

import httpx
import pytest
from authlib.integrations.httpx_client import AsyncOAuth2Client
from authlib.jose import JsonWebKey, JsonWebToken

from tests.e2e.conftest import REDIRECT_URI, Browser, Env, query_of

pytestmark = pytest.mark.anyio


def authlib_client(env: Env, client_id: str, secret: str | None, **kw: object) -> AsyncOAuth2Client:
    return AsyncOAuth2Client(
        client_id=client_id,
        client_secret=secret,
        scope="openid profile email",
        redirect_uri=REDIRECT_URI,
        code_challenge_method="S256",
        token_endpoint_auth_method="none" if secret is None else "client_secret_basic",
        transport=httpx.ASGITransport(app=env.app),
        base_url=env.settings.issuer,
        **kw,
    )


async def run_flow(env: Env, client_id: str, secret: str | None) -> dict[str, object]:
    async with env.client() as http:
        meta = (await http.get("/.well-known/openid-configuration")).json()
        jwks = (await http.get(meta["jwks_uri"])).json()
    verifier = "v" * 20 + "-verifier-" + "x" * 30
    rp = authlib_client(env, client_id, secret)
    url, state = rp.create_authorization_url(
        meta["authorization_endpoint"], code_verifier=verifier, nonce="n-0S6_WzA2Mj"
    )
    async with env.client() as http:
        browser = Browser(http)
        page = await browser.open(url)
        assert page.status_code == 200
        assert "Test App" in page.text  # branded with the client's name
        consent = await browser.login(page)
        assert consent.status_code == 200 and "wants to access your account" in consent.text
        done = await browser.consent(consent)
    assert done.status_code == 303
    location = done.headers["location"]
    assert location.startswith(REDIRECT_URI + "?")
    params = query_of(location)
    assert params["state"] == state
    assert params["iss"] == env.settings.issuer  # RFC 9207

    token = await rp.fetch_token(
        meta["token_endpoint"], authorization_response=location, code_verifier=verifier
    )
    assert token["token_type"] == "Bearer"
    assert token["scope"] == "openid profile email"

    claims = JsonWebToken(["ES256", "RS256", "PS256", "EdDSA"]).decode(
        token["id_token"], JsonWebKey.import_key_set(jwks)
    )
    claims.validate(now=env.clock())
    assert claims["iss"] == env.settings.issuer
    assert claims["aud"] == client_id
    assert claims["nonce"] == "n-0S6_WzA2Mj"
    assert {"exp", "iat", "auth_time", "at_hash", "sid", "sub"} <= set(claims)

    info = await rp.get(meta["userinfo_endpoint"])
    assert info.status_code == 200
    userinfo = info.json()
    assert userinfo["sub"] == claims["sub"]
    await rp.aclose()
    return {"claims": claims, "userinfo": userinfo, "token": token}


async def test_confidential_client_full_flow(env: Env) -> None:
    sub = await env.add_user("alice")
    client_id, secret = await env.add_client()
    result = await run_flow(env, client_id, secret)
    userinfo = result["userinfo"]
    assert userinfo == {
        "sub": sub,
        "name": "Alice",
        "preferred_username": "alice",
        "updated_at": userinfo["updated_at"],  # type: ignore[index]
        "email": "alice@example.com",
        "email_verified": False,
    }
    assert sub not in ("alice", "alice@example.com")  # sub is opaque


async def test_public_client_full_flow(env: Env) -> None:
    await env.add_user("bob")
    client_id, secret = await env.add_client(token_endpoint_auth_method="none")
    assert secret is None
    verifier = "p" * 50
    rp = authlib_client(env, client_id, None)
    url, _ = rp.create_authorization_url("/authorize", code_verifier=verifier, nonce="abc")
    async with env.client() as http:
        browser = Browser(http)
        done = await browser.consent(await browser.login(await browser.open(url), "bob"))
    token = await rp.fetch_token(
        "/token", authorization_response=done.headers["location"], code_verifier=verifier
    )
    assert "id_token" in token and "access_token" in token
    info = await rp.get("/userinfo")
    assert info.json()["preferred_username"] == "bob"
    await rp.aclose()


async def test_rs256_default_and_other_algs_verify(env: Env) -> None:
    await env.add_user()
    for alg in ("RS256", "PS256", "EdDSA"):
        client_id, secret = await env.add_client(id_token_signed_response_alg=alg)
        result = await run_flow(env, client_id, secret)
        assert result["claims"].header["alg"] == alg  # type: ignore[attr-defined]
