"""The JWT bearer authorization grant (RFC 7523 §2.1) over HTTP against the real app: an
outside issuer's JWT, its keys served by a real HTTP server on loopback (or registered
inline), is exchanged for an access token for the local user its subject maps to; and the
attacker's moves: a replayed jti, a wrong audience, an expired or too old JWT, an unknown
issuer, a client the issuer is not trusted for, a subject no local user matches, an HMAC or
unsigned JWT, a subject mapped "as is" that collides with a keystead user."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from authlib.integrations.httpx_client import AsyncOAuth2Client
from joserfc import jwt as jose_jwt
from joserfc.jwk import ECKey, OctKey

from keystead.events import Event
from keystead.protocol.grants.jwt_bearer import GRANT_TYPE
from keystead.services import trusted_issuers
from keystead.services.apis import ApiSpec, create_api
from keystead.services.common import CLI
from keystead.services.trusted_issuers import TrustedIssuerSpec
from tests.e2e.conftest import Env, make_env

pytestmark = pytest.mark.anyio

IDP = "https://idp.partner.example"
NOTES = "https://notes.example.com"


class JwksServer:
    """A JWK Set on a real loopback HTTP server; ``keys`` can change (rotation)."""

    def __init__(self) -> None:
        self.keys: list[Any] = []
        self.hits = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                outer.hits += 1
                body = json.dumps({"keys": [k.as_dict(private=False) for k in outer.keys]})
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.end_headers()
                self.wfile.write(body.encode())

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/jwks.json"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def jwks_server() -> Iterator[JwksServer]:
    server = JwksServer()
    yield server
    server.close()


@pytest.fixture
async def env(tmp_path: Path) -> Any:
    e = await make_env(tmp_path, allow_private_network_fetch=True)
    yield e
    await e.provider.close()


def new_key(kid: str) -> ECKey:
    return ECKey.generate_key("P-256", parameters={"kid": kid, "alg": "ES256"})


def assertion(env: Env, key: Any, alg: str = "ES256", **claims: Any) -> str:
    now = env.clock()
    body = {
        "iss": IDP,
        "sub": "alice",
        "aud": env.settings.issuer,
        "exp": now + 300,
        "iat": now,
        "jti": uuid.uuid4().hex,
    }
    body.update(claims)
    body = {k: v for k, v in body.items() if v is not None}
    header = {"alg": alg, "kid": key.kid} if key.kid else {"alg": alg}
    return jose_jwt.encode(header, body, key, algorithms=[alg])


async def setup(env: Env, **issuer: Any) -> dict[str, Any]:
    await create_api(
        env.provider.store,
        ApiSpec(NOTES, "Notes", [("notes:read", "Read notes")], token_format="jwt"),
        env.clock(),
    )
    env.provider.forget_apis()
    sub = await env.add_user("alice", email_verified=True)
    client_id, secret = await env.add_client(
        redirect_uris=[],
        response_types=[],
        grant_types=[GRANT_TYPE],
        scope="openid notes:read",
    )
    other_id, other_secret = await env.add_client(
        redirect_uris=[], response_types=[], grant_types=[GRANT_TYPE], scope="notes:read"
    )
    spec = TrustedIssuerSpec(
        issuer=IDP, allowed_client_ids=[client_id], subject_mapping="username", **issuer
    )
    trusted = await trusted_issuers.create(env.provider, spec, CLI)
    assert secret is not None and other_secret is not None
    return {
        "sub": sub,
        "client": (client_id, secret),
        "other": (other_id, other_secret),
        "issuer": trusted,
    }


async def grant(
    env: Env, creds: tuple[str, str], jwt: str, expect: int = 200, **extra: str
) -> dict[str, Any]:
    data = {"grant_type": GRANT_TYPE, "assertion": jwt, **extra}
    if expect == 200:  # Authlib's token request with the RFC 7523 grant type
        async with AsyncOAuth2Client(
            client_id=creds[0],
            client_secret=creds[1],
            transport=httpx.ASGITransport(app=env.app),
            base_url=env.settings.issuer,
        ) as client:
            return dict(await client.fetch_token(env.settings.issuer + "/token", **data))
    async with env.client() as http:
        r = await http.post("/token", data=data, auth=creds)
    assert r.status_code == expect, r.text
    body: dict[str, Any] = r.json()
    return body


async def introspect(env: Env, creds: tuple[str, str], token: str) -> dict[str, Any]:
    async with env.client() as http:
        r = await http.post("/introspect", data={"token": token}, auth=creds)
    body: dict[str, Any] = r.json()
    return body


async def test_assertion_with_keys_from_a_loopback_jwks_uri(
    env: Env, jwks_server: JwksServer
) -> None:
    key = new_key("k1")
    jwks_server.keys = [key]
    s = await setup(env, jwks_uri=jwks_server.url)
    async with env.client() as http:
        meta = (await http.get("/.well-known/openid-configuration")).json()
    assert GRANT_TYPE in meta["grant_types_supported"]
    seen: list[Event] = []
    env.provider.events.subscribers.append(seen.append)

    body = await grant(env, s["client"], assertion(env, key), scope="notes:read")
    assert body["scope"] == "notes:read" and body["token_type"] == "Bearer"
    assert "refresh_token" not in body  # the assertion is the grant (RFC 7521 §4.1)
    info = await introspect(env, s["client"], body["access_token"])
    assert info["active"] and info["sub"] == s["sub"] and info["aud"] == NOTES
    # A second assertion: the keys come from the cache.
    await grant(env, s["client"], assertion(env, key), scope="notes:read")
    assert jwks_server.hits == 1
    # The issuer rotates its key: an unknown kid refetches its JWK Set.
    env.provider.client_jwks.min_refetch = 0
    rotated = new_key("k2")
    jwks_server.keys = [rotated]
    await grant(env, s["client"], assertion(env, rotated), scope="notes:read")
    assert jwks_server.hits == 2
    used = [e.data for e in seen if e.name == "jwt_bearer.used"]
    assert used[0] == {"client_id": s["client"][0], "issuer": IDP, "sub": s["sub"], "aud": NOTES}


async def test_attacks_are_refused(env: Env) -> None:
    key = new_key("k1")
    s = await setup(env, jwks={"keys": [key.as_dict(private=False)]})
    seen: list[Event] = []
    env.provider.events.subscribers.append(seen.append)
    creds = s["client"]

    async def refused(jwt: str, creds: tuple[str, str] = creds, **extra: str) -> str:
        body = await grant(env, creds, jwt, 400, **extra)
        assert body["error"] in ("invalid_grant", "invalid_scope"), body
        description: str = body["error_description"]
        return description

    replayed = assertion(env, key)
    await grant(env, creds, replayed)  # inline jwks; no scope: the client's
    assert "already used" in await refused(replayed)
    assert "aud must contain" in await refused(assertion(env, key, aud="https://other.example"))
    assert "expired" in await refused(assertion(env, key, exp=env.clock() - 120))
    assert "no exp" in await refused(assertion(env, key, exp=None))
    too_old = assertion(env, key, iat=env.clock() - 2 * 3600, exp=env.clock() + 60)
    assert "issued" in await refused(too_old)
    assert "not valid yet" in await refused(assertion(env, key, nbf=env.clock() + 600))
    assert "not a trusted issuer" in await refused(assertion(env, key, iss="https://evil.example"))
    assert "may not present" in await refused(assertion(env, key), s["other"])
    assert "no local user" in await refused(assertion(env, key, sub="mallory"))
    assert "signature" in await refused(assertion(env, new_key("k1")))  # same kid, other key
    hmac = OctKey.generate_key(256)
    assert "not accepted" in await refused(assertion(env, hmac, alg="HS256"))
    unsigned = replayed.rsplit(".", 1)[0].split(".")[1]
    none_jwt = "eyJhbGciOiJub25lIn0." + unsigned + "."
    assert "not accepted" in await refused(none_jwt)
    assert "not one this client may" in await refused(assertion(env, key), scope="admin")
    refused_ids = [e.data["catalog_id"] for e in seen if e.name == "jwt_bearer.refused"]
    assert refused_ids[:3] == [
        "trusted-jwt-replayed",
        "trusted-jwt-audience",
        "trusted-jwt-expired",
    ]
    assert "trusted-jwt-client-not-allowed" in refused_ids
    assert "trusted-jwt-subject-unmapped" in refused_ids
    # A public client may not use the grant at all.
    async with env.client() as http:
        public_id, _ = await env.add_client(
            redirect_uris=[], grant_types=[GRANT_TYPE], token_endpoint_auth_method="none"
        )
        r = await http.post(
            "/token",
            data={
                "grant_type": GRANT_TYPE,
                "assertion": assertion(env, key),
                "client_id": public_id,
            },
        )
    assert r.status_code == 400 and r.json()["error"] == "unauthorized_client"


async def test_subject_mappings(env: Env) -> None:
    key = new_key("k1")
    jwks = {"keys": [key.as_dict(private=False)]}
    s = await setup(env, jwks=jwks)
    client_id = s["client"][0]
    bob = await env.add_user("bob")  # email not verified locally
    for issuer, mapping, extra in (
        ("https://mail.example", "email", {"subject_claim": "email"}),
        ("https://svc.example", "none", {}),
        ("https://subs.example", "sub", {}),
    ):
        spec = TrustedIssuerSpec(
            issuer=issuer,
            jwks=jwks,
            subject_mapping=mapping,
            allowed_client_ids=[client_id],
            **extra,
        )
        await trusted_issuers.create(env.provider, spec, CLI)

    def mail(email: str, verified: bool | None) -> str:
        return assertion(
            env, key, iss="https://mail.example", sub="x", email=email, email_verified=verified
        )

    body = await grant(env, s["client"], mail("alice@example.com", True), scope="notes:read")
    assert (await introspect(env, s["client"], body["access_token"]))["sub"] == s["sub"]
    body = await grant(env, s["client"], mail("alice@example.com", None), 400)
    assert "not verified" in body["error_description"]
    body = await grant(env, s["client"], mail("bob@example.com", True), 400)
    assert "no local user" in body["error_description"]  # bob's own address is unverified
    # "none": a service identity, used as is
    svc = assertion(env, key, iss="https://svc.example", sub="batch-job-7")
    body = await grant(env, s["client"], svc, scope="notes:read")
    assert (await introspect(env, s["client"], body["access_token"]))["sub"] == "batch-job-7"
    # ... but never one that passes for a keystead user or client
    for taken in (bob, "client:" + client_id):
        body = await grant(
            env, s["client"], assertion(env, key, iss="https://svc.example", sub=taken), 400
        )
        assert "collides" in body["error_description"]
    # "sub": a keystead user's sub
    body = await grant(env, s["client"], assertion(env, key, iss="https://subs.example", sub=bob))
    assert (await introspect(env, s["client"], body["access_token"]))["sub"] == bob


async def test_deleting_the_issuer_stops_its_jwts(env: Env) -> None:
    key = new_key("k1")
    s = await setup(env, jwks={"keys": [key.as_dict(private=False)]})
    await grant(env, s["client"], assertion(env, key))
    await trusted_issuers.delete(env.provider, s["issuer"], CLI)
    body = await grant(env, s["client"], assertion(env, key), 400)
    assert body["error"] == "invalid_grant"
