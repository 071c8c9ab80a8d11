"""Token exchange (RFC 8693) over HTTP against the real app: a user's access token, obtained
through the browser flow, is exchanged by backend services — impersonation, delegation with
a nested ``act`` chain (the current actor outermost), introspection showing ``act`` — and
every escalation is refused: a wider scope, an unknown or not allowed audience, a mode the
client's policy does not allow, a subject token of another issuer, an expired one."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from authlib.integrations.httpx_client import AsyncOAuth2Client
from joserfc import jwt as jose_jwt
from joserfc.jwk import ECKey

from keystead.events import Event
from keystead.jose import jwt
from keystead.protocol.grants.token_exchange import GRANT_TYPE
from keystead.services import clients as client_service
from keystead.services.apis import ApiSpec, create_api
from keystead.services.common import CLI
from tests.e2e.conftest import Env
from tests.e2e.test_apis_and_tokens import authorize

pytestmark = pytest.mark.anyio

ORDERS = "https://orders.example.com"
STOCK = "https://stock.example.com"
TT = "urn:ietf:params:oauth:token-type:"
ACCESS = TT + "access_token"


async def add_service(env: Env, name: str, scope: str, policy: dict[str, Any]) -> tuple[str, str]:
    client_id, secret = await env.add_client(
        client_name=name,
        redirect_uris=[],
        response_types=[],
        grant_types=[GRANT_TYPE, "client_credentials"],
        scope=scope,
    )
    client = await env.provider.store.clients.get(client_id)
    assert client is not None and secret is not None
    spec = client_service.spec_of(client)
    await client_service.update(env.provider, client, spec, CLI, policy={"token_exchange": policy})
    return client_id, secret


async def setup(env: Env) -> dict[str, Any]:
    for identifier, fmt, names in (
        (ORDERS, "jwt", ("orders:read", "orders:write")),
        (STOCK, "opaque", ("stock:read",)),
    ):
        await create_api(
            env.provider.store,
            ApiSpec(identifier, identifier, [(n, n) for n in names], token_format=fmt),
            env.clock(),
        )
    env.provider.forget_apis()
    sub = await env.add_user()
    web_id, web_secret = await env.add_client(
        scope="openid orders:read orders:write stock:read offline_access",
        grant_types=["authorization_code", "refresh_token"],
    )
    s: dict[str, Any] = {"client_id": web_id, "client_secret": web_secret, "sub": sub}
    user = await authorize(env, s, "openid orders:read orders:write", resource=ORDERS)
    s["user_token"] = user["access_token"]
    s["orders"] = await add_service(
        env,
        "orders-svc",
        "openid orders:read orders:write stock:read",
        {"audiences": [ORDERS, STOCK], "impersonate": True, "delegate": True},
    )
    s["stock"] = await add_service(
        env,
        "stock-svc",
        "openid orders:read stock:read",
        {"audiences": [ORDERS], "impersonate": False, "delegate": True},
    )
    s["imp"] = await add_service(
        env, "imp-only", "orders:read", {"audiences": [ORDERS], "impersonate": True}
    )
    return s


def oauth(env: Env, creds: tuple[str, str]) -> AsyncOAuth2Client:
    """Authlib's OAuth2 client, authenticating with client_secret_basic."""
    return AsyncOAuth2Client(
        client_id=creds[0],
        client_secret=creds[1],
        transport=httpx.ASGITransport(app=env.app),
        base_url=env.settings.issuer,
    )


async def exchange(
    env: Env, creds: tuple[str, str], subject: str, expect: int = 200, **extra: str
) -> dict[str, Any]:
    data = {
        "grant_type": GRANT_TYPE,
        "subject_token": subject,
        "subject_token_type": extra.pop("subject_token_type", ACCESS),
        **extra,
    }
    if expect == 200:  # Authlib's token request with an extension grant (RFC 6749 §4.5)
        async with oauth(env, creds) as client:
            token = await client.fetch_token(env.settings.issuer + "/token", **data)
        return dict(token)
    async with env.client() as http:
        r = await http.post("/token", data=data, auth=creds)
    assert r.status_code == expect, r.text
    body: dict[str, Any] = r.json()
    return body


async def own_token(env: Env, creds: tuple[str, str], scope: str) -> str:
    """The service's own client_credentials token (the actor token of a delegation)."""
    async with oauth(env, creds) as client:
        token = await client.fetch_token(
            env.settings.issuer + "/token", grant_type="client_credentials", scope=scope
        )
    value: str = token["access_token"]
    return value


async def claims_of(env: Env, value: str) -> dict[str, Any]:
    _, claims = jwt.verify(value, await env.provider.keyring())
    return claims


async def test_discovery_and_impersonation(env: Env) -> None:
    s = await setup(env)
    async with env.client() as http:
        meta = (await http.get("/.well-known/openid-configuration")).json()
    assert GRANT_TYPE in meta["grant_types_supported"]
    seen: list[Event] = []
    env.provider.events.subscribers.append(seen.append)

    body = await exchange(env, s["orders"], s["user_token"], audience=ORDERS, scope="orders:read")
    assert body["issued_token_type"] == ACCESS
    assert body["token_type"] == "Bearer" and body["scope"] == "orders:read"
    assert body["expires_in"] > 0 and "refresh_token" not in body
    claims = await claims_of(env, body["access_token"])
    assert claims["sub"] == s["sub"] and claims["aud"] == ORDERS
    assert claims["client_id"] == s["orders"][0] and "act" not in claims
    # requested_token_type jwt: the API issues JWT access tokens
    body = await exchange(
        env, s["orders"], s["user_token"], resource=ORDERS, requested_token_type=TT + "jwt"
    )
    assert body["issued_token_type"] == TT + "jwt"
    assert body["scope"] == "openid orders:read orders:write"  # the subject's, by default
    exchanged = [e for e in seen if e.name == "token.exchanged"]
    assert exchanged[0].data == {
        "client_id": s["orders"][0],
        "sub": s["sub"],
        "actor": None,
        "audience": ORDERS,
        "mode": "impersonation",
    }


async def test_delegation_chain_nests_the_previous_actor(env: Env) -> None:
    s = await setup(env)
    orders_actor = await own_token(env, s["orders"], "orders:read")
    first = await exchange(
        env,
        s["orders"],
        s["user_token"],
        audience=ORDERS,
        scope="orders:read",
        actor_token=orders_actor,
        actor_token_type=ACCESS,
    )
    orders_sub = "client:" + s["orders"][0]
    assert (await claims_of(env, first["access_token"]))["act"] == {"sub": orders_sub}

    # The stock service receives that token and exchanges it again, as the new actor.
    stock_actor = await own_token(env, s["stock"], "stock:read")
    second = await exchange(
        env,
        s["stock"],
        first["access_token"],
        audience=ORDERS,
        actor_token=stock_actor,
        actor_token_type=ACCESS,
    )
    chain = {"sub": "client:" + s["stock"][0], "act": {"sub": orders_sub}}
    claims = await claims_of(env, second["access_token"])
    assert claims["act"] == chain and claims["sub"] == s["sub"]
    assert second["scope"] == "orders:read"  # never wider than the subject token's

    # Introspection shows act (RFC 8693 §4.1) to the client the token was issued to.
    async with env.client() as http:
        r = await http.post("/introspect", data={"token": second["access_token"]}, auth=s["stock"])
    assert r.json()["active"] is True and r.json()["act"] == chain

    # An opaque token (the stock API) keeps act on its grant: introspection shows it too.
    opaque = await exchange(
        env,
        s["orders"],
        s["user_token"],
        audience=STOCK,
        actor_token=orders_actor,
        actor_token_type=ACCESS,
    )
    assert opaque["scope"] == "openid"  # the user token carries no stock scope
    async with env.client() as http:
        r = await http.post("/introspect", data={"token": opaque["access_token"]}, auth=s["orders"])
    assert r.json()["act"] == {"sub": orders_sub} and r.json()["sub"] == s["sub"]
    # ... and the exchanged opaque token works at UserInfo for the subject
    async with env.client() as http:
        r = await http.get(
            "/userinfo", headers={"authorization": "Bearer " + opaque["access_token"]}
        )
    assert r.status_code == 200 and r.json()["sub"] == s["sub"]


async def test_actor_token_of_another_client_is_refused(env: Env) -> None:
    s = await setup(env)
    orders_actor = await own_token(env, s["orders"], "orders:read")
    body = await exchange(
        env,
        s["stock"],
        s["user_token"],
        400,
        audience=ORDERS,
        actor_token=orders_actor,
        actor_token_type=ACCESS,
    )
    assert body["error"] == "invalid_grant" and "another client" in body["error_description"]
    body = await exchange(env, s["orders"], s["user_token"], 400, actor_token=orders_actor)
    assert body["error"] == "invalid_request"  # actor_token without actor_token_type


async def test_refused_escalations(env: Env) -> None:
    s = await setup(env)
    seen: list[Event] = []
    env.provider.events.subscribers.append(seen.append)
    user = s["user_token"]
    # a scope the subject token does not carry (the client may have it)
    body = await exchange(env, s["orders"], user, 400, audience=STOCK, scope="stock:read")
    assert body["error"] == "invalid_scope"
    assert "wider than the subject token" in body["error_description"]
    # an audience that is no registered API
    body = await exchange(env, s["orders"], user, 400, audience="https://evil.example")
    assert body["error"] == "invalid_target"
    # a registered API the client's policy does not list
    actor = await own_token(env, s["stock"], "stock:read")
    body = await exchange(
        env, s["stock"], user, 400, audience=STOCK, actor_token=actor, actor_token_type=ACCESS
    )
    assert body["error"] == "invalid_target" and "policy allows" in body["error_description"]
    # impersonation where the policy only allows delegation
    body = await exchange(env, s["stock"], user, 400, audience=ORDERS)
    assert body["error"] == "unauthorized_client"
    assert "impersonation" in body["error_description"]
    # delegation where the policy only allows impersonation
    body = await exchange(
        env, s["imp"], user, 400, audience=ORDERS, actor_token=user, actor_token_type=ACCESS
    )
    assert body["error"] == "unauthorized_client" and "delegation" in body["error_description"]
    # a refresh token cannot be requested; the web client has no token exchange at all
    body = await exchange(env, s["orders"], user, 400, requested_token_type=TT + "refresh_token")
    assert body["error"] == "invalid_request"
    web = (s["client_id"], s["client_secret"])
    assert (await exchange(env, web, user, 400))["error"] == "unauthorized_client"
    refused = [e.data["catalog_id"] for e in seen if e.name == "token_exchange.refused"]
    assert refused == [
        "token-exchange-scope-wider",
        "token-exchange-target-unknown",
        "token-exchange-target-not-allowed",
        "token-exchange-impersonation-not-allowed",
        "token-exchange-delegation-not-allowed",
        "token-exchange-token-type",
    ]
    # the refusals are kept in the events table (keystead explain / audit)
    await env.provider.recorder.flush()
    kept = [e.name for e in await env.provider.store.events.recent(50)]
    assert kept.count("token_exchange.refused") == 6


def foreign_jwt(iss: str, sub: str, aud: str, exp: int) -> str:
    key = ECKey.generate_key("P-256", parameters={"kid": "other"})
    claims = {"iss": iss, "sub": sub, "aud": aud, "exp": exp, "iat": exp - 60, "scope": "x"}
    return jose_jwt.encode({"alg": "ES256", "kid": "other"}, claims, key)


async def test_subject_tokens_of_another_issuer_or_expired(env: Env) -> None:
    s = await setup(env)
    now = int(time.time())
    other = foreign_jwt("https://other.example", s["sub"], env.settings.issuer, now + 600)
    body = await exchange(env, s["orders"], other, 400, audience=ORDERS)
    assert body["error"] == "invalid_grant"  # not one of keystead's access tokens
    body = await exchange(
        env, s["orders"], other, 400, audience=ORDERS, subject_token_type=TT + "jwt"
    )
    assert body["error"] == "invalid_grant" and "not a trusted issuer" in body["error_description"]
    # A token signed like keystead's but by another key: same iss, still refused.
    forged = foreign_jwt(env.settings.issuer, s["sub"], ORDERS, now + 600)
    body = await exchange(env, s["orders"], forged, 400, audience=ORDERS)
    assert body["error"] == "invalid_grant"
    # The user's token expires: it can no longer be exchanged.
    env.clock.now += 3 * 3600
    body = await exchange(env, s["orders"], s["user_token"], 400, audience=ORDERS)
    assert body["error"] == "invalid_grant" and "subject_token" in body["error_description"]


async def test_id_token_and_refresh_token_as_subject(env: Env) -> None:
    s = await setup(env)
    user = await authorize(env, s, "openid orders:read offline_access", resource=ORDERS)
    # Another client's ID token (aud) and refresh token (bound to its client) are refused.
    body = await exchange(
        env, s["orders"], user["id_token"], 400, subject_token_type=TT + "id_token"
    )
    assert body["error"] == "invalid_grant" and "another client" in body["error_description"]
    body = await exchange(
        env, s["orders"], user["refresh_token"], 400, subject_token_type=TT + "refresh_token"
    )
    assert body["error"] == "invalid_grant" and "another client" in body["error_description"]
    # The client they were issued to may exchange them, once its policy allows it.
    web = await env.provider.store.clients.get(s["client_id"])
    assert web is not None
    spec = client_service.spec_of(web)
    spec.grant_types = [*spec.grant_types, GRANT_TYPE]
    policy = {"token_exchange": {"audiences": [ORDERS], "impersonate": True}}
    await client_service.update(env.provider, web, spec, CLI, policy=policy)
    env.provider.forget_client(s["client_id"])
    creds = (s["client_id"], s["client_secret"])
    body = await exchange(env, creds, user["id_token"], 400, subject_token_type=TT + "id_token")
    assert body["error"] == "invalid_target"  # the client's scopes span two APIs: name one
    body = await exchange(
        env, creds, user["id_token"], audience=ORDERS, subject_token_type=TT + "id_token"
    )
    # An ID token carries no scope: the client's bounds the new token (its API's part).
    assert body["scope"] == "openid orders:read orders:write"
    body = await exchange(
        env, creds, user["refresh_token"], subject_token_type=TT + "refresh_token"
    )
    assert body["scope"] == "openid orders:read"  # the refresh token's, less offline_access
