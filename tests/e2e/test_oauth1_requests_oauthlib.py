"""requests-oauthlib as the OAuth 1.0a consumer (RFC 5849), against real processes over TCP:
a `keystead serve` process and the example notes API (examples/notes_api, `uvicorn`), which
verifies OAuth 1.0a-signed requests through keystead's /oauth1/verify (keystead.rs).

The three legs with HMAC-SHA1, HMAC-SHA256 and RSA-SHA1, then signed calls to
/oauth1/userinfo and to the API; the attacker's moves at the API, each refused with RFC 5849
§3.2's status: a tampered signature, a replayed nonce (also one first used at keystead's own
resource: one replay cache), a stale timestamp, a request token, a URL signed for another
host, PLAINTEXT over http, a revoked token; and /oauth1/verify's own refusals (wrong API
secret, a client instead of an API, a malformed description)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from oauthlib.oauth1 import SIGNATURE_HMAC_SHA1, SIGNATURE_HMAC_SHA256, SIGNATURE_RSA
from requests_oauthlib import OAuth1, OAuth1Session
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from keystead.rs import OAuth1Info, OAuth1Verifier, RequireOAuth1
from tests.e2e.conftest import form_action, form_fields
from tests.e2e.test_server_process import Cli, free_port, server  # noqa: F401 - the fixture

CALLBACK = "https://printer.example.com/oauth1/callback"
PASSWORD = "correct horse battery staple"
ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Stack:
    cli: Cli
    issuer: str
    notes: str  # the notes API's public base URL
    consumer: dict[str, Any]  # client_id, client_secret
    rsa_consumer: str  # client_id of a consumer with a registered RSA public key
    rsa_private_pem: str
    api: dict[str, Any]  # api_id, api_secret
    browser: httpx.Client


def _rsa_pair(tmp: Path) -> tuple[str, Path]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public = tmp / "consumer-public.pem"
    public.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return private, public


@pytest.fixture
def stack(server: tuple[Cli, str, list[str]], tmp_path: Path) -> Iterator[Stack]:  # noqa: F811
    cli, issuer, _ = server
    consumer = cli.json(
        "client", "create", "--name", "Photo Printer", "--redirect-uri", CALLBACK, "--oauth1"
    )
    rsa_made = cli.json(
        "client", "create", "--name", "RSA Printer", "--redirect-uri", CALLBACK, "--oauth1"
    )
    private_pem, public_file = _rsa_pair(tmp_path)
    cli.run("client", "update", rsa_made["client_id"], "--oauth1-rsa-public-key", str(public_file))
    cli.run("user", "create", "erin", "--email", "erin@example.com", "--name", "Erin",
            "--password-stdin", stdin=PASSWORD + "\n")  # fmt: skip
    api = cli.json("api", "create", "--identifier", "https://notes.example.com",
                   "--scope", "notes:read=Read your notes", "--with-secret")  # fmt: skip
    cli.start()  # type: ignore[attr-defined]

    port = free_port()
    notes = f"http://127.0.0.1:{port}"
    env = {**cli.env, "NOTES_API_ID": api["api_id"], "NOTES_API_SECRET": api["api_secret"],
           "NOTES_PUBLIC_URL": notes, "PYTHONPATH": str(ROOT)}  # fmt: skip
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "examples.notes_api.app:app",
         "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(notes + "/oauth1/notes")
                break
            except httpx.TransportError:
                assert proc.poll() is None, "the notes API exited"
                assert time.monotonic() < deadline, "the notes API did not start"
                time.sleep(0.1)
        with httpx.Client(follow_redirects=False) as browser:
            yield Stack(cli, issuer, notes, consumer, rsa_made["client_id"], private_pem, api,
                        browser)  # fmt: skip
    finally:
        proc.terminate()
        proc.wait(10)


def approve(stack: Stack, url: str) -> str:
    """The user at keystead's page (signing in the first time); the callback URL back."""
    r = stack.browser.get(url)
    while r.status_code in (302, 303):
        r = stack.browser.get(r.headers["location"])
    if 'name="password"' in r.text:
        data = {**form_fields(r.text), "username": "erin", "password": PASSWORD}
        r = stack.browser.post(form_action(r.text), data=data)
        while r.status_code in (302, 303):
            r = stack.browser.get(r.headers["location"])
    assert 'name="decision"' in r.text, r.text[:500]
    r = stack.browser.post(form_action(r.text), data={**form_fields(r.text), "decision": "approve"})
    assert r.status_code == 303 and r.headers["location"].startswith(CALLBACK + "?")
    return str(r.headers["location"])


def session(stack: Stack, method: str, **kw: Any) -> OAuth1Session:
    if method == SIGNATURE_RSA:
        return OAuth1Session(stack.rsa_consumer, signature_method=SIGNATURE_RSA,
                             rsa_key=stack.rsa_private_pem, **kw)  # fmt: skip
    return OAuth1Session(stack.consumer["client_id"], client_secret=stack.consumer["client_secret"],
                         signature_method=method, **kw)  # fmt: skip


def three_legs(stack: Stack, method: str) -> tuple[OAuth1Session, dict[str, str]]:
    oauth = session(stack, method, callback_uri=CALLBACK)
    temporary = oauth.fetch_request_token(f"{stack.issuer}/oauth1/request_token")
    assert temporary["oauth_callback_confirmed"] == "true"
    url = oauth.authorization_url(f"{stack.issuer}/oauth1/authorize")
    oauth.parse_authorization_response(approve(stack, url))
    tokens = oauth.fetch_access_token(f"{stack.issuer}/oauth1/access_token")
    assert tokens["oauth_token"] and tokens["oauth_token_secret"]
    return oauth, tokens


def refused(r: requests.Response, status: int, problem: str) -> None:
    """RFC 5849 §3.2's status, the Problem Reporting body, the OAuth challenge on a 401."""
    assert r.status_code == status, r.text
    body = dict(parse_qsl(r.text))
    assert body["oauth_problem"] == problem, body
    assert body["oauth_problem_advice"]
    if status == 401:
        assert r.headers["WWW-Authenticate"].startswith("OAuth realm=")


@pytest.mark.parametrize("method", [SIGNATURE_HMAC_SHA1, SIGNATURE_HMAC_SHA256, SIGNATURE_RSA])
def test_requests_oauthlib_three_legs_userinfo_and_api(stack: Stack, method: str) -> None:
    oauth, tokens = three_legs(stack, method)
    claims = oauth.get(f"{stack.issuer}/oauth1/userinfo").json()
    assert claims["preferred_username"] == "erin" and claims["email"] == "erin@example.com"
    r = oauth.get(f"{stack.notes}/oauth1/notes")
    assert r.status_code == 200, r.text
    body = r.json()
    expected = stack.rsa_consumer if method == SIGNATURE_RSA else stack.consumer["client_id"]
    assert body == {"sub": claims["sub"], "client_id": expected, "name": "Erin", "notes": []}
    # a signed form body and query parameters are covered too (§3.4.1.3.1)
    r = oauth.post(f"{stack.notes}/oauth1/notes?page=2&q=a%20b", data={"x": "1 2", "y": "é&="})
    assert r.status_code == 200, r.text


def test_attacks_at_the_api(stack: Stack) -> None:
    oauth, tokens = three_legs(stack, SIGNATURE_HMAC_SHA1)
    url = f"{stack.notes}/oauth1/notes"
    plain = requests.Session()

    # a tampered signature
    prepared = requests.Request("GET", url, auth=oauth.auth).prepare()
    header = prepared.headers["Authorization"]
    header = header.decode() if isinstance(header, bytes) else header
    prepared.headers["Authorization"] = header.replace('oauth_signature="', 'oauth_signature="A')
    refused(plain.send(prepared), 401, "signature_invalid")

    # a replayed request: its nonce is refused the second time
    prepared = requests.Request("GET", url, auth=oauth.auth).prepare()
    assert plain.send(prepared).status_code == 200
    refused(plain.send(prepared), 401, "nonce_used")

    # one replay cache with keystead's own resource: a nonce used at /oauth1/userinfo first
    now = str(int(time.time()))
    fixed = {"nonce": "shared-nonce-1", "timestamp": now}
    first = OAuth1(stack.consumer["client_id"], stack.consumer["client_secret"],
                   tokens["oauth_token"], tokens["oauth_token_secret"], **fixed)  # fmt: skip
    assert plain.get(f"{stack.issuer}/oauth1/userinfo", auth=first).status_code == 200
    refused(plain.get(url, auth=first), 401, "nonce_used")

    # a stale timestamp (outside the accepted window, §3.3)
    stale = OAuth1(stack.consumer["client_id"], stack.consumer["client_secret"],
                   tokens["oauth_token"], tokens["oauth_token_secret"],
                   timestamp=str(int(time.time()) - 3600))  # fmt: skip
    refused(plain.get(url, auth=stale), 401, "timestamp_refused")

    # the URL signed for another name of the API (its Host header is not trusted)
    other = url.replace("127.0.0.1", "localhost")
    refused(plain.get(other, auth=oauth.auth), 401, "signature_invalid")

    # temporary credentials (a request token) are never accepted at a resource
    fresh = session(stack, SIGNATURE_HMAC_SHA1, callback_uri=CALLBACK)
    fresh.fetch_request_token(f"{stack.issuer}/oauth1/request_token")
    refused(fresh.get(url), 401, "token_rejected")

    # PLAINTEXT over http (§3.4.4)
    plaintext = OAuth1(stack.consumer["client_id"], stack.consumer["client_secret"],
                       tokens["oauth_token"], tokens["oauth_token_secret"],
                       signature_method="PLAINTEXT")  # fmt: skip
    r = plain.get(url, auth=plaintext)
    assert r.status_code == 400 and "oauth_problem=" in r.text
    assert "WWW-Authenticate" not in r.headers

    # no signature at all
    refused(plain.get(url), 400, "parameter_absent")

    # a revoked token: the API's next request is refused
    listed = stack.cli.json("oauth1", "tokens", "--user", "erin")["tokens"]
    for item in listed:
        stack.cli.json("oauth1", "revoke", item["token_id"])
    refused(oauth.get(url), 401, "token_revoked")


def test_verify_endpoint_refuses_callers_that_are_not_apis(stack: Stack) -> None:
    endpoint = f"{stack.issuer}/oauth1/verify"
    data = {"method": "GET", "url": f"{stack.notes}/oauth1/notes", "authorization": "OAuth x"}
    r = httpx.post(endpoint, data=data)
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"
    r = httpx.post(endpoint, data=data, auth=(stack.api["api_id"], "wrong"))
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"
    client = (stack.consumer["client_id"], stack.consumer["client_secret"])
    r = httpx.post(endpoint, data=data, auth=client)
    assert r.status_code == 403 and r.json()["error"] == "unauthorized_client", r.text
    api = (stack.api["api_id"], stack.api["api_secret"])
    r = httpx.post(endpoint, data={"method": "GET", "url": "/oauth1/notes"}, auth=api)
    assert r.status_code == 400 and r.json()["error"] == "invalid_request", r.text
    r = httpx.post(endpoint, data={"url": data["url"]}, auth=api)
    assert r.status_code == 400
    # a malformed signed request is a refusal to forward, not an error of the API's call
    r = httpx.post(endpoint, data=data, auth=api)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["active"] is False and body["status"] == 400
    assert body["oauth_problem"] == "parameter_rejected" and body["error_uri"]


def test_require_oauth1_as_a_dependency(stack: Stack) -> None:
    """``RequireOAuth1`` called from an endpoint (as a FastAPI ``Depends`` would): an API
    served at https://orders.example.com (its configured public URL, whatever reaches it),
    in-process, asking the real keystead process."""
    oauth, _ = three_legs(stack, SIGNATURE_HMAC_SHA256)
    base = "https://orders.example.com"
    signed = requests.Request("GET", base + "/orders?page=2", auth=oauth.auth).prepare()
    authorization = signed.headers["Authorization"]
    headers = {"Authorization": authorization.decode() if isinstance(authorization, bytes)
               else authorization}  # fmt: skip

    async def main() -> list[httpx.Response]:
        verifier = OAuth1Verifier(stack.issuer, base, api_id=stack.api["api_id"],
                                  api_secret=stack.api["api_secret"])  # fmt: skip
        require = RequireOAuth1(verifier, realm="orders")

        async def orders(request: Request) -> Response:
            info: OAuth1Info = await require(request)
            return JSONResponse({"sub": info.sub, "scope": sorted(info.scope)})

        app = Starlette(routes=[Route("/orders", orders)])
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=base) as api:
            got = [await api.get("/orders?page=2", headers=headers) for _ in range(2)]
            got.append(await api.get("/orders?page=3", headers=headers))  # query tampered
        await verifier.aclose()
        return got

    first, replayed, tampered = asyncio.run(main())
    assert first.status_code == 200, first.text
    assert first.json()["scope"] == ["email", "openid", "profile"]
    assert replayed.status_code == 401
    challenge = replayed.headers["WWW-Authenticate"]
    assert challenge == 'OAuth realm="orders", oauth_problem="nonce_used"'
    assert tampered.status_code == 401
    assert 'oauth_problem="signature_invalid"' in tampered.headers["WWW-Authenticate"]
