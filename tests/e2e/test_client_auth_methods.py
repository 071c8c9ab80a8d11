"""Every client authentication method, driven by Authlib's client against the real app:
client_secret_basic, client_secret_post, client_secret_jwt, private_key_jwt (inline JWKS and
jwks_uri) and none; and the attacker's moves against JWT assertions."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from authlib.integrations.httpx_client import AsyncOAuth2Client
from authlib.oauth2.rfc7523 import ClientSecretJWT, PrivateKeyJWT
from joserfc.jwk import ECKey, OctKey, OKPKey, RSAKey

from keystead.services.apis import ApiSpec, create_api
from tests.e2e.conftest import REDIRECT_URI, Browser, Env, make_env, query_of

pytestmark = pytest.mark.anyio

API = "https://api.example.com"


class ShortLived:
    """Authlib signs assertions for an hour by default; keystead accepts at most 5 minutes.
    A fresh claims dict per request (Authlib adds the jti to the dict it is given)."""

    def sign(self, auth: Any, token_endpoint: str) -> str:
        self.claims = {"exp": int(time.time()) + 120}
        return super().sign(auth, token_endpoint)  # type: ignore[misc]


class ShortClientSecretJWT(ShortLived, ClientSecretJWT):
    pass


class ShortPrivateKeyJWT(ShortLived, PrivateKeyJWT):
    pass


async def setup_api(env: Env) -> None:
    await create_api(env.provider.store, ApiSpec(API, "API", [("api:read", "Read")]), env.clock())
    env.provider.forget_apis()


def rp(env: Env, client_id: str, secret: Any, method: str, **kw: Any) -> AsyncOAuth2Client:
    assertion_alg = kw.pop("alg", None)
    client = AsyncOAuth2Client(
        client_id=client_id,
        client_secret=secret,
        token_endpoint_auth_method=method,
        transport=httpx.ASGITransport(app=env.app),
        base_url=env.settings.issuer,
        **kw,
    )
    token_url = env.settings.url("/token")
    if method == "client_secret_jwt":
        client.register_client_auth_method(ShortClientSecretJWT(token_url))
    if method == "private_key_jwt":
        secret.ensure_kid()
        kid = secret.kid
        alg = {RSAKey: "RS256", ECKey: "ES256", OKPKey: "EdDSA"}[type(secret)]
        client.register_client_auth_method(
            ShortPrivateKeyJWT(token_url, alg=assertion_alg or alg, headers={"kid": kid})
        )
    return client


async def client_credentials(client: AsyncOAuth2Client) -> dict[str, Any]:
    token: dict[str, Any] = await client.fetch_token(
        "/token", grant_type="client_credentials", scope="api:read"
    )
    return token


def public_jwks(key: Any) -> dict[str, Any]:
    key.ensure_kid()
    return {"keys": [{**key.as_dict(private=False), "kid": key.kid, "use": "sig"}]}


@pytest.mark.parametrize("method", ["client_secret_basic", "client_secret_post"])
async def test_secret_methods(env: Env, method: str) -> None:
    await setup_api(env)
    client_id, secret = await env.add_client(
        grant_types=["client_credentials"],
        redirect_uris=[],
        scope="api:read",
        token_endpoint_auth_method=method,
    )
    async with rp(env, client_id, secret, method) as client:
        token = await client_credentials(client)
    assert token["scope"] == "api:read"


async def test_client_secret_jwt(env: Env) -> None:
    await setup_api(env)
    client_id, secret = await env.add_client(
        grant_types=["client_credentials"],
        redirect_uris=[],
        scope="api:read",
        token_endpoint_auth_method="client_secret_jwt",
    )
    stored = await env.provider.store.clients.get(client_id)
    assert stored is not None
    assert secret not in str(stored.extra)  # encrypted at rest, not in clear
    assert stored.extra["client_secret_enc"].startswith("v1.")
    async with rp(env, client_id, secret, "client_secret_jwt") as client:
        first = await client_credentials(client)
        second = await client_credentials(client)  # a new assertion (new jti) each time
    assert first["access_token"] != second["access_token"]


@pytest.mark.parametrize(
    "make_key",
    [
        lambda: RSAKey.generate_key(2048, private=True),
        lambda: ECKey.generate_key("P-256", private=True),
        lambda: OKPKey.generate_key("Ed25519", private=True),
    ],
    ids=["RS256", "ES256", "EdDSA"],
)
@pytest.mark.filterwarnings("ignore:EdDSA is deprecated")  # Authlib signs with joserfc's name
async def test_private_key_jwt_with_inline_jwks(env: Env, make_key: Any) -> None:
    await setup_api(env)
    key = make_key()
    client_id, secret = await env.add_client(
        grant_types=["client_credentials"],
        redirect_uris=[],
        scope="api:read",
        token_endpoint_auth_method="private_key_jwt",
        jwks=public_jwks(key),
    )
    assert secret is None  # no shared secret at all
    async with rp(env, client_id, key, "private_key_jwt") as client:
        assert (await client_credentials(client))["scope"] == "api:read"


async def test_private_key_jwt_in_a_code_flow_with_jwks_uri(tmp_path: Any) -> None:
    env = await make_env(tmp_path, allow_private_network_fetch=True)
    try:
        key = ECKey.generate_key("P-256", private=True)
        served: list[httpx.Request] = []

        def jwks_server(request: httpx.Request) -> httpx.Response:
            served.append(request)
            return httpx.Response(200, json=public_jwks(key))

        env.provider.client_jwks.fetcher.transport = httpx.MockTransport(jwks_server)
        await env.add_user()
        client_id, _ = await env.add_client(
            token_endpoint_auth_method="private_key_jwt",
            jwks_uri="https://rp.example.com/jwks.json",
            scope="openid profile",
        )
        client = rp(
            env,
            client_id,
            key,
            "private_key_jwt",
            scope="openid profile",
            redirect_uri=REDIRECT_URI,
            code_challenge_method="S256",
        )
        verifier = "v" * 43
        url, _ = client.create_authorization_url("/authorize", code_verifier=verifier)
        async with env.client() as http:
            browser = Browser(http)
            page = await browser.consent(await browser.login(await browser.open(url)))
        location = page.headers["location"]
        assert "code" in query_of(location)
        token = await client.fetch_token(
            "/token", authorization_response=location, code_verifier=verifier
        )
        assert "id_token" in token
        await client.aclose()
        assert len(served) == 1  # fetched once, then cached
        assert str(served[0].url) == "https://rp.example.com/jwks.json"
    finally:
        await env.provider.close()


async def test_public_client_none(env: Env) -> None:
    await env.add_user()
    client_id, secret = await env.add_client(token_endpoint_auth_method="none", scope="openid")
    assert secret is None
    client = rp(
        env,
        client_id,
        None,
        "none",
        scope="openid",
        redirect_uri=REDIRECT_URI,
        code_challenge_method="S256",
    )
    verifier = "w" * 43
    url, _ = client.create_authorization_url("/authorize", code_verifier=verifier)
    async with env.client() as http:
        browser = Browser(http)
        page = await browser.consent(await browser.login(await browser.open(url)))
    token = await client.fetch_token(
        "/token", authorization_response=page.headers["location"], code_verifier=verifier
    )
    assert token["token_type"] == "Bearer"
    await client.aclose()


# --- the attacker's moves ---


async def post_assertion(env: Env, assertion: str, **extra: str) -> httpx.Response:
    async with env.client() as http:
        return await http.post(
            "/token",
            data={
                "grant_type": "client_credentials",
                "scope": "api:read",
                "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                "client_assertion": assertion,
                **extra,
            },
        )


async def secret_jwt_client(env: Env) -> tuple[str, str]:
    await setup_api(env)
    client_id, secret = await env.add_client(
        grant_types=["client_credentials"],
        redirect_uris=[],
        scope="api:read",
        token_endpoint_auth_method="client_secret_jwt",
    )
    assert secret is not None
    return client_id, secret


def hs256(client_id: str, secret: str, env: Env, **claims: Any) -> str:
    from authlib.oauth2.rfc7523 import client_secret_jwt_sign

    values: dict[str, Any] = {"exp": env.clock() + 60}
    values.update(claims)
    aud = values.pop("aud", env.settings.url("/token"))
    return client_secret_jwt_sign(OctKey.import_key(secret), client_id, aud, claims=values)


async def test_assertion_replay_is_refused(env: Env) -> None:
    client_id, secret = await secret_jwt_client(env)
    assertion = hs256(client_id, secret, env)
    assert (await post_assertion(env, assertion)).status_code == 200
    replay = await post_assertion(env, assertion)
    assert replay.status_code == 401
    assert replay.json()["error"] == "invalid_client"
    assert replay.json()["error_uri"].endswith("/errors/client-assertion-replayed")


@pytest.mark.parametrize(
    ("claims", "catalog_id"),
    [
        ({"aud": "https://evil.example/token"}, "client-assertion-audience"),
        ({"exp": 10**10}, "client-assertion-lifetime"),  # Authlib's default would be +3600
        ({"exp": 1}, "client-assertion-lifetime"),
    ],
)
async def test_bad_assertions_are_refused(env: Env, claims: dict[str, Any], catalog_id: str):
    client_id, secret = await secret_jwt_client(env)
    r = await post_assertion(env, hs256(client_id, secret, env, **claims))
    assert r.status_code == 401, r.text
    assert r.json()["error"] == "invalid_client"
    assert r.json()["error_uri"].endswith(catalog_id)


async def test_alg_mismatch_is_refused(env: Env) -> None:
    await setup_api(env)
    key = RSAKey.generate_key(2048, private=True)
    client_id, _ = await env.add_client(
        grant_types=["client_credentials"],
        redirect_uris=[],
        scope="api:read",
        token_endpoint_auth_method="private_key_jwt",
        jwks=public_jwks(key),
        token_endpoint_auth_signing_alg="PS256",
    )
    async with rp(env, client_id, key, "private_key_jwt", alg="RS256") as client:
        with pytest.raises(Exception, match="invalid_client"):
            await client_credentials(client)
    # An HMAC assertion for a private_key_jwt client: another method, refused.
    r = await post_assertion(env, hs256(client_id, "a" * 43, env))
    assert r.status_code == 401
    assert r.json()["error_uri"].endswith("client-auth-method-mismatch")


async def test_jwks_uri_on_loopback_is_refused_without_the_development_switch(env: Env):
    await setup_api(env)
    key = ECKey.generate_key("P-256", private=True)
    client_id, _ = await env.add_client(
        grant_types=["client_credentials"],
        redirect_uris=[],
        scope="api:read",
        token_endpoint_auth_method="private_key_jwt",
        jwks_uri="https://127.0.0.1:8443/jwks.json",
    )
    async with rp(env, client_id, key, "private_key_jwt") as client:
        # Refused before any connection is attempted: no transport is stubbed here.
        with pytest.raises(Exception, match="127.0.0.1"):
            await client_credentials(client)


async def test_discovery_advertises_what_works(env: Env) -> None:
    async with env.client() as http:
        meta = (await http.get("/.well-known/openid-configuration")).json()
    assert meta["token_endpoint_auth_methods_supported"] == [
        "client_secret_basic",
        "client_secret_post",
        "client_secret_jwt",
        "private_key_jwt",
        "none",
    ]
    assert meta["token_endpoint_auth_signing_alg_values_supported"] == [
        "HS256",
        "RS256",
        "PS256",
        "ES256",
        "EdDSA",
    ]
    assert meta["registration_endpoint"] == env.settings.url("/register")


def test_cli_creates_jwt_clients(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    from typer.testing import CliRunner

    from keystead.cli import app

    monkeypatch.setenv("KEYSTEAD_DATA_DIR", str(tmp_path))
    runner = CliRunner()
    base = ["client", "create", "--grant-type", "client_credentials", "--json"]
    r = runner.invoke(
        app, [*base, "--name", "jwt", "--token-endpoint-auth-method", "client_secret_jwt"]
    )
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["client_secret"]  # shown once; stored encrypted
    jwks_file = tmp_path / "jwks.json"
    jwks_file.write_text(json.dumps(public_jwks(ECKey.generate_key("P-256", private=True))))
    r = runner.invoke(
        app,
        [
            *base,
            *("--name", "pk", "--token-endpoint-auth-method", "private_key_jwt"),
            *("--jwks", str(jwks_file), "--token-endpoint-auth-signing-alg", "ES256"),
        ],
    )
    assert r.exit_code == 0, r.output
    data = json.loads(r.output)
    assert "client_secret" not in data
    assert data["jwks"]["keys"][0]["kty"] == "EC"
    assert data["token_endpoint_auth_signing_alg"] == "ES256"
    r = runner.invoke(
        app, [*base, "--name", "pk", "--token-endpoint-auth-method", "private_key_jwt"]
    )
    assert r.exit_code == 1 and "jwks" in r.output
