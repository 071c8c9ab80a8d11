"""The authorization_code grant (RFC 6749 §4.1.3, OIDC Core §3.1.3), through token_endpoint."""

from __future__ import annotations

import base64
import hashlib

import pytest

from keystead.errors import OAuthError
from keystead.jose import jwt
from keystead.protocol.token import token_endpoint
from keystead.protocol.tokens import resolve_access_token as lookup_access_token
from keystead.secrets_util import sha256_hex

pytestmark = pytest.mark.anyio

NOW = 1_700_000_000
ISSUER = "https://id.example.com"


def left_half_hash(value: str, hash_name: str) -> str:
    digest = hashlib.new(hash_name, value.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest[: len(digest) // 2]).rstrip(b"=").decode()


async def refused(req, provider) -> OAuthError:
    with pytest.raises(OAuthError) as caught:
        await token_endpoint(req, provider)
    return caught.value


# --- happy path ------------------------------------------------------------------------------


async def test_code_exchange_returns_tokens(oauth, provider, client, session) -> None:
    code = await oauth.code(client, session)
    body = await token_endpoint(oauth.token_request(client, code), provider)
    assert set(body) == {"access_token", "token_type", "expires_in", "scope", "id_token"}
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == provider.settings.access_token_ttl
    assert body["scope"] == "openid profile email"


async def test_id_token_claims(oauth, provider, client, session) -> None:
    code = await oauth.code(client, session)
    body = await token_endpoint(oauth.token_request(client, code), provider)
    header, claims = jwt.verify(body["id_token"], await provider.keyring())
    assert header["alg"] == "RS256"
    assert claims == {
        "iss": ISSUER,
        "sub": session.sub,
        "aud": "rp",
        "azp": "rp",
        "iat": NOW,
        "exp": NOW + provider.settings.id_token_ttl,
        "auth_time": session.auth_time,
        "nonce": "n-1",
        "sid": session.sid,
        "at_hash": left_half_hash(body["access_token"], "sha256"),
        "amr": ["pwd"],
        "acr": "1",
    }


@pytest.mark.parametrize(
    ("alg", "hash_name"),
    [("RS256", "sha256"), ("PS256", "sha256"), ("ES256", "sha256"), ("EdDSA", "sha512")],
)
async def test_id_token_alg_and_at_hash(oauth, provider, make_client, session, alg, hash_name):
    client = await make_client(id_token_signed_response_alg=alg)
    code = await oauth.code(client, session)
    body = await token_endpoint(oauth.token_request(client, code), provider)
    header, claims = jwt.verify(body["id_token"], await provider.keyring(), algs=[alg])
    assert header["alg"] == alg
    # OIDC Core §3.1.3.6: left-most half of the hash of the access token, base64url.
    assert claims["at_hash"] == left_half_hash(body["access_token"], hash_name)


async def test_no_nonce_no_nonce_claim(oauth, provider, client, session) -> None:
    code = await oauth.code(client, session, nonce=None)
    body = await token_endpoint(oauth.token_request(client, code), provider)
    _, claims = jwt.verify(body["id_token"], await provider.keyring())
    assert "nonce" not in claims


async def test_no_openid_scope_no_id_token(oauth, provider, client, session) -> None:
    code = await oauth.code(client, session, scope="email")
    body = await token_endpoint(oauth.token_request(client, code), provider)
    assert "id_token" not in body
    assert body["scope"] == "email"


async def test_access_token_is_usable_and_stored_hashed(oauth, provider, client, session) -> None:
    code = await oauth.code(client, session)
    body = await token_endpoint(oauth.token_request(client, code), provider)
    token = await lookup_access_token(provider, body["access_token"])
    assert token is not None
    assert (token.client_id, token.sub, token.scope) == ("rp", session.sub, body["scope"])
    assert token.exp == NOW + provider.settings.access_token_ttl
    assert token.token_hash != body["access_token"]


async def test_access_token_expires(oauth, provider, clock, client, session) -> None:
    code = await oauth.code(client, session)
    body = await token_endpoint(oauth.token_request(client, code), provider)
    clock.advance(provider.settings.access_token_ttl - 1)
    assert await lookup_access_token(provider, body["access_token"]) is not None
    clock.advance(1)
    assert await lookup_access_token(provider, body["access_token"]) is None


async def test_public_client_with_pkce(oauth, provider, public_client, session) -> None:
    code = await oauth.code(public_client, session)
    body = await token_endpoint(oauth.token_request(public_client, code, None), provider)
    assert body["access_token"]


async def test_client_secret_post(oauth, provider, make_client, session) -> None:
    client = await make_client(token_endpoint_auth_method="client_secret_post")
    code = await oauth.code(client, session)
    body = await token_endpoint(oauth.token_request(client, code), provider)
    assert body["access_token"]


async def test_token_issued_event(oauth, provider, client, session, events) -> None:
    code = await oauth.code(client, session)
    body = await token_endpoint(oauth.token_request(client, code), provider)
    issued = [e for e in events if e.name == "token.issued"]
    assert [e.data["client_id"] for e in issued] == ["rp"]
    assert body["access_token"] not in repr(issued[0].data)
    assert code not in repr(issued[0].data)


async def test_code_exchange_is_one_write(oauth, provider, make_client, session, writes) -> None:
    client = await make_client(grant_types=("authorization_code", "refresh_token"))
    code = await oauth.code(client, session, scope="openid offline_access", prompt="consent")
    writes.clear()  # the authorization request's own
    body = await token_endpoint(oauth.token_request(client, code), provider)
    assert body["refresh_token"] and body["access_token"]
    assert writes == ["consume_code"]  # the code, the access token and the refresh token


# --- single use (RFC 6749 §4.1.2) ------------------------------------------------------------


async def test_code_replay_is_refused_and_revokes_the_grant(
    oauth, provider, client, session, events
) -> None:
    code = await oauth.code(client, session)
    body = await token_endpoint(oauth.token_request(client, code), provider)
    assert await lookup_access_token(provider, body["access_token"]) is not None

    err = await refused(oauth.token_request(client, code), provider)
    assert err.catalog_id == "code-replayed"
    assert err.error == "invalid_grant"
    assert await lookup_access_token(provider, body["access_token"]) is None
    assert [e.data["client_id"] for e in events if e.name == "code.replayed"] == ["rp"]


async def test_replay_by_another_client_also_revokes(
    oauth, provider, client, make_client, session
) -> None:
    other = await make_client("other", secret="other-secret")
    code = await oauth.code(client, session)
    body = await token_endpoint(oauth.token_request(client, code), provider)
    err = await refused(oauth.token_request(other, code, "other-secret"), provider)
    assert err.catalog_id == "code-replayed"
    assert await lookup_access_token(provider, body["access_token"]) is None


async def test_a_lost_race_is_a_replay_and_revokes_the_winners_tokens(
    oauth, provider, client, session, monkeypatch
) -> None:
    # Two redemptions read the code before either consumed it; the second to consume loses.
    code = await oauth.code(client, session)
    grants = provider.store.grants
    unconsumed = await grants.get_code(sha256_hex(code))
    first = await token_endpoint(oauth.token_request(client, code), provider)

    async def stale_read(code_hash: str):
        return unconsumed

    monkeypatch.setattr(grants, "get_code", stale_read)
    err = await refused(oauth.token_request(client, code), provider)
    assert err.catalog_id == "code-replayed"
    assert await lookup_access_token(provider, first["access_token"]) is None  # revoked


async def test_unknown_code(oauth, provider, client) -> None:
    err = await refused(oauth.token_request(client, "no-such-code"), provider)
    assert err.catalog_id == "code-unknown"
    assert err.error == "invalid_grant"


async def test_missing_code(oauth, provider, client) -> None:
    err = await refused(oauth.token_request(client, ""), provider)
    assert err.catalog_id == "request-missing-parameter"
    assert "code parameter" in err.description


async def test_missing_redirect_uri(oauth, provider, client, session) -> None:
    # Always sent in keystead's authorization requests, so always required here.
    code = await oauth.code(client, session)
    err = await refused(oauth.token_request(client, code, redirect_uri=None), provider)
    assert err.catalog_id == "request-missing-parameter"
    assert "redirect_uri" in err.description


async def test_failed_client_authentication_does_not_burn_the_code(
    oauth, provider, client, session
) -> None:
    code = await oauth.code(client, session)
    err = await refused(oauth.token_request(client, code, "wrong-secret"), provider)
    assert err.catalog_id == "client-secret-invalid"
    body = await token_endpoint(oauth.token_request(client, code), provider)
    assert body["access_token"]


# --- expiry ----------------------------------------------------------------------------------


async def test_code_redeemed_just_in_time(oauth, provider, clock, client, session) -> None:
    code = await oauth.code(client, session)
    clock.advance(provider.settings.code_ttl - 1)
    body = await token_endpoint(oauth.token_request(client, code), provider)
    assert body["access_token"]


async def test_expired_code(oauth, provider, clock, client, session) -> None:
    code = await oauth.code(client, session)
    clock.advance(provider.settings.code_ttl)
    err = await refused(oauth.token_request(client, code), provider)
    assert err.catalog_id == "code-expired"
    assert err.error == "invalid_grant"


# --- binding to client, redirect_uri and PKCE ------------------------------------------------


async def test_code_of_another_client(oauth, provider, client, make_client, session) -> None:
    other = await make_client("other", secret="other-secret")
    code = await oauth.code(client, session)
    err = await refused(oauth.token_request(other, code, "other-secret"), provider)
    assert err.catalog_id == "code-client-mismatch"
    assert err.error == "invalid_grant"
    # Checked before the code is consumed: the client it was issued to can still redeem it.
    body = await token_endpoint(oauth.token_request(client, code), provider)
    assert body["access_token"]


@pytest.mark.parametrize(
    "redirect_uri",
    [
        "https://rp.example.com/callback/",
        "https://rp.example.com/other",
        "http://rp.example.com/callback",
    ],
)
async def test_redirect_uri_must_be_identical(
    oauth, provider, client, session, redirect_uri
) -> None:
    # RFC 6749 §4.1.3
    code = await oauth.code(client, session)
    req = oauth.token_request(client, code, redirect_uri=redirect_uri)
    err = await refused(req, provider)
    assert err.catalog_id == "code-redirect-uri-mismatch"


async def test_redirect_uri_of_the_authorization_request_not_just_a_registered_one(
    oauth, provider, make_client, session
) -> None:
    second = "https://rp.example.com/second"
    client = await make_client(redirect_uris=(oauth.redirect_uri, second))
    code = await oauth.code(client, session, redirect_uri=second)
    err = await refused(oauth.token_request(client, code), provider)
    assert err.catalog_id == "code-redirect-uri-mismatch"


async def test_missing_code_verifier(oauth, provider, client, session) -> None:
    code = await oauth.code(client, session)
    err = await refused(oauth.token_request(client, code, code_verifier=None), provider)
    assert err.catalog_id == "pkce-verifier-missing"


async def test_wrong_code_verifier(oauth, provider, client, session) -> None:
    code = await oauth.code(client, session)
    req = oauth.token_request(client, code, code_verifier="x" * 43)
    err = await refused(req, provider)
    assert err.catalog_id == "pkce-verifier-mismatch"
    # Whoever holds a stolen code but not its verifier cannot use it up for the client.
    body = await token_endpoint(oauth.token_request(client, code), provider)
    assert body["access_token"]


async def test_pkce_downgrade_is_refused(oauth, provider, make_client, session) -> None:
    client = await make_client(require_pkce=False)
    code = await oauth.code(client, session, code_challenge=None, code_challenge_method=None)
    err = await refused(oauth.token_request(client, code), provider)
    assert err.catalog_id == "pkce-downgrade"


async def test_code_without_pkce_for_an_exempted_client(oauth, provider, make_client, session):
    client = await make_client(require_pkce=False)
    code = await oauth.code(client, session, code_challenge=None, code_challenge_method=None)
    body = await token_endpoint(oauth.token_request(client, code, code_verifier=None), provider)
    assert body["access_token"]
