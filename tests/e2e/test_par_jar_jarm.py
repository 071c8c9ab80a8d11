"""PAR (RFC 9126), JAR (RFC 9101) and JARM over HTTP against the real app, with what an
attacker or a misconfigured client would try: a reused, expired or stolen request_uri, an
unsigned, wrongly signed or mis-addressed request object, an unregistered request_uri, a
client that must push but does not. docs/par-jar-jarm.md."""

from __future__ import annotations

import http.server
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from joserfc import jwt as jose_jwt
from joserfc.jwk import ECKey

from keystead.jose import jwt as keystead_jwt
from tests.e2e.conftest import REDIRECT_URI, Browser, Env, make_env, pkce_pair, query_of

pytestmark = pytest.mark.anyio

KEY = ECKey.generate_key("P-256", parameters={"kid": "k1"})
OTHER_KEY = ECKey.generate_key("P-256", parameters={"kid": "k1"})
JWKS = {"keys": [KEY.as_dict(private=False)]}


def params(client_id: str, **extra: Any) -> dict[str, Any]:
    _, challenge = pkce_pair()
    out: dict[str, Any] = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": REDIRECT_URI,
        "scope": "openid profile",
        "state": "st-1",
        "nonce": "n-1",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    out.update(extra)
    return out


def request_object(env: Env, cid: str, /, key: ECKey = KEY, **claims: Any) -> str:
    now = int(env.clock())
    body = {"iss": cid, "aud": env.settings.issuer, "exp": now + 300, "nbf": now - 1}
    body |= {"jti": uuid.uuid4().hex, **params(cid), **claims}
    body = {k: v for k, v in body.items() if v is not None}
    return jose_jwt.encode({"alg": "ES256", "kid": "k1"}, body, key)


def unsigned(claims: dict[str, Any]) -> str:
    import base64
    import json

    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none'})}.{part(claims)}."


async def confidential(env: Env, **overrides: Any) -> tuple[str, str]:
    client_id, secret = await env.add_client(skip_consent=True, jwks=JWKS, **overrides)
    assert secret is not None
    return client_id, secret


async def push(
    http: httpx.AsyncClient, client_id: str, secret: str, body: dict[str, Any]
) -> httpx.Response:
    return await http.post("/par", data=body, auth=(client_id, secret))


async def refused(http: httpx.AsyncClient, url: str, catalog_id: str, words: str) -> None:
    page = await http.get(url)
    assert page.status_code == 400, page.text[:300]
    assert "location" not in page.headers
    assert catalog_id in page.text, page.text[:2000]
    assert words in page.text


async def sign_in(env: Env, http: httpx.AsyncClient, url: str) -> dict[str, str]:
    browser = Browser(http)
    page = await browser.open(url)
    done = await browser.login(page)
    assert done.status_code == 303, done.text[:500]
    assert done.headers["location"].startswith(REDIRECT_URI)
    return query_of(done.headers["location"])


# --- PAR ---------------------------------------------------------------------------------


async def test_par_flow_then_reuse_is_refused(env: Env) -> None:
    await env.add_user()
    client_id, secret = await confidential(env)
    env.provider.settings.dev_mode = True
    async with env.client() as http:
        pushed = await push(http, client_id, secret, params(client_id))
        assert pushed.status_code == 201, pushed.text
        assert pushed.headers["cache-control"] == "no-store"
        body = pushed.json()
        assert body["expires_in"] == 60
        assert body["request_uri"].startswith("urn:ietf:params:oauth:request_uri:")
        url = "/authorize?" + urlencode(
            {"client_id": client_id, "request_uri": body["request_uri"]}
        )
        answer = await sign_in(env, http, url)
        assert answer["state"] == "st-1" and answer["code"]
        # RFC 9126 §2.2: single use
        await refused(http, url, "par-request-uri-used", "already used")
    stored = await env.provider.store.pushed_requests.get(
        __import__("keystead.secrets_util").secrets_util.sha256_hex(body["request_uri"])
    )
    assert stored is not None and stored.used_at is not None  # only its hash is the key


async def test_par_errors_are_json_never_redirects(env: Env) -> None:
    client_id, secret = await confidential(env)
    async with env.client() as http:
        bad_scope = await push(http, client_id, secret, params(client_id, scope="nonsense"))
        assert bad_scope.status_code == 400 and "location" not in bad_scope.headers
        assert bad_scope.json()["error"] == "invalid_scope"
        no_auth = await http.post("/par", data=params(client_id))
        assert no_auth.status_code == 401 and no_auth.json()["error"] == "invalid_client"
        wrong_secret = await push(http, client_id, "not-the-secret", params(client_id))
        assert wrong_secret.status_code == 401
        nested = await push(http, client_id, secret, params(client_id, request_uri="https://x"))
        assert nested.json()["error"] == "invalid_request"
        assert "request_uri cannot be sent" in nested.json()["error_description"]
        other = await push(http, client_id, secret, params("someone-else"))
        assert other.status_code == 400 and other.json()["error"] == "invalid_request"


async def test_expired_request_uri(env: Env) -> None:
    client_id, secret = await confidential(env)
    env.provider.settings.dev_mode = True
    async with env.client() as http:
        body = (await push(http, client_id, secret, params(client_id))).json()
        env.clock.now += 61
        url = "/authorize?" + urlencode(
            {"client_id": client_id, "request_uri": body["request_uri"]}
        )
        await refused(http, url, "par-request-uri-expired", "expired")


async def test_another_clients_request_uri(env: Env) -> None:
    victim, secret = await confidential(env)
    attacker, _ = await confidential(env)
    env.provider.settings.dev_mode = True
    async with env.client() as http:
        body = (await push(http, victim, secret, params(victim))).json()
        stolen = {"client_id": attacker, "request_uri": body["request_uri"]}
        await refused(
            http, "/authorize?" + urlencode(stolen), "par-request-uri-client", "another client"
        )
        # the refusal did not use it up: the victim's own request still works
        await env.add_user()
        mine = {"client_id": victim, "request_uri": body["request_uri"]}
        answer = await sign_in(env, http, "/authorize?" + urlencode(mine))
        assert answer["code"]
        unknown = {"client_id": victim, "request_uri": body["request_uri"] + "x"}
        await refused(http, "/authorize?" + urlencode(unknown), "par-request-uri-unknown", "/par")


async def test_client_that_must_push(env: Env) -> None:
    client_id, secret = await confidential(
        env, jar_metadata={"require_pushed_authorization_requests": True}
    )
    env.provider.settings.dev_mode = True
    async with env.client() as http:
        direct = "/authorize?" + urlencode(params(client_id))
        await refused(
            http, direct, "par-required", "registered with require_pushed_authorization_requests"
        )
        pushed = (await push(http, client_id, secret, params(client_id))).json()
        url = "/authorize?" + urlencode(
            {"client_id": client_id, "request_uri": pushed["request_uri"]}
        )
        page = await http.get(url)
        assert page.status_code == 200 and 'name="password"' in page.text


async def test_server_that_requires_par(tmp_path: Path) -> None:
    env = await make_env(tmp_path, require_par=True, dev_mode=True)
    try:
        client_id, _ = await confidential(env)
        async with env.client() as http:
            url = "/authorize?" + urlencode(params(client_id))
            await refused(http, url, "par-required", "KEYSTEAD_REQUIRE_PAR")
            meta = (await http.get("/.well-known/openid-configuration")).json()
        assert meta["require_pushed_authorization_requests"] is True
    finally:
        await env.provider.close()


# --- JAR ---------------------------------------------------------------------------------


async def test_request_object_by_value_outside_parameters_ignored(env: Env) -> None:
    await env.add_user()
    client_id, _ = await confidential(env)
    jwt = request_object(env, client_id, state="inside")
    async with env.client() as http:
        url = "/authorize?" + urlencode(
            {"client_id": client_id, "request": jwt, "state": "outside"}
        )
        answer = await sign_in(env, http, url)
    assert answer["state"] == "inside"  # RFC 9101 §6.3: only the object's parameters count


@pytest.mark.parametrize(
    "make, catalog_id, words",
    [
        (lambda env, cid: unsigned(params(cid)), "request-object-alg", "alg none"),
        (
            lambda env, cid: request_object(env, cid, key=OTHER_KEY),
            "request-object-signature",
            "does not verify",
        ),
        (
            lambda env, cid: request_object(env, cid, aud="https://other.example"),
            "request-object-claims",
            "claim aud must be the issuer",
        ),
        (
            lambda env, cid: request_object(env, cid, iss="someone-else"),
            "request-object-claims",
            "claim iss must be the client_id",
        ),
        (
            lambda env, cid: request_object(env, cid, exp=int(env.clock()) - 120),
            "request-object-lifetime",
            "expired",
        ),
        (
            lambda env, cid: request_object(env, cid, nbf=int(env.clock()) + 600),
            "request-object-lifetime",
            "not valid for",
        ),
        (
            lambda env, cid: request_object(env, cid, client_id="someone-else"),
            "request-object-claims",
            "is not",
        ),
        (lambda env, cid: "not.a.jwt", "request-object-malformed", "is not a JWT"),
    ],
)
async def test_bad_request_objects(env: Env, make: Any, catalog_id: str, words: str) -> None:
    client_id, _ = await confidential(env)
    env.provider.settings.dev_mode = True
    async with env.client() as http:
        url = "/authorize?" + urlencode({"client_id": client_id, "request": make(env, client_id)})
        await refused(http, url, catalog_id, words)


async def test_bad_request_object_pushed_is_json(env: Env) -> None:
    client_id, secret = await confidential(env)
    async with env.client() as http:
        r = await push(
            http, client_id, secret, {"request": request_object(env, client_id, key=OTHER_KEY)}
        )
        assert r.status_code == 400 and r.json()["error"] == "invalid_request_object"
        exp = int(env.clock()) + 20  # expires_in is capped by the object's exp
        ok = await push(
            http, client_id, secret, {"request": request_object(env, client_id, exp=exp)}
        )
    assert ok.status_code == 201 and ok.json()["expires_in"] == 20


async def test_unsigned_allowed_only_when_registered(env: Env) -> None:
    await env.add_user()
    client_id, _ = await confidential(env, jar_metadata={"request_object_signing_alg": "none"})
    async with env.client() as http:
        url = "/authorize?" + urlencode(
            {"client_id": client_id, "request": unsigned(params(client_id))}
        )
        answer = await sign_in(env, http, url)
    assert answer["code"]


async def test_registered_alg_is_enforced(env: Env) -> None:
    client_id, _ = await confidential(env, jar_metadata={"request_object_signing_alg": "RS256"})
    env.provider.settings.dev_mode = True
    async with env.client() as http:
        url = "/authorize?" + urlencode(
            {"client_id": client_id, "request": request_object(env, client_id)}
        )
        await refused(http, url, "request-object-alg", "must use RS256")


class _Objects(http.server.BaseHTTPRequestHandler):
    served: dict[str, bytes] = {}

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        body = self.served.get(self.path)
        self.send_response(200 if body else 404)
        self.send_header("Content-Type", "application/oauth-authz-req+jwt")
        self.end_headers()
        self.wfile.write(body or b"")

    def log_message(self, *args: Any) -> None:
        return


@pytest.fixture
def objects() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Objects)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


async def test_request_uri_by_reference(env: Env, objects: str) -> None:
    await env.add_user()
    registered = objects + "/ro/1"
    client_id, _ = await confidential(env, jar_metadata={"request_uris": [registered]})
    _Objects.served["/ro/1"] = request_object(env, client_id, state="by-ref").encode()
    env.provider.settings.allow_private_network_fetch = True
    env.provider.settings.dev_mode = True
    async with env.client() as http:
        url = "/authorize?" + urlencode({"client_id": client_id, "request_uri": registered})
        answer = await sign_in(env, http, url)
        assert answer["state"] == "by-ref"
        # RFC 9101 §10.4.1: never fetch a URL the client did not register
        elsewhere = {"client_id": client_id, "request_uri": objects + "/ro/2"}
        await refused(
            http, "/authorize?" + urlencode(elsewhere), "request-uri-not-registered", "registered"
        )
        # size-limited (KEYSTEAD_REQUEST_URI_MAX_BYTES, 64 KiB by default)
        _Objects.served["/ro/1"] = b"e" * 70_000
        await refused(http, url, "request-uri-fetch", "could not be fetched")


# --- JARM --------------------------------------------------------------------------------


async def test_jarm_query_jwt_and_form_post_jwt(env: Env) -> None:
    await env.add_user()
    client_id, _ = await confidential(env)
    async with env.client() as http:
        answer = await sign_in(
            env, http, "/authorize?" + urlencode(params(client_id, response_mode="jwt"))
        )
        assert set(answer) == {"response"}  # JARM §2.3.1: one parameter
        ring = await env.provider.keyring()
        header, claims = keystead_jwt.verify(answer["response"], ring)
        assert header["alg"] == "RS256"  # JARM §3: the default
        assert claims["aud"] == client_id and claims["iss"] == env.settings.issuer
        assert claims["state"] == "st-1" and claims["code"]
        assert claims["exp"] - int(env.clock()) <= 120
    async with env.client() as http:  # no session: an error, which travels signed too
        err = await http.get(
            "/authorize?" + urlencode(params(client_id, response_mode="query.jwt", prompt="none"))
        )
        assert err.status_code in (302, 303)
        _, err_claims = keystead_jwt.verify(query_of(err.headers["location"])["response"], ring)
        assert err_claims["error"] == "login_required" and err_claims["aud"] == client_id
