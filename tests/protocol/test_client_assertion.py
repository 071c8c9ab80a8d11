"""JWT client authentication: client_secret_jwt and private_key_jwt (RFC 7523, OIDC Core §9)."""

from __future__ import annotations

import secrets
from typing import Any

import httpx
import pytest
from joserfc import jwt as jose_jwt
from joserfc.jwk import ECKey, OctKey, OKPKey, RSAKey

from keystead.errors import OAuthError
from keystead.jose.jwt import _registry
from keystead.protocol.client_assertion import ASSERTION_TYPE, MAX_LIFETIME, seal_secret
from keystead.protocol.client_auth import authenticate_client, signing_algs
from keystead.protocol.discovery import metadata
from keystead.protocol.request import OAuthRequest
from keystead.store.base import Client

from .conftest import ISSUER, NOW

pytestmark = pytest.mark.anyio

SECRET = "a-client-secret-of-enough-length-0123456789"
TOKEN_URL = ISSUER + "/token"


def sign(key: Any, alg: str, **overrides: Any) -> str:
    claims: dict[str, Any] = {
        "iss": "rp",
        "sub": "rp",
        "aud": TOKEN_URL,
        "exp": NOW + 60,
        "iat": NOW,
        "jti": secrets.token_urlsafe(16),
    }
    claims.update(overrides)
    claims = {k: v for k, v in claims.items() if v is not None}
    header = {"alg": alg}
    if not isinstance(key, OctKey) and key.kid:
        header["kid"] = key.kid
    return jose_jwt.encode(header, claims, key, registry=_registry((alg,)))


def request(assertion: str, **params: str) -> OAuthRequest:
    return OAuthRequest(
        "POST",
        {
            "grant_type": "client_credentials",
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": assertion,
            **params,
        },
    )


async def refused(req: OAuthRequest, provider, endpoint: str = "/token") -> OAuthError:
    with pytest.raises(OAuthError) as caught:
        await authenticate_client(req, provider, endpoint=endpoint)
    assert caught.value.error in ("invalid_client", "invalid_request")
    return caught.value


@pytest.fixture
async def secret_jwt_client(provider, make_client):
    return await make_client(
        token_endpoint_auth_method="client_secret_jwt",
        secret=SECRET,
        extra={"client_secret_enc": seal_secret(provider.kek, "rp", SECRET)},
    )


def hmac_key() -> OctKey:
    return OctKey.import_key(SECRET)


# --- client_secret_jwt ---


async def test_client_secret_jwt(provider, secret_jwt_client) -> None:
    found = await authenticate_client(request(sign(hmac_key(), "HS256")), provider)
    assert found == secret_jwt_client


async def test_client_id_in_the_body_may_be_sent(provider, secret_jwt_client) -> None:
    req = request(sign(hmac_key(), "HS256"), client_id="rp")
    assert await authenticate_client(req, provider) == secret_jwt_client


async def test_client_id_in_the_body_must_be_the_subject(provider, secret_jwt_client, make_client):
    await make_client("other", token_endpoint_auth_method="client_secret_jwt")
    err = await refused(request(sign(hmac_key(), "HS256"), client_id="other"), provider)
    assert err.catalog_id in ("client-assertion-claims", "client-assertion-signature")


async def test_replay_is_refused(provider, secret_jwt_client) -> None:
    assertion = sign(hmac_key(), "HS256")
    await authenticate_client(request(assertion), provider)
    err = await refused(request(assertion), provider)
    assert err.catalog_id == "client-assertion-replayed"
    assert err.status == 401


async def test_same_jti_of_another_client_is_not_a_replay(provider, make_client) -> None:
    for client_id in ("a", "b"):
        await make_client(
            client_id,
            token_endpoint_auth_method="client_secret_jwt",
            extra={"client_secret_enc": seal_secret(provider.kek, client_id, SECRET)},
        )
    for client_id in ("a", "b"):
        assertion = sign(hmac_key(), "HS256", iss=client_id, sub=client_id, jti="same")
        assert (await authenticate_client(request(assertion), provider)).client_id == client_id


async def test_wrong_secret(provider, secret_jwt_client) -> None:
    err = await refused(request(sign(OctKey.import_key("x" * 43), "HS256")), provider)
    assert err.catalog_id == "client-assertion-signature"


@pytest.mark.parametrize(
    ("overrides", "catalog_id"),
    [
        ({"aud": "https://elsewhere.example/token"}, "client-assertion-audience"),
        ({"aud": [TOKEN_URL]}, "client-assertion-audience"),
        ({"aud": None}, "client-assertion-audience"),
        ({"aud": ISSUER + "/introspect"}, "client-assertion-audience"),
        ({"exp": None}, "client-assertion-lifetime"),
        ({"exp": NOW + MAX_LIFETIME + 120}, "client-assertion-lifetime"),
        ({"exp": NOW - 120}, "client-assertion-lifetime"),
        ({"exp": "soon"}, "client-assertion-claims"),
        ({"iss": "someone-else"}, "client-assertion-claims"),
        ({"jti": None}, "client-assertion-claims"),
        ({"jti": "x" * 300}, "client-assertion-claims"),
        ({"nbf": NOW + 600}, "client-assertion-claims"),
        ({"iat": NOW + 600}, "client-assertion-claims"),
    ],
)
async def test_claims_are_checked(provider, secret_jwt_client, overrides, catalog_id) -> None:
    err = await refused(request(sign(hmac_key(), "HS256", **overrides)), provider)
    assert err.catalog_id == catalog_id


@pytest.mark.parametrize("aud", [ISSUER, TOKEN_URL])
async def test_audience_is_the_issuer_or_the_token_endpoint(provider, secret_jwt_client, aud):
    assert await authenticate_client(request(sign(hmac_key(), "HS256", aud=aud)), provider)


async def test_introspection_endpoint_accepts_its_own_url(provider, secret_jwt_client) -> None:
    assertion = sign(hmac_key(), "HS256", aud=ISSUER + "/introspect")
    assert await authenticate_client(request(assertion), provider, endpoint="/introspect")


async def test_refused_assertion_does_not_burn_its_jti(provider, secret_jwt_client) -> None:
    jti = "try-twice"
    await refused(request(sign(hmac_key(), "HS256", jti=jti, aud="https://x.example")), provider)
    assert await authenticate_client(request(sign(hmac_key(), "HS256", jti=jti)), provider)


async def test_jti_is_forgotten_after_the_assertion_expired(provider, clock, secret_jwt_client):
    await authenticate_client(request(sign(hmac_key(), "HS256", jti="j")), provider)
    assert await provider.store.markers.purge(clock()) == 0
    clock.advance(60 + 31)
    assert await provider.store.markers.purge(clock()) == 1


async def test_hs384_is_not_allowed(provider, secret_jwt_client) -> None:
    key = OctKey.import_key(SECRET * 2)
    err = await refused(request(sign(key, "HS384")), provider)
    assert err.catalog_id == "client-assertion-alg"


async def test_client_secret_jwt_client_cannot_use_basic(oauth, provider, secret_jwt_client):
    req = OAuthRequest("POST", {}, authorization=oauth.basic("rp", SECRET))
    err = await refused(req, provider)
    assert err.catalog_id == "client-auth-method-mismatch"


async def test_assertion_and_secret_together(provider, secret_jwt_client) -> None:
    err = await refused(request(sign(hmac_key(), "HS256"), client_secret=SECRET), provider)
    assert err.catalog_id == "client-auth-multiple"


async def test_wrong_assertion_type(provider, secret_jwt_client) -> None:
    req = OAuthRequest(
        "POST",
        {"client_assertion_type": "urn:example:saml", "client_assertion": "a.b.c"},
    )
    err = await refused(req, provider)
    assert err.catalog_id == "client-assertion-type-unsupported"


async def test_garbage_assertion(provider, secret_jwt_client) -> None:
    err = await refused(request("not-a-jwt"), provider)
    assert err.catalog_id == "client-assertion-malformed"


# --- private_key_jwt ---

KEYS = {
    "RS256": lambda: RSAKey.generate_key(2048, private=True),
    "PS256": lambda: RSAKey.generate_key(2048, private=True),
    "ES256": lambda: ECKey.generate_key("P-256", private=True),
    "EdDSA": lambda: OKPKey.generate_key("Ed25519", private=True),
}


def public_jwks(*keys: Any) -> dict[str, Any]:
    out = []
    for key in keys:
        key.ensure_kid()
        out.append({**key.as_dict(private=False), "kid": key.kid})
    return {"keys": out}


@pytest.mark.parametrize("alg", list(KEYS))
async def test_private_key_jwt_inline_jwks(provider, make_client, alg) -> None:
    key = KEYS[alg]()
    client = await make_client(
        token_endpoint_auth_method="private_key_jwt", secret=None, extra={"jwks": public_jwks(key)}
    )
    assert await authenticate_client(request(sign(key, alg)), provider) == client


async def test_private_key_jwt_wrong_key(provider, make_client) -> None:
    registered, other = KEYS["ES256"](), KEYS["ES256"]()
    registered.ensure_kid()
    await make_client(
        token_endpoint_auth_method="private_key_jwt",
        secret=None,
        extra={"jwks": public_jwks(registered)},
    )
    other_with_same_kid = ECKey.import_key({**other.as_dict(private=True), "kid": registered.kid})
    err = await refused(request(sign(other_with_same_kid, "ES256")), provider)
    assert err.catalog_id == "client-assertion-signature"


async def test_private_key_jwt_registered_alg_is_enforced(provider, make_client) -> None:
    rsa, ec = KEYS["RS256"](), KEYS["ES256"]()
    await make_client(
        token_endpoint_auth_method="private_key_jwt",
        secret=None,
        extra={"jwks": public_jwks(rsa, ec), "token_endpoint_auth_signing_alg": "ES256"},
    )
    err = await refused(request(sign(rsa, "RS256")), provider)
    assert err.catalog_id == "client-assertion-alg"
    assert await authenticate_client(request(sign(ec, "ES256")), provider)


async def test_hmac_assertion_for_a_private_key_jwt_client(provider, make_client) -> None:
    await make_client(
        token_endpoint_auth_method="private_key_jwt",
        secret=None,
        extra={"jwks": public_jwks(KEYS["ES256"]())},
    )
    err = await refused(request(sign(hmac_key(), "HS256")), provider)
    assert err.catalog_id == "client-auth-method-mismatch"


# --- jwks_uri: fetched, cached, refetched on an unknown kid (rate-limited) ---

JWKS_URI = "https://rp.example.com/jwks.json"


class JwksServer:
    def __init__(self, *keys: Any) -> None:
        self.jwks = public_jwks(*keys)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return httpx.Response(200, json=self.jwks)


@pytest.fixture
async def uri_provider(make_provider):
    return await make_provider(allow_private_network_fetch=True)


async def uri_client(provider, jwks_uri: str = JWKS_URI) -> None:
    await provider.store.clients.add(
        Client(
            client_id="rp",
            client_name="RP",
            redirect_uris=(),
            grant_types=("client_credentials",),
            response_types=(),
            scope="",
            token_endpoint_auth_method="private_key_jwt",
            extra={"jwks_uri": jwks_uri},
        )
    )


async def test_jwks_uri_is_fetched_once_and_cached(uri_provider) -> None:
    key = KEYS["ES256"]()
    server = JwksServer(key)
    uri_provider.client_jwks.fetcher.transport = httpx.MockTransport(server)
    await uri_client(uri_provider)
    for _ in range(3):
        assert await authenticate_client(request(sign(key, "ES256")), uri_provider)
    assert len(server.requests) == 1
    assert str(server.requests[0].url) == JWKS_URI


async def test_unknown_kid_refetches_at_most_once_a_minute(uri_provider) -> None:
    old, new = KEYS["ES256"](), KEYS["ES256"]()
    server = JwksServer(old)
    cache = uri_provider.client_jwks
    cache.fetcher.transport = httpx.MockTransport(server)
    mono = [1000.0]
    cache._monotonic = lambda: mono[0]
    await uri_client(uri_provider)
    assert await authenticate_client(request(sign(old, "ES256")), uri_provider)
    server.jwks = public_jwks(old, new)  # the client rotates its keys
    # Within the minute: no refetch, the new kid is unknown.
    mono[0] += 10
    err = await refused(request(sign(new, "ES256")), uri_provider)
    assert err.catalog_id == "client-assertion-signature"
    assert len(server.requests) == 1
    # After it: one refetch finds the new key.
    mono[0] += 60
    assert await authenticate_client(request(sign(new, "ES256")), uri_provider)
    assert len(server.requests) == 2
    # Made-up kids do not turn into a stream of fetches.
    for _ in range(5):
        fake = KEYS["ES256"]()
        await refused(request(sign(fake, "ES256")), uri_provider)
    assert len(server.requests) == 2


async def test_jwks_uri_errors_are_invalid_client(uri_provider) -> None:
    uri_provider.client_jwks.fetcher.transport = httpx.MockTransport(
        lambda request: httpx.Response(500)
    )
    await uri_client(uri_provider)
    err = await refused(request(sign(KEYS["ES256"](), "ES256")), uri_provider)
    assert err.catalog_id == "client-jwks-unavailable"
    assert "HTTP 500" in err.description


async def test_jwks_uri_on_loopback_is_refused_by_default(provider) -> None:
    # No transport stubbed: the guard refuses before any connection is attempted.
    await uri_client(provider, "https://127.0.0.1:8443/jwks")
    err = await refused(request(sign(KEYS["ES256"](), "ES256")), provider)
    assert err.catalog_id == "client-jwks-unavailable"
    assert "127.0.0.1" in err.description


# --- discovery tells the truth ---


def test_discovery_signing_algs(provider) -> None:
    meta = metadata(provider.settings)
    assert meta["token_endpoint_auth_signing_alg_values_supported"] == signing_algs()
    assert set(signing_algs()) == {"HS256", "RS256", "PS256", "ES256", "EdDSA"}
    assert "private_key_jwt" in meta["token_endpoint_auth_methods_supported"]
    assert "client_secret_jwt" in meta["introspection_endpoint_auth_methods_supported"]
