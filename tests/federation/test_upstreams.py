"""keystead as a relying party (federation/Upstreams) against a real stand-in upstream over
loopback HTTP: the code flow with PKCE, state and nonce; every check of the upstream's ID
token (OIDC Core §3.1.3.7) with its own detail; JWKS rotation; UserInfo; both client
authentication methods; upstream failures; and GitHub's OAuth 2.0 API."""

from __future__ import annotations

import base64
import os
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from joserfc import jwt as jose_jwt
from joserfc.jwk import OctKey

from keystead.config import Settings
from keystead.federation import (
    RequestValues,
    UpstreamError,
    Upstreams,
    enabled_connection,
    error_response,
)
from keystead.federation.github import api_url
from keystead.federation.upstream import s256, seal_secret
from keystead.jose.kek import KeyEncryptor
from keystead.store.connections import Connection
from keystead.store.memory import MemoryStore
from tests.federation.standin import CLIENT_ID, CLIENT_SECRET, USER_SUB, Upstream, new_key

pytestmark = pytest.mark.anyio

REDIRECT_URI = "http://127.0.0.1:8000/federation/acme/callback"
KEK = KeyEncryptor(os.urandom(32))


class Monotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def mono() -> Monotonic:
    return Monotonic()


def make_upstreams(tmp_path: Path, mono: Monotonic, **settings: Any) -> Upstreams:
    settings.setdefault("allow_private_network_fetch", True)
    s = Settings(issuer="http://127.0.0.1:8000", data_dir=tmp_path, **settings)
    return Upstreams(s, KEK, lambda: int(time.time()), monotonic=mono)


@pytest.fixture
def upstreams(tmp_path: Path, mono: Monotonic) -> Upstreams:
    return make_upstreams(tmp_path, mono)


def connection(upstream: Upstream, **changes: Any) -> Connection:
    values: dict[str, Any] = {
        "connection_id": "conn-1",
        "name": "acme",
        "display_name": "Acme",
        "kind": "oidc",
        "issuer": upstream.issuer,
        "client_id": CLIENT_ID,
        "client_secret_enc": seal_secret(KEK, "conn-1", CLIENT_SECRET),
    } | changes
    return Connection(**values)


async def approve(url: str) -> dict[str, str]:
    """The browser's trip: the stand-in approves at once and redirects back."""
    async with httpx.AsyncClient() as http:
        r = await http.get(url)
    assert r.status_code == 302, r.text
    location = r.headers["location"]
    assert location.startswith(REDIRECT_URI + "?")
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


async def sign_in(upstreams: Upstreams, conn: Connection, *, finish_nonce: str | None = None):
    values = RequestValues.new()
    url = await upstreams.authorization_url(
        conn,
        redirect_uri=REDIRECT_URI,
        state=values.state,
        nonce=values.nonce,
        code_challenge=values.code_challenge,
    )
    back = await approve(url)
    code = await upstreams.callback_code(conn, back, state=values.state)
    return await upstreams.finish(
        conn,
        redirect_uri=REDIRECT_URI,
        code=code,
        code_verifier=values.code_verifier,
        nonce=values.nonce if finish_nonce is None else finish_nonce,
    )


async def refused(upstreams: Upstreams, conn: Connection, catalog_id: str, **kw: Any) -> str:
    with pytest.raises(UpstreamError) as caught:
        await sign_in(upstreams, conn, **kw)
    assert caught.value.catalog_id == catalog_id, caught.value.detail
    assert CLIENT_SECRET not in caught.value.detail
    return caught.value.detail


# --- the good path ---


async def test_authorization_url_carries_code_pkce_state_nonce_scope(
    upstreams: Upstreams, upstream: Upstream
) -> None:
    url = await upstreams.authorization_url(
        connection(upstream),
        redirect_uri=REDIRECT_URI,
        state="st",
        nonce="no",
        code_challenge="ch",
        login_hint="ada@upstream.example",
    )
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"{upstream.issuer}/authorize"
    q = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert q == {
        "tenant": "t1",  # the endpoint's own query is kept (RFC 6749 §3.1)
        "response_type": "code",
        "client_id": CLIENT_ID,
        "redirect_uri": REDIRECT_URI,
        "scope": "openid email profile",
        "state": "st",
        "nonce": "no",
        "code_challenge": "ch",
        "code_challenge_method": "S256",
        "login_hint": "ada@upstream.example",
    }


async def test_sign_in_with_client_secret_basic(upstreams: Upstreams, upstream: Upstream) -> None:
    identity = await sign_in(upstreams, connection(upstream))
    assert identity.connection_id == "conn-1"
    assert identity.upstream_sub == USER_SUB
    assert (identity.email, identity.email_verified) == ("ada@upstream.example", True)
    # the ID token's claims and UserInfo's, merged; protocol claims left out
    assert identity.claims == {"name": "Ada Lovelace", "given_name": "Ada", "locale": "en-GB"}
    assert identity.upstream_amr == ("pwd", "mfa")
    [request] = upstream.token_requests
    assert request["method"] == "client_secret_basic"
    assert "client_secret" not in request["form"]
    assert request["form"]["grant_type"] == "authorization_code"


async def test_sign_in_with_client_secret_post(upstreams: Upstreams, upstream: Upstream) -> None:
    identity = await sign_in(upstreams, connection(upstream, auth_method="client_secret_post"))
    assert identity.upstream_sub == USER_SUB
    [request] = upstream.token_requests
    assert request["method"] == "client_secret_post"


async def test_discovery_and_jwks_are_cached(upstreams: Upstreams, upstream: Upstream) -> None:
    await sign_in(upstreams, connection(upstream))
    await sign_in(upstreams, connection(upstream))
    assert upstreams.discovery.fetches == 1
    assert upstream.jwks_fetches == 1


async def test_without_a_userinfo_endpoint_the_id_token_decides(
    upstreams: Upstreams, upstream: Upstream
) -> None:
    upstream.userinfo = False
    upstream.email_verified = False
    identity = await sign_in(upstreams, connection(upstream))
    assert (identity.email, identity.email_verified) == ("ada@upstream.example", False)
    assert identity.claims == {"name": "Ada Lovelace"}


async def test_userinfo_email_verified_counts(upstreams: Upstreams, upstream: Upstream) -> None:
    # the ID token says verified, UserInfo (fresher) says not: not verified
    upstream.spoil["userinfo"] = (200, {"sub": USER_SUB, "email": "ada@upstream.example"})
    identity = await sign_in(upstreams, connection(upstream))
    assert (identity.email, identity.email_verified) == ("ada@upstream.example", False)
    upstream.spoil["userinfo"] = (200, {"sub": USER_SUB, "email_verified": "true"})
    upstream.spoil["claims"] = {"email_verified": False}
    identity = await sign_in(upstreams, connection(upstream))
    assert identity.email_verified is True


# --- the ID token (OIDC Core §3.1.3.7) ---


async def test_a_bad_signature_is_refused(upstreams: Upstreams, upstream: Upstream) -> None:
    upstream.spoil["sign_with"] = new_key("k1")  # the published kid, another key
    detail = await refused(upstreams, connection(upstream), "upstream-id-token-invalid")
    assert "signature" in detail


@pytest.mark.parametrize("alg", ["none", "HS256"])
async def test_unsigned_and_hmac_id_tokens_are_refused(
    upstreams: Upstreams, upstream: Upstream, alg: str
) -> None:
    if alg == "none":
        header = base64.urlsafe_b64encode(b'{"alg":"none"}').rstrip(b"=").decode()
        body = base64.urlsafe_b64encode(b'{"sub":"x"}').rstrip(b"=").decode()
        upstream.spoil["id_token"] = f"{header}.{body}."
    else:  # an HMAC keyed with the client secret: anyone holding it could forge one
        key = OctKey.import_key(CLIENT_SECRET.encode() * 2)
        upstream.spoil["id_token"] = jose_jwt.encode({"alg": "HS256"}, {"sub": "x"}, key)
    detail = await refused(upstreams, connection(upstream), "upstream-id-token-invalid")
    assert "none/HS*" in detail


@pytest.mark.parametrize(
    "claims, words",
    [
        ({"iss": "https://evil.example"}, "iss"),
        ({"aud": "another-client"}, "aud"),
        ({"aud": [CLIENT_ID, "another-client"]}, "several audiences and no azp"),
        ({"aud": [CLIENT_ID, "another-client"], "azp": "another-client"}, "azp"),
        ({"azp": "another-client"}, "azp"),
        ({"exp": int(time.time()) - 600}, "expired"),
        ({"iat": "in 10 minutes"}, "iat"),  # computed when the test runs, not when collected
        ({"sub": ""}, "no sub"),
        ({"at_hash": "R0FSQkFHRQ"}, "at_hash does not match"),  # OIDC Core §3.1.3.8
    ],
)
async def test_each_claim_is_checked(
    upstreams: Upstreams, upstream: Upstream, claims: dict[str, Any], words: str
) -> None:
    if claims.get("iat") == "in 10 minutes":
        claims = {"iat": int(time.time()) + 600}
    upstream.spoil["claims"] = claims
    detail = await refused(upstreams, connection(upstream), "upstream-id-token-invalid")
    assert words in detail


async def test_several_audiences_with_azp_us_are_accepted(
    upstreams: Upstreams, upstream: Upstream
) -> None:
    upstream.spoil["claims"] = {"aud": [CLIENT_ID, "api"], "azp": CLIENT_ID}
    assert (await sign_in(upstreams, connection(upstream))).upstream_sub == USER_SUB


async def test_a_nonce_mismatch_is_refused(upstreams: Upstreams, upstream: Upstream) -> None:
    detail = await refused(
        upstreams, connection(upstream), "upstream-nonce-mismatch", finish_nonce="other"
    )
    assert "not ours" in detail
    upstream.spoil["claims"] = {"nonce": None}  # left out of the ID token
    detail = await refused(upstreams, connection(upstream), "upstream-nonce-mismatch")
    assert "no nonce" in detail


async def test_an_unknown_kid_refetches_the_jwks_once_then_is_rate_limited(
    upstreams: Upstreams, upstream: Upstream, mono: Monotonic
) -> None:
    await sign_in(upstreams, connection(upstream))
    assert upstream.jwks_fetches == 1
    # the upstream rotates its key, keystead's copy is old enough to refetch
    old = upstream.signing_key
    upstream.signing_key = new_key("k2")
    upstream.published = [old, upstream.signing_key]
    mono.now += 61
    assert (await sign_in(upstreams, connection(upstream))).upstream_sub == USER_SUB
    assert upstream.jwks_fetches == 2
    # a made-up kid: one refetch at most a minute, not one per token
    upstream.spoil["sign_with"] = new_key("k-made-up")
    mono.now += 61
    detail = await refused(upstreams, connection(upstream), "upstream-id-token-invalid")
    assert "k-made-up" in detail and upstream.jwks_fetches == 3
    await refused(upstreams, connection(upstream), "upstream-id-token-invalid")
    assert upstream.jwks_fetches == 3


# --- UserInfo ---


async def test_a_userinfo_for_another_sub_is_refused(
    upstreams: Upstreams, upstream: Upstream
) -> None:
    upstream.spoil["userinfo"] = (200, {"sub": "someone-else", "email": "x@evil.example"})
    detail = await refused(upstreams, connection(upstream), "upstream-userinfo-invalid")
    assert "someone-else" in detail
    upstream.spoil["userinfo"] = (401, {"error": "invalid_token"})
    await refused(upstreams, connection(upstream), "upstream-userinfo-invalid")


# --- the token endpoint and reachability ---


async def test_token_endpoint_errors(upstreams: Upstreams, upstream: Upstream) -> None:
    upstream.spoil["token"] = (400, {"error": "invalid_grant", "error_description": "used"})
    detail = await refused(upstreams, connection(upstream), "upstream-token-error")
    assert "error=invalid_grant (used)" in detail
    upstream.spoil["token"] = (200, {"token_type": "Bearer"})
    assert "no access_token" in await refused(
        upstreams, connection(upstream), "upstream-token-error"
    )
    upstream.spoil["token"] = (503, {"error": "temporarily_unavailable"})
    await refused(upstreams, connection(upstream), "upstream-unreachable")


async def test_a_wrong_client_secret_is_the_upstreams_invalid_client(
    upstreams: Upstreams, upstream: Upstream
) -> None:
    wrong = connection(upstream, client_secret_enc=seal_secret(KEK, "conn-1", "wrong"))
    detail = await refused(upstreams, wrong, "upstream-token-error")
    assert "invalid_client" in detail and "wrong" not in detail


async def test_an_unreachable_upstream(upstreams: Upstreams, upstream: Upstream) -> None:
    with socket_closed() as port:
        conn = connection(upstream, issuer=f"http://127.0.0.1:{port}")
        with pytest.raises(UpstreamError) as caught:
            await upstreams.authorization_url(
                conn, redirect_uri=REDIRECT_URI, state="s", nonce="n", code_challenge="c"
            )
    assert caught.value.catalog_id == "upstream-unreachable"
    assert caught.value.status == 503


async def test_a_token_endpoint_that_does_not_answer_in_time(
    tmp_path: Path, mono: Monotonic, upstream: Upstream
) -> None:
    hasty = make_upstreams(tmp_path, mono, federation_timeout=0.3)
    upstream.spoil["slow"] = 3
    started = time.monotonic()
    detail = await refused(hasty, connection(upstream), "upstream-unreachable")
    assert time.monotonic() - started < 2.5
    assert "Timeout" in detail or "did not answer" in detail


def test_request_values_are_fresh_and_pkce_s256() -> None:
    first, second = RequestValues.new(), RequestValues.new()
    assert len({first.state, first.nonce, second.state, second.nonce}) == 4
    assert 43 <= len(first.code_verifier) <= 128
    # RFC 7636 Appendix B's example
    assert s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk") == (
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    )


async def test_a_private_issuer_is_refused_without_the_development_switch(
    tmp_path: Path, mono: Monotonic, upstream: Upstream
) -> None:
    guarded = make_upstreams(tmp_path, mono, allow_private_network_fetch=False)
    with pytest.raises(UpstreamError) as caught:
        await guarded.discover(upstream.issuer)
    assert caught.value.catalog_id == "upstream-unreachable"
    assert "https" in caught.value.detail


@pytest.mark.parametrize(
    "document, words",
    [
        ({"issuer": "https://other.example"}, "§4.3"),
        ({"jwks_uri": None}, "jwks_uri"),
        ({"token_endpoint": None}, "token_endpoint"),
        ({"code_challenge_methods_supported": ["plain"]}, "S256"),
        ({"token_endpoint": "ftp://127.0.0.1/token"}, "token_endpoint"),
        ({"userinfo_endpoint": "javascript:alert(1)"}, "userinfo_endpoint"),
    ],
)
async def test_an_unusable_discovery_document(
    upstreams: Upstreams, upstream: Upstream, document: dict[str, Any], words: str
) -> None:
    async with httpx.AsyncClient() as http:
        good = await http.get(f"{upstream.issuer}/.well-known/openid-configuration")
    upstream.spoil["discovery"] = (200, {**good.json(), **document})
    with pytest.raises(UpstreamError) as caught:
        await upstreams.discover(upstream.issuer)
    assert caught.value.catalog_id == "upstream-discovery-invalid"
    assert words in caught.value.detail


async def test_a_disabled_or_unknown_connection(upstreams: Upstreams, upstream: Upstream) -> None:
    with pytest.raises(UpstreamError) as caught:
        await sign_in(upstreams, connection(upstream, enabled=False))
    assert caught.value.catalog_id == "connection-disabled"
    store = MemoryStore()
    await store.connections.add(connection(upstream, enabled=False))
    with pytest.raises(UpstreamError) as caught:
        await enabled_connection(store.connections, "nope")
    assert caught.value.catalog_id == "connection-unknown"
    with pytest.raises(UpstreamError) as caught:
        await enabled_connection(store.connections, "acme")
    assert caught.value.catalog_id == "connection-disabled"


async def test_the_callback_is_checked_before_the_code_is_used(
    upstreams: Upstreams, upstream: Upstream
) -> None:
    conn = connection(upstream)
    good = {"code": "c", "state": "s", "iss": upstream.issuer}
    assert await upstreams.callback_code(conn, good, state="s") == "c"

    async def refused_callback(params: dict[str, str], catalog_id: str) -> str:
        with pytest.raises(UpstreamError) as caught:
            await upstreams.callback_code(conn, params, state="s")
        assert caught.value.catalog_id == catalog_id
        return caught.value.detail

    # RFC 6749 §10.12: another browser's (or no) state, even with an error
    assert "not this browser's" in await refused_callback(
        good | {"state": "t"}, "upstream-callback-invalid"
    )
    no_state = {"error": "access_denied"}
    assert "no state" in await refused_callback(no_state, "upstream-callback-invalid")
    # RFC 9207: another issuer's answer, or none from an upstream that promises one
    mixed_up = good | {"iss": "https://evil.example"}
    assert "evil.example" in await refused_callback(mixed_up, "upstream-callback-invalid")
    no_iss = {"code": "c", "state": "s"}
    assert "no iss" in await refused_callback(no_iss, "upstream-callback-invalid")
    denied = {"state": "s", "iss": upstream.issuer, "error": "access_denied"}
    assert "error=access_denied" in await refused_callback(denied, "upstream-error-response")
    empty = {"state": "s", "iss": upstream.issuer}
    assert "neither" in await refused_callback(empty, "upstream-callback-invalid")
    # GitHub sends no iss
    assert await upstreams.callback_code(github(upstream), no_iss, state="s") == "c"


async def test_a_mixed_up_iss_in_a_real_redirect(upstreams: Upstreams, upstream: Upstream) -> None:
    upstream.spoil["iss"] = "http://127.0.0.1:1"
    await refused(upstreams, connection(upstream), "upstream-callback-invalid")


def test_an_error_redirect_from_the_upstream() -> None:
    error = error_response({"error": "access_denied", "error_description": "user cancelled"})
    assert error.catalog_id == "upstream-error-response" and error.error == "access_denied"
    assert "error=access_denied error_description=user cancelled" in error.detail
    assert "user cancelled" not in error.description  # the client gets the catalog's words


# --- GitHub ---


def github(upstream: Upstream, **changes: Any) -> Connection:
    return connection(upstream, kind="github", scope="read:user user:email", **changes)


async def test_github_sign_in(upstreams: Upstreams, upstream: Upstream) -> None:
    url = await upstreams.authorization_url(
        github(upstream), redirect_uri=REDIRECT_URI, state="s", nonce="n", code_challenge="c"
    )
    assert url.startswith(f"{upstream.issuer}/login/oauth/authorize?")
    assert "nonce" not in parse_qs(urlsplit(url).query)  # OAuth 2.0 only
    identity = await sign_in(upstreams, github(upstream, auth_method="client_secret_post"))
    assert identity.upstream_sub == "583231"
    assert (identity.email, identity.email_verified) == ("ada@upstream.example", True)
    assert identity.claims == {
        "preferred_username": "octocat",
        "name": "The Octocat",
        "picture": "https://avatars.example/u/583231",
    }
    [request] = upstream.token_requests
    assert request["path"] == "/login/oauth/access_token"
    assert request["accept"] == "application/json"
    assert request["method"] == "client_secret_post"
    assert upstream.api_requests == ["/api/v3/user", "/api/v3/user/emails"]


async def test_github_unverified_primary_email_and_no_email_scope(
    upstreams: Upstreams, upstream: Upstream
) -> None:
    upstream.email_verified = False
    identity = await sign_in(upstreams, github(upstream))
    assert (identity.email, identity.email_verified) == ("ada@upstream.example", False)
    upstream.spoil["emails"] = (404, {"message": "Not Found"})
    identity = await sign_in(upstreams, github(upstream))
    assert (identity.email, identity.email_verified) == (None, False)


async def test_github_failures(upstreams: Upstreams, upstream: Upstream) -> None:
    wrong = github(upstream, client_secret_enc=seal_secret(KEK, "conn-1", "wrong"))
    detail = await refused(upstreams, wrong, "upstream-token-error")  # a 200 with error=
    assert "bad_verification_code" in detail
    upstream.spoil["user"] = (200, {"login": "no-id"})
    await refused(upstreams, github(upstream), "upstream-userinfo-invalid")
    upstream.spoil["user"] = (502, {})
    await refused(upstreams, github(upstream), "upstream-unreachable")


def test_github_api_base() -> None:
    conn = Connection("c", "gh", "GitHub", "github", "https://github.com/", "id", "x")
    assert api_url(conn) == "https://api.github.com"
    ghes = Connection("c", "gh", "GitHub", "github", "https://git.example.com", "id", "x")
    assert api_url(ghes) == "https://git.example.com/api/v3"


class socket_closed:
    """A loopback port nothing listens on."""

    def __enter__(self) -> int:
        import socket

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            return int(s.getsockname()[1])

    def __exit__(self, *exc: object) -> None:
        return None
