"""The UserInfo endpoint (OIDC Core §5.3), protected by a Bearer token (RFC 6750)."""

from __future__ import annotations

import pytest

from keystead.errors import OAuthError
from keystead.protocol.request import OAuthRequest
from keystead.protocol.tokens import TokenRequest, issue_access_token
from keystead.protocol.userinfo import userinfo
from keystead.store.base import Grant

pytestmark = pytest.mark.anyio

NOW = 1_700_000_000


@pytest.fixture
def token_for(provider, client):
    async def make(scope: str, sub: str = "u-5d1f0c7e", grant_id: str = "g-1") -> str:
        grant = Grant(grant_id, client.client_id, sub, scope, NOW)
        await provider.store.grants.add_grant(grant)
        treq = TokenRequest(client, sub, scope, None, grant)
        return (await issue_access_token(provider, treq)).value

    return make


def bearer(token: str, **params: str) -> OAuthRequest:
    return OAuthRequest("GET", params, authorization=f"Bearer {token}")


async def refused(req, provider) -> OAuthError:
    with pytest.raises(OAuthError) as caught:
        await userinfo(req, provider)
    return caught.value


async def test_openid_only_gives_sub(provider, user, token_for) -> None:
    token = await token_for("openid")
    assert await userinfo(bearer(token), provider) == {"sub": user.sub}


async def test_profile_and_email_claims(provider, user, token_for) -> None:
    token = await token_for("openid profile email")
    claims = await userinfo(bearer(token), provider)
    assert claims == {
        "sub": user.sub,
        "name": "Alice Liddell",
        "given_name": "Alice",
        "family_name": "Liddell",
        "preferred_username": "alice",
        "updated_at": user.updated_at,
        "email": "alice@example.com",
        "email_verified": True,
    }


async def test_email_scope_only(provider, user, token_for) -> None:
    claims = await userinfo(bearer(await token_for("openid email")), provider)
    assert set(claims) == {"sub", "email", "email_verified"}


async def test_sub_is_never_the_username(provider, user, token_for) -> None:
    claims = await userinfo(bearer(await token_for("openid profile email")), provider)
    assert claims["sub"] == "u-5d1f0c7e"
    assert claims["sub"] not in (user.username, user.email)


async def test_no_token(provider) -> None:
    err = await refused(OAuthRequest("GET", {}), provider)
    assert err.catalog_id == "token-missing"
    assert err.status == 401
    # RFC 6750 §3.1: no error code when the request has no authentication at all.
    assert err.headers["WWW-Authenticate"] == 'Bearer realm="keystead"'


async def test_token_as_a_query_parameter_is_refused(provider, user, token_for) -> None:
    token = await token_for("openid")
    err = await refused(OAuthRequest("GET", {"access_token": token}), provider)
    assert err.catalog_id == "token-missing"
    assert 'error="invalid_request"' in err.headers["WWW-Authenticate"]


async def test_unknown_token(provider) -> None:
    err = await refused(bearer("not-a-token"), provider)
    assert err.catalog_id == "token-invalid"
    assert err.error == "invalid_token"
    assert err.status == 401
    assert 'error="invalid_token"' in err.headers["WWW-Authenticate"]


async def test_expired_token(provider, clock, user, token_for) -> None:
    token = await token_for("openid")
    clock.advance(provider.settings.access_token_ttl)
    err = await refused(bearer(token), provider)
    assert err.catalog_id == "token-invalid"


async def test_revoked_grant(provider, user, token_for) -> None:
    token = await token_for("openid")
    await provider.store.grants.revoke_grant("g-1", NOW)
    err = await refused(bearer(token), provider)
    assert err.catalog_id == "token-invalid"


async def test_token_without_openid_scope(provider, user, token_for) -> None:
    err = await refused(bearer(await token_for("profile email")), provider)
    assert err.catalog_id == "token-insufficient-scope"
    assert err.error == "insufficient_scope"
    assert err.status == 403
    assert 'error="insufficient_scope"' in err.headers["WWW-Authenticate"]


async def test_user_gone(provider, token_for) -> None:
    err = await refused(bearer(await token_for("openid", sub="u-deleted")), provider)
    assert err.catalog_id == "token-invalid"
