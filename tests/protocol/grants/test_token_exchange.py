"""Token exchange (RFC 8693) through token_endpoint on the memory store with a fake clock:
the act chain (nesting, its bound, kept by impersonation), subject and actor JWTs of a trusted
issuer, targets, token types, and the exchanged token ending with the user's grants."""

from __future__ import annotations

from typing import Any

import pytest
from joserfc import jwt as jose_jwt
from joserfc.jwk import ECKey

from keystead.errors import OAuthError
from keystead.jose import jwt
from keystead.protocol.grants.token_exchange import GRANT_TYPE, MAX_ACT_DEPTH
from keystead.protocol.request import OAuthRequest
from keystead.protocol.token import token_endpoint
from keystead.protocol.tokens import TokenRequest, issue_access_token, resolve_access_token
from keystead.provider import Provider
from keystead.secrets_util import random_token
from keystead.store.base import Api, Client, Grant, User
from keystead.store.trusted_issuers import TrustedIssuer
from tests.protocol.conftest import ISSUER, NOW, SECRET, basic

pytestmark = pytest.mark.anyio

ORDERS = "https://orders.example"
STOCK = "https://stock.example"
TT = "urn:ietf:params:oauth:token-type:"
IDP = "https://idp.example"
KEY = ECKey.generate_key("P-256", parameters={"kid": "idp-1"})


@pytest.fixture
async def svc(provider: Provider, make_client: Any, user: User) -> Client:
    for identifier, fmt, scope in ((ORDERS, "jwt", "o:read"), (STOCK, "opaque", "s:read")):
        api = Api(random_token(8), identifier, identifier, ((scope, scope),), fmt, 600, NOW)
        await provider.store.apis.add(api)
    policy = {"audiences": [ORDERS, STOCK], "impersonate": True, "delegate": True}
    client = await make_client(
        "svc",
        redirect_uris=(),
        grant_types=(GRANT_TYPE,),
        scope="openid o:read s:read",
        extra={"token_exchange": policy},
    )
    issuer = TrustedIssuer(
        "ti-1", IDP, NOW, jwks={"keys": [KEY.as_dict(private=False)]},
        subject_mapping="username", allowed_client_ids=("svc",),
    )  # fmt: skip
    await provider.store.trusted_issuers.add(issuer)
    return client


async def user_token(provider: Provider, client: Client, sub: str, **kw: Any) -> str:
    index = await provider.apis()
    grant = Grant(random_token(8), client.client_id, sub, "openid o:read", NOW, **kw)
    await provider.store.grants.add_grant(grant)
    treq = TokenRequest(client, sub, "openid o:read", index.by_identifier[ORDERS], grant)
    return (await issue_access_token(provider, treq)).value


async def exchange(provider: Provider, client: Client, subject: str, **params: str) -> Any:
    params.setdefault("subject_token_type", TT + "access_token")
    req = OAuthRequest(
        method="POST",
        params={"grant_type": GRANT_TYPE, "subject_token": subject, **params},
        authorization=basic(client.client_id, SECRET),
    )
    return await token_endpoint(req, provider)


async def refused(provider: Provider, client: Client, subject: str, **params: str) -> OAuthError:
    with pytest.raises(OAuthError) as caught:
        await exchange(provider, client, subject, **params)
    return caught.value


def idp_jwt(**claims: Any) -> str:
    body = {"iss": IDP, "sub": "alice", "aud": ISSUER, "exp": NOW + 300, "iat": NOW}
    body.update(claims)
    return jose_jwt.encode({"alg": "ES256", "kid": "idp-1"}, body, KEY)


async def test_act_is_nested_and_bounded(provider: Provider, svc: Client, user: User) -> None:
    subject = await user_token(provider, svc, user.sub)
    actor = idp_jwt(sub="alice")  # an outside actor, mapped to the local user
    body = await exchange(
        provider, svc, subject, audience=ORDERS, actor_token=actor, actor_token_type=TT + "jwt"
    )
    _, claims = jwt.verify(body["access_token"], await provider.keyring())
    assert claims["act"] == {"sub": user.sub}
    # impersonating a delegated token keeps its chain
    again = await exchange(provider, svc, body["access_token"], audience=ORDERS)
    _, claims = jwt.verify(again["access_token"], await provider.keyring())
    assert claims["act"] == {"sub": user.sub}
    # a chain may not grow without bound
    token = body["access_token"]
    for _ in range(MAX_ACT_DEPTH - 1):
        token = (
            await exchange(
                provider,
                svc,
                token,
                audience=ORDERS,
                actor_token=actor,
                actor_token_type=TT + "jwt",
            )
        )["access_token"]
    error = await refused(
        provider, svc, token, audience=ORDERS, actor_token=actor, actor_token_type=TT + "jwt"
    )
    assert error.catalog_id == "token-exchange-subject-invalid"


async def test_trusted_jwt_subject_is_mapped_and_its_scope_bounds(
    provider: Provider, svc: Client, user: User
) -> None:
    subject = idp_jwt(scope="o:read")
    body = await exchange(provider, svc, subject, subject_token_type=TT + "jwt", audience=ORDERS)
    _, claims = jwt.verify(body["access_token"], await provider.keyring())
    assert claims["sub"] == user.sub and body["scope"] == "o:read"
    error = await refused(
        provider, svc, subject, subject_token_type=TT + "jwt", audience=STOCK, scope="s:read"
    )
    assert error.catalog_id == "token-exchange-scope-wider"
    # without the right type, a foreign JWT is no access token of ours
    error = await refused(provider, svc, subject, audience=ORDERS)
    assert error.catalog_id == "token-exchange-subject-invalid"
    # keystead's own access token named as jwt is accepted as what it is
    own = await user_token(provider, svc, user.sub)
    body = await exchange(provider, svc, own, subject_token_type=TT + "jwt", audience=ORDERS)
    assert body["scope"] == "openid o:read"


async def test_targets_and_token_types(
    provider: Provider, svc: Client, user: User, make_client: Any
) -> None:
    subject = await user_token(provider, svc, user.sub)
    error = await refused(provider, svc, subject, audience=ORDERS, resource=STOCK)
    assert error.catalog_id == "token-exchange-target-unknown" and error.error == "invalid_target"
    error = await refused(provider, svc, subject, audience=STOCK, requested_token_type=TT + "jwt")
    assert error.catalog_id == "token-exchange-token-type"
    error = await refused(provider, svc, subject, subject_token_type=TT + "saml2")
    assert error.error == "invalid_request"
    body = await exchange(provider, svc, subject, audience=STOCK)
    assert body["issued_token_type"] == TT + "access_token"
    public = await make_client(
        "pub", secret=None, token_endpoint_auth_method="none", grant_types=(GRANT_TYPE,)
    )
    req = OAuthRequest(
        method="POST",
        params={
            "grant_type": GRANT_TYPE,
            "client_id": "pub",
            "subject_token": subject,
            "subject_token_type": TT + "access_token",
        },
    )
    with pytest.raises(OAuthError) as caught:
        await token_endpoint(req, provider)
    assert caught.value.catalog_id == "token-exchange-public-client"
    assert public.is_public


async def test_exchanged_tokens_end_with_the_users_grants(
    provider: Provider, svc: Client, user: User, clock: Any
) -> None:
    subject = await user_token(provider, svc, user.sub)
    body = await exchange(provider, svc, subject, audience=STOCK)
    assert await resolve_access_token(provider, body["access_token"]) is not None
    await provider.store.users.sign_out_everywhere(user.sub, NOW)
    assert await resolve_access_token(provider, body["access_token"]) is None
    error = await refused(provider, svc, subject, audience=STOCK)
    assert error.catalog_id == "token-exchange-subject-invalid"
    # an expired outside JWT is refused (beyond the leeway)
    clock.advance(300 + provider.settings.jwt_grant_leeway)
    error = await refused(provider, svc, idp_jwt(), subject_token_type=TT + "jwt", audience=STOCK)
    assert error.catalog_id == "trusted-jwt-expired"


async def test_an_outside_service_actor_is_named_with_its_issuer(
    provider: Provider, svc: Client, user: User
) -> None:
    robots = TrustedIssuer(
        "ti-2", "https://robots.example", NOW, jwks={"keys": [KEY.as_dict(private=False)]},
        subject_mapping="none", allowed_client_ids=("svc",),
    )  # fmt: skip
    await provider.store.trusted_issuers.add(robots)
    actor = idp_jwt(iss="https://robots.example", sub="robot-1")
    subject = await user_token(provider, svc, user.sub)
    body = await exchange(
        provider, svc, subject, audience=STOCK, actor_token=actor, actor_token_type=TT + "jwt"
    )
    token = await resolve_access_token(provider, body["access_token"])
    assert token is not None and token.sub == user.sub
    assert token.act == {"sub": "robot-1", "iss": "https://robots.example"}  # opaque: on its grant
