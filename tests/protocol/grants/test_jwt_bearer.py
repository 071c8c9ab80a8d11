"""The JWT bearer grant (RFC 7523 §2.1, §3) through token_endpoint on the memory store with a
fake clock: the leeway on exp, nbf and iat, the configured maximum age, aud as a list naming
the token endpoint, jti required and single use, keys that cannot be fetched."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from joserfc import jwt as jose_jwt
from joserfc.jwk import ECKey

from keystead.errors import OAuthError
from keystead.protocol.grants.jwt_bearer import GRANT_TYPE
from keystead.protocol.request import OAuthRequest
from keystead.protocol.token import token_endpoint
from keystead.protocol.tokens import resolve_access_token
from keystead.provider import Provider
from keystead.secrets_util import sha256_hex
from keystead.store.base import Client, User
from keystead.store.trusted_issuers import TrustedIssuer
from tests.protocol.conftest import ISSUER, NOW, SECRET, basic

pytestmark = pytest.mark.anyio

IDP = "https://idp.example"
KEY = ECKey.generate_key("P-256", parameters={"kid": "idp-1"})


@pytest.fixture
async def app(provider: Provider, make_client: Any, user: User) -> Client:
    issuer = TrustedIssuer(
        "ti-1", IDP, NOW, jwks={"keys": [KEY.as_dict(private=False)]},
        allowed_client_ids=("app",),
    )  # fmt: skip
    await provider.store.trusted_issuers.add(issuer)
    return await make_client("app", redirect_uris=(), grant_types=(GRANT_TYPE,), scope="openid")


def assertion(user: User, **claims: Any) -> str:
    body = {
        "iss": IDP,
        "sub": user.sub,
        "aud": ISSUER,
        "exp": NOW + 300,
        "iat": NOW,
        "jti": uuid.uuid4().hex,
    }
    body.update(claims)
    body = {k: v for k, v in body.items() if v is not None}
    return jose_jwt.encode({"alg": "ES256", "kid": "idp-1"}, body, KEY)


async def grant(provider: Provider, client: Client, jwt: str) -> dict[str, Any]:
    req = OAuthRequest(
        method="POST",
        params={"grant_type": GRANT_TYPE, "assertion": jwt},
        authorization=basic(client.client_id, SECRET),
    )
    return await token_endpoint(req, provider)


async def refused(provider: Provider, client: Client, jwt: str) -> str:
    with pytest.raises(OAuthError) as caught:
        await grant(provider, client, jwt)
    assert caught.value.error == "invalid_grant"
    return caught.value.catalog_id


async def test_the_claims_rules(provider: Provider, app: Client, user: User) -> None:
    leeway = provider.settings.jwt_grant_leeway
    body = await grant(provider, app, assertion(user, aud=["https://x.example", ISSUER + "/token"]))
    token = await resolve_access_token(provider, body["access_token"])
    assert token is not None and token.sub == user.sub and body["scope"] == "openid"
    # exp within the leeway still counts; at its edge it does not
    await grant(provider, app, assertion(user, exp=NOW - leeway + 1))
    assert await refused(provider, app, assertion(user, exp=NOW - leeway)) == "trusted-jwt-expired"
    assert await refused(provider, app, assertion(user, exp="soon")) == "trusted-jwt-claims"
    await grant(provider, app, assertion(user, nbf=NOW + leeway, iat=NOW + leeway))
    assert await refused(provider, app, assertion(user, iat=NOW + leeway + 1)) == (
        "trusted-jwt-not-yet-valid"
    )
    assert await refused(provider, app, assertion(user, jti=None)) == "trusted-jwt-claims"
    assert await refused(provider, app, assertion(user, jti="x" * 257)) == "trusted-jwt-claims"
    assert await refused(provider, app, assertion(user, aud=[])) == "trusted-jwt-audience"
    assert await refused(provider, app, assertion(user, sub=None)) == "trusted-jwt-subject"
    assert await refused(provider, app, "not.a.jwt") == "trusted-jwt-malformed"


async def test_the_maximum_age_is_a_setting(make_provider: Any, make_client: Any) -> None:
    provider = await make_provider(jwt_grant_max_age=120, jwt_grant_leeway=0)
    issuer = TrustedIssuer(
        "ti-1", IDP, NOW, jwks={"keys": [KEY.as_dict(private=False)]}, subject_mapping="none",
        allowed_client_ids=("app",),
    )  # fmt: skip
    await provider.store.trusted_issuers.add(issuer)
    client = Client(
        "app", "App", (), (GRANT_TYPE,), (), "openid", "client_secret_basic",
        client_secret_hash=sha256_hex(SECRET),
    )  # fmt: skip
    await provider.store.clients.add(client)
    robot = User("robot", "robot", "x")  # only its sub is used
    await grant(provider, client, assertion(robot, sub="robot", iat=NOW - 120))
    assert await refused(provider, client, assertion(robot, sub="robot", iat=NOW - 121)) == (
        "trusted-jwt-expired"
    )


async def test_a_jti_is_single_use_until_the_assertion_expires(
    provider: Provider, app: Client, user: User, clock: Any
) -> None:
    jwt = assertion(user, jti="once")
    await grant(provider, app, jwt)
    assert await refused(provider, app, jwt) == "trusted-jwt-replayed"
    assert await refused(provider, app, assertion(user, jti="once")) == "trusted-jwt-replayed"
    clock.advance(300 + provider.settings.jwt_grant_leeway)
    assert await refused(provider, app, jwt) == "trusted-jwt-expired"  # still no second use


async def test_unreachable_keys(provider: Provider, make_client: Any, user: User) -> None:
    issuer = TrustedIssuer(
        "ti-2", "https://far.example", NOW, jwks_uri="https://127.0.0.1:9/jwks.json",
        allowed_client_ids=("far",),
    )  # fmt: skip
    await provider.store.trusted_issuers.add(issuer)
    client = await make_client("far", redirect_uris=(), grant_types=(GRANT_TYPE,))
    jwt = assertion(user, iss="https://far.example")
    assert await refused(provider, client, jwt) == "trusted-jwt-keys"  # SSRF guard: loopback
