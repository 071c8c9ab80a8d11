"""Regression tests for what the attack run (issue 18 #6, #10) and the fuzz found: each a
refusal in the error catalog's shape where there was a 500 with a traceback, the
WWW-Authenticate challenge only for the scheme the client used, and /register's rate limit.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from authlib.integrations.base_client.errors import OAuthError as AuthlibError
from joserfc.jwk import ECKey

from keystead.protocol.registration import RATE_LIMIT, RATE_WINDOW
from tests.e2e.conftest import REDIRECT_URI, Env, make_env, pkce_pair
from tests.e2e.test_admin_api import admin_token
from tests.e2e.test_client_auth_methods import public_jwks, rp, setup_api
from tests.fuzz.asgi import Raw, call
from tests.fuzz.conftest import check_answer
from tests.fuzz.strategies import nested_json, tamper

pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("no_traceback_logged")]

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[Env]:
    e = await make_env(tmp_path, open_registration=True)
    yield e
    await e.provider.close()


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def assert_refused(r: httpx.Response, status: int, error: str) -> dict[str, Any]:
    raw = [(k.encode(), v.encode()) for k, v in r.headers.multi_items()]
    check_answer(r.status_code, raw, r.content, r.request.url.path)
    assert r.status_code == status, r.text
    body: dict[str, Any] = r.json()
    assert body["error"] == error, body
    return body


# --- /register (RFC 7591) ---


@pytest.mark.parametrize("name", ["\\ud800", "a\\udfffb", "\\u0000"])
async def test_unstorable_client_name_is_invalid_metadata(env: Env, name: str) -> None:
    """A lone surrogate has no UTF-8 form (it was accepted, then failed at the database);
    PostgreSQL text refuses NUL."""
    body = '{"redirect_uris": ["' + REDIRECT_URI + '"], "client_name": "' + name + '"}'
    async with env.client() as http:
        r = await http.post("/register", content=body, headers={"content-type": "application/json"})
    found = assert_refused(r, 400, "invalid_client_metadata")
    assert "client_name" in found["error_description"]


@pytest.mark.parametrize("member", ["jwks_uri", "logo_uri", "client_uri", "policy_uri"])
@pytest.mark.parametrize("url", ["https://[x", "https://[::1", "https://a:99999/"])
async def test_unparseable_urls_in_metadata(env: Env, member: str, url: str) -> None:
    metadata: dict[str, Any] = {"redirect_uris": [REDIRECT_URI], member: url}
    if member == "jwks_uri":
        metadata["token_endpoint_auth_method"] = "private_key_jwt"
    async with env.client() as http:
        r = await http.post("/register", json=metadata)
    assert member in assert_refused(r, 400, "invalid_client_metadata")["error_description"]


async def test_deeply_nested_registration_body(env: Env) -> None:
    async with env.client() as http:
        r = await http.post(
            "/register",
            content=nested_json(5000),
            headers={"content-type": "application/json"},
        )
    # Refused while the body is read (web/parse.py): nested past the bound is too large.
    assert_refused(r, 413, "invalid_request")


async def test_registration_is_rate_limited_per_address(env: Env) -> None:
    """issue 18 #10: every attempt counts, refused ones too; a 429 in the catalog's shape
    with Retry-After until the minute is over; other addresses are not affected."""
    env.clock.now = (env.clock.now // RATE_WINDOW) * RATE_WINDOW + 15
    async with env.client() as http:
        for i in range(RATE_LIMIT):
            body = {"redirect_uris": [REDIRECT_URI]} if i % 2 else {"redirect_uris": "x"}
            r = await http.post("/register", json=body)
            assert r.status_code in (201, 400), r.text
        r = await http.post("/register", json={"redirect_uris": [REDIRECT_URI]})
        found = assert_refused(r, 429, "temporarily_unavailable")
        assert r.headers["retry-after"] == str(RATE_WINDOW - 15)
        assert "Too many registrations" in found["error_description"]
    other = httpx.ASGITransport(app=env.app, client=("203.0.113.99", 1))
    async with httpx.AsyncClient(transport=other, base_url=env.settings.issuer) as http:
        r = await http.post("/register", json={"redirect_uris": [REDIRECT_URI]})
        assert r.status_code == 201
    env.clock.now += RATE_WINDOW
    async with env.client() as http:
        r = await http.post("/register", json={"redirect_uris": [REDIRECT_URI]})
        assert r.status_code == 201, r.text


# --- client assertions (RFC 7523 §2.2) ---


@pytest.mark.parametrize("where", ["payload", "header"])
async def test_deeply_nested_client_assertion(env: Env, where: str) -> None:
    deep = nested_json(5000).encode()  # past the interpreter's stack, under the body limit
    header, payload = b'{"alg":"RS256"}', b'{"sub":"x","iss":"x"}'
    if where == "payload":
        payload = deep
    else:
        header = deep
    assertion = f"{b64(header)}.{b64(payload)}.{b64(b'sig')}"
    async with env.client() as http:
        r = await http.post(
            "/token",
            data={
                "grant_type": "client_credentials",
                "client_assertion_type": ASSERTION_TYPE,
                "client_assertion": assertion,
            },
        )
    assert_refused(r, 401, "invalid_client")
    assert "www-authenticate" not in r.headers  # the client did not try HTTP Basic


async def test_a_client_assertion_nested_past_the_bound(env: Env) -> None:
    header, payload = b64(b'{"alg":"RS256"}'), b64(nested_json(40).encode())
    assertion = f"{header}.{payload}.{b64(b's')}"
    async with env.client() as http:
        r = await http.post(
            "/token",
            data={
                "grant_type": "client_credentials",
                "client_assertion_type": ASSERTION_TYPE,
                "client_assertion": assertion,
            },
        )
    assert "nests deeper" in assert_refused(r, 401, "invalid_client")["error_description"]


# --- resource (RFC 8707) and claims (OIDC Core §5.5) ---


def authorize_params(client_id: str, **extra: str) -> dict[str, str]:
    _, challenge = pkce_pair()
    return {
        "client_id": client_id,
        "redirect_uri": REDIRECT_URI,
        "response_type": "code",
        "scope": "openid",
        "state": "s",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        **extra,
    }


async def test_unparseable_resource_at_authorize(env: Env) -> None:
    client_id, _ = await env.add_client()
    async with env.client() as http:
        r = await http.get("/authorize", params=authorize_params(client_id, resource="https://[x"))
    assert r.status_code in (302, 400), r.text
    if r.status_code == 302:
        assert "error=invalid_target" in r.headers["location"]


async def test_unparseable_resource_at_token(env: Env) -> None:
    client_id, secret = await env.add_client(grant_types=["client_credentials"])
    async with env.client() as http:
        r = await http.post(
            "/token",
            data={"grant_type": "client_credentials", "resource": "https://[x"},
            auth=(client_id, secret or ""),
        )
    assert_refused(r, 400, "invalid_target")


@pytest.mark.parametrize("depth", [40, 900])
async def test_deeply_nested_claims_parameter(env: Env, depth: int) -> None:
    client_id, _ = await env.add_client()
    claims = '{"userinfo":' + "[" * depth + "]" * depth + "}"
    async with env.client() as http:
        r = await http.get("/authorize", params=authorize_params(client_id, claims=claims))
    assert r.status_code == 302, r.text
    assert "error=invalid_request" in r.headers["location"]


# --- the raw edge ---


async def test_non_utf8_query_on_a_trailing_slash(env: Env) -> None:
    answer = await call(env.app, Raw("GET", "/authorize/", query=b"client_id=\xff"))
    assert answer.status == 404  # exact paths: no slash redirect (which decoded the query)


async def test_non_utf8_query_is_refused_not_a_500(env: Env) -> None:
    answer = await call(env.app, Raw("GET", "/authorize", query=b"client_id=\xff&x=%80"))
    assert answer.status == 400


# --- WWW-Authenticate (RFC 6749 §5.2, issue 18 #10) ---


async def _responses(client: Any) -> list[httpx.Response]:
    seen: list[httpx.Response] = []

    async def hook(response: httpx.Response) -> None:
        await response.aread()
        seen.append(response)

    client.event_hooks["response"].append(hook)
    return seen


@pytest.mark.parametrize(
    ("method", "challenge"), [("client_secret_basic", True), ("client_secret_post", False)]
)
async def test_basic_challenge_only_for_basic(env: Env, method: str, challenge: bool) -> None:
    """Authlib's client with a wrong secret: the 401 carries ``WWW-Authenticate: Basic``
    only when the client authenticated with HTTP Basic."""
    await setup_api(env)
    client_id, _ = await env.add_client(
        grant_types=["client_credentials"],
        redirect_uris=[],
        scope="api:read",
        token_endpoint_auth_method=method,
    )
    async with rp(env, client_id, "wrong", method) as client:
        seen = await _responses(client)
        with pytest.raises(AuthlibError) as raised:
            await client.fetch_token("/token", grant_type="client_credentials", scope="api:read")
    assert raised.value.error == "invalid_client"
    (response,) = seen
    assert response.status_code == 401
    assert ("www-authenticate" in response.headers) is challenge
    if challenge:
        assert response.headers["www-authenticate"].startswith("Basic")


async def test_no_basic_challenge_for_a_private_key_jwt_client(env: Env) -> None:
    await setup_api(env)
    registered, presented = (ECKey.generate_key("P-256", private=True) for _ in range(2))
    client_id, _ = await env.add_client(
        grant_types=["client_credentials"],
        redirect_uris=[],
        scope="api:read",
        token_endpoint_auth_method="private_key_jwt",
        jwks=public_jwks(registered),
    )
    async with rp(env, client_id, presented, "private_key_jwt") as client:
        seen = await _responses(client)
        with pytest.raises(AuthlibError) as raised:
            await client.fetch_token("/token", grant_type="client_credentials", scope="api:read")
    assert raised.value.error == "invalid_client"
    assert seen[0].status_code == 401
    assert "www-authenticate" not in seen[0].headers


@pytest.mark.parametrize("path", ["/token", "/introspect", "/revoke"])
async def test_basic_challenge_without_any_credentials(env: Env, path: str) -> None:
    async with env.client() as http:
        r = await http.post(path, data={"grant_type": "client_credentials", "token": "x"})
    assert_refused(r, 401, "invalid_client")
    assert r.headers["www-authenticate"].startswith("Basic")


@pytest.mark.parametrize("path", ["/token", "/introspect", "/revoke"])
async def test_no_basic_challenge_for_body_credentials(env: Env, path: str) -> None:
    client_id, _ = await env.add_client(grant_types=["client_credentials"])
    async with env.client() as http:
        r = await http.post(
            path,
            data={
                "grant_type": "client_credentials",
                "token": "x",
                "client_id": client_id,
                "client_secret": "wrong",
            },
        )
    assert_refused(r, 401, "invalid_client")
    assert "www-authenticate" not in r.headers


async def test_no_basic_challenge_for_a_public_client_at_introspection(env: Env) -> None:
    client_id, _ = await env.add_client(token_endpoint_auth_method="none")
    async with env.client() as http:
        r = await http.post("/introspect", data={"token": "x", "client_id": client_id})
    assert "Public clients" in assert_refused(r, 401, "invalid_client")["error_description"]
    assert "www-authenticate" not in r.headers


async def test_malformed_basic_header_is_challenged(env: Env) -> None:
    async with env.client() as http:
        r = await http.post(
            "/token",
            data={"grant_type": "client_credentials"},
            headers={"Authorization": "Basic é".encode()},
        )
    assert_refused(r, 401, "invalid_client")
    assert r.headers["www-authenticate"].startswith("Basic")


# --- keystead's own JWTs, tampered (RFC 9068 access tokens) ---


@pytest.mark.parametrize(
    "how", ["signature", "alg-none", "alg-hs256", "payload", "deep-header", "cut"]
)
async def test_tampered_access_tokens_are_refused(env: Env, how: str) -> None:
    token = await admin_token(env)
    forged = tamper(token, how, 17)
    assert forged != token
    async with env.client() as http:
        userinfo = await http.get("/userinfo", headers={"Authorization": f"Bearer {forged}"})
        admin = await http.get("/admin/api/clients", headers={"Authorization": f"Bearer {forged}"})
        client_id, secret = await env.add_client(grant_types=["client_credentials"])
        introspected = await http.post(
            "/introspect", data={"token": forged}, auth=(client_id, secret or "")
        )
    assert_refused(userinfo, 401, "invalid_token")
    assert_refused(admin, 401, "invalid_token")
    assert introspected.status_code == 200 and introspected.json() == {"active": False}


@pytest.mark.parametrize("client_id", ["\U000c1455", "a b", "a/b", "é", "x" * 201, "a:b"])
async def test_a_client_id_that_a_path_or_header_cannot_carry_is_refused(
    client_id: str,
) -> None:
    """Found by the fuzz (seed 308308666): a client_id of non-Latin-1 characters was stored,
    then its 201's Location header could not be encoded (a 500)."""
    from keystead.protocol.client_metadata import ClientSpec, MetadataError, validate

    spec = ClientSpec(client_name="X", redirect_uris=["https://rp.example/cb"], client_id=client_id)
    with pytest.raises(MetadataError) as refused:
        validate(spec)
    assert refused.value.field == "client_id"
