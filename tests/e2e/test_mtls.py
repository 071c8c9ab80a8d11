"""Mutual TLS (RFC 8705) end to end: a real `keystead serve` with uvicorn's TLS asking for
client certificates, httpx clients presenting them in real handshakes — tls_client_auth,
self_signed_tls_client_auth, a wrong certificate refused, certificate-bound tokens at
UserInfo, introspection and keystead.rs with and without their certificate — and the proxy
header, honoured only from a trusted peer."""

from __future__ import annotations

import json
import ssl
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from authlib.integrations.httpx_client import OAuth2Client

from keystead.protocol.mtls_certs import thumbprint
from keystead.rs import TokenError, Verifier
from tests.e2e.conftest import PASSWORD, Env, make_env
from tests.e2e.test_server_process import KEYSTEAD, Cli, browser_login, free_port
from tests.mtls.pki import Issued, issue, jwk_of, make_ca

API = "https://api.example"
REDIRECT = "https://rp.example.com/cb"


class Pki:
    def __init__(self, directory: Path) -> None:
        self.dir = directory
        self.ca = make_ca()
        self.good = issue(self.ca, "client.example.com", dns=("client.example.com",))
        self.other = issue(self.ca, "intruder.example.com", dns=("intruder.example.com",))
        self.self_signed = issue(None, "self-signed client")
        self.stranger = issue(None, "stranger")  # self-signed, known to no one
        server = issue(self.ca, "127.0.0.1", ips=("127.0.0.1",), dns=("localhost",), server=True)
        self.server_cert, self.server_key = server.write(directory, "server")
        self.ca_file = directory / "ca.pem"
        self.ca_file.write_bytes(self.ca.pem)
        # The TLS handshake accepts the CA's certificates and the self-signed client's own
        # (Python's ssl verifies every client certificate; docs/mtls.md).
        self.handshake_ca = directory / "handshake-ca.pem"
        self.handshake_ca.write_bytes(self.ca.pem + self.self_signed.pem)

    def context(self, who: Issued | None, name: str = "client") -> ssl.SSLContext:
        ctx = ssl.create_default_context(cafile=str(self.ca_file))
        if who is not None:
            cert, key = who.write(self.dir, name)
            ctx.load_cert_chain(str(cert), str(key))
        return ctx

    def http(self, who: Issued | None, name: str = "client") -> httpx.Client:
        return httpx.Client(verify=self.context(who, name), follow_redirects=False, timeout=10)


@pytest.fixture(scope="module")
def mtls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Cli, str, Pki]]:
    tmp = tmp_path_factory.mktemp("mtls")
    pki = Pki(tmp)
    port = free_port()
    issuer = f"https://127.0.0.1:{port}"
    cli = Cli(tmp / "data", issuer)
    cli.env.update(
        {
            "KEYSTEAD_TLS_CERT_FILE": str(pki.server_cert),
            "KEYSTEAD_TLS_KEY_FILE": str(pki.server_key),
            "KEYSTEAD_TLS_CLIENT_CA_FILE": str(pki.handshake_ca),
            "KEYSTEAD_MTLS_CA_FILE": str(pki.ca_file),
            "KEYSTEAD_MTLS_ENABLED": "true",
        }
    )
    cli.run("api", "create", "--identifier", API, "--scope", "api:read", "--token-format", "jwt")
    server = subprocess.Popen(
        [*KEYSTEAD, "serve", "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
        env=cli.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(issuer + "/jwks", verify=pki.context(None)).raise_for_status()
                break
            except httpx.HTTPError:
                assert server.poll() is None, "keystead exited"
                assert time.monotonic() < deadline, "keystead did not start"
                time.sleep(0.1)
        yield cli, issuer, pki
    finally:
        server.terminate()
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:  # a slow graceful shutdown on a loaded machine
            server.kill()
            server.wait(10)


def cc_client(cli: Cli, *flags: str) -> str:
    created = cli.json(
        "client",
        "create",
        *("--name", "mTLS service", "--grant-type", "client_credentials", "--scope", "api:read"),
        *flags,
    )
    assert "client_secret" not in created or created["client_secret"] is None
    return str(created["client_id"])


def token(http: httpx.Client, issuer: str, client_id: str) -> httpx.Response:
    data = {"grant_type": "client_credentials", "client_id": client_id, "resource": API}
    return http.post(issuer + "/token", data=data)


def test_discovery_advertises_mtls(mtls_server: tuple[Cli, str, Pki]) -> None:
    _, issuer, pki = mtls_server
    with pki.http(None) as http:
        meta = http.get(issuer + "/.well-known/openid-configuration").json()
    assert meta["tls_client_certificate_bound_access_tokens"] is True
    assert meta["mtls_endpoint_aliases"]["token_endpoint"] == issuer + "/token"
    assert {"tls_client_auth", "self_signed_tls_client_auth"} <= set(
        meta["token_endpoint_auth_methods_supported"]
    )


def test_tls_client_auth_and_bound_tokens(mtls_server: tuple[Cli, str, Pki]) -> None:
    cli, issuer, pki = mtls_server
    client_id = cc_client(
        cli,
        *("--token-endpoint-auth-method", "tls_client_auth"),
        *("--tls-client-auth-subject-dn", "CN=client.example.com, O=Example, C=SE"),
        "--tls-client-certificate-bound-access-tokens",
    )
    with pki.http(pki.good, "good") as http:
        answer = token(http, issuer, client_id)
        assert answer.status_code == 200, answer.text
        access_token = answer.json()["access_token"]
        # RFC 8705 §3.2: introspection (the client itself, over mTLS) reports the binding.
        info = http.post(
            issuer + "/introspect", data={"client_id": client_id, "token": access_token}
        ).json()
    x5t = thumbprint(pki.good.der)
    assert info["active"] is True and info["cnf"] == {"x5t#S256": x5t}
    # A certificate of the same CA naming someone else: refused, and told what was presented.
    with pki.http(pki.other, "other") as http:
        refused = token(http, issuer, client_id)
    assert refused.status_code == 401
    assert refused.json()["error"] == "invalid_client"
    assert "intruder.example.com" in refused.json()["error_description"]
    assert "tls_client_auth_subject_dn" in refused.json()["error_description"]
    # No certificate at all.
    with pki.http(None) as http:
        missing = token(http, issuer, client_id)
    assert missing.status_code == 401 and "mutual TLS" in missing.json()["error_description"]

    # keystead.rs checks the binding of the JWT access token.
    async def at_the_api() -> None:
        async with httpx.AsyncClient(verify=pki.context(None)) as http:
            verifier = Verifier(issuer, API, http=http)
            found = await verifier.verify(access_token, client_cert=pki.good.der)
            assert found.client_id == client_id
            found = await verifier.verify(access_token, client_cert=pki.good.pem.decode())
            for other in ({}, {"client_cert": pki.other.der}, {"cert_thumbprint": "x"}):
                with pytest.raises(TokenError) as caught:
                    await verifier.verify(access_token, **other)
                assert caught.value.error == "invalid_token"

    anyio.run(at_the_api)


def test_self_signed_tls_client_auth(mtls_server: tuple[Cli, str, Pki]) -> None:
    cli, issuer, pki = mtls_server
    jwks = pki.dir / "self.jwks"
    jwks.write_text(json.dumps({"keys": [jwk_of(pki.self_signed)]}))
    client_id = cc_client(
        cli,
        *("--token-endpoint-auth-method", "self_signed_tls_client_auth"),
        *("--jwks", str(jwks)),
    )
    with pki.http(pki.self_signed, "self") as http:
        answer = token(http, issuer, client_id)
    assert answer.status_code == 200, answer.text
    # A CA-issued certificate whose key is not in the client's JWKS.
    with pki.http(pki.good, "good") as http:
        refused = token(http, issuer, client_id)
    assert refused.status_code == 401
    assert "jwks" in refused.json()["error_description"]
    # A self-signed certificate the handshake does not accept: no answer at all (TLS 1.3
    # reports the refusal after the client's side of the handshake: a closed connection).
    refusals = (httpx.ConnectError, httpx.RemoteProtocolError, httpx.ReadError)
    with pytest.raises(refusals), pki.http(pki.stranger, "stranger") as http:
        token(http, issuer, client_id)


def test_userinfo_with_a_bound_token(mtls_server: tuple[Cli, str, Pki]) -> None:
    cli, issuer, pki = mtls_server
    created = cli.json(
        "client",
        "create",
        *("--name", "mTLS web app", "--redirect-uri", REDIRECT, "--scope", "openid email"),
        *("--token-endpoint-auth-method", "tls_client_auth"),
        *("--tls-client-auth-san-dns", "client.example.com"),
        "--tls-client-certificate-bound-access-tokens",
    )
    cli.run("user", "create", "mia", "--password-stdin", stdin=PASSWORD + "\n")
    rp = OAuth2Client(
        client_id=created["client_id"],
        scope="openid email",
        redirect_uri=REDIRECT,
        code_challenge_method="S256",
        token_endpoint_auth_method="none",  # client_id in the body; the certificate authenticates
        verify=pki.context(pki.good, "rp"),
    )
    verifier = "v" * 64
    url, _ = rp.create_authorization_url(issuer + "/authorize", code_verifier=verifier)
    with pki.http(None) as browser:
        done = browser_login(browser, url, "mia", PASSWORD)
    assert done.status_code == 303, done.text[:300]
    tokens = rp.fetch_token(
        issuer + "/token", authorization_response=done.headers["location"], code_verifier=verifier
    )
    rp.close()
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    with pki.http(pki.good, "good") as http:
        assert http.get(issuer + "/userinfo", headers=bearer).status_code == 200
    for who, name in ((None, ""), (pki.other, "other")):
        with pki.http(who, name or "none") as http:
            refused = http.get(issuer + "/userinfo", headers=bearer)
        assert refused.status_code == 401
        challenge = refused.headers["www-authenticate"]
        assert 'error="invalid_token"' in challenge and "x5t#S256" in challenge


# --- the proxy header (in process: the peer address is fabricated) ---


@pytest.fixture
async def proxied(tmp_path: Path) -> Any:
    env = await make_env(
        tmp_path,
        mtls_enabled=True,
        mtls_cert_header="X-SSL-Client-Cert",
        forwarded_allow_ips="10.0.0.5",
    )
    yield env
    await env.provider.close()


def _transport(env: Env, peer: str) -> httpx.AsyncClient:
    from keystead.web.forwarded import served

    app = served(env.app, env.settings.forwarded_allow_ips)
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, client=(peer, 40000)),  # type: ignore[arg-type]
        base_url=env.settings.issuer,
    )


@pytest.mark.anyio
async def test_proxy_header_only_from_a_trusted_peer(proxied: Env, tmp_path: Path) -> None:
    from keystead.services.clients import ClientSpec, create_client

    pki = Pki(tmp_path)
    spec = ClientSpec(
        client_name="behind nginx",
        redirect_uris=[],
        response_types=[],
        grant_types=["client_credentials"],
        scope="",
        token_endpoint_auth_method="tls_client_auth",
        mtls_metadata={"tls_client_auth_san_dns": "client.example.com"},
    )
    client, _ = await create_client(proxied.provider.store, spec, proxied.clock())
    from urllib.parse import quote

    forms = {
        "escaped PEM": quote(pki.good.pem.decode()),  # nginx $ssl_client_escaped_cert
        "PEM on one line": pki.good.pem.decode().replace("\n", " "),
        "base64 DER": __import__("base64").b64encode(pki.good.der).decode(),
    }
    data = {"grant_type": "client_credentials", "client_id": client.client_id}
    for form, value in forms.items():
        header = {"X-SSL-Client-Cert": value, "X-Forwarded-For": "198.51.100.20"}
        async with _transport(proxied, "10.0.0.5") as http:
            answer = await http.post("/token", data=data, headers=header)
        # Authenticated (no API follows from the request: the grant's own refusal, 400).
        assert answer.status_code == 400, (form, answer.text)
        assert answer.json()["error"] == "invalid_target", (form, answer.text)
    # The same header from anyone else — even claiming the proxy in X-Forwarded-For — is
    # ignored: the request has no certificate.
    header = {"X-SSL-Client-Cert": forms["escaped PEM"], "X-Forwarded-For": "10.0.0.5"}
    async with _transport(proxied, "203.0.113.7") as http:
        ignored = await http.post("/token", data=data, headers=header)
    assert ignored.status_code == 401
    assert "mutual TLS" in ignored.json()["error_description"]


@pytest.mark.anyio
async def test_forwarded_for_still_names_the_client(proxied: Env) -> None:
    """Without uvicorn's proxy_headers, X-Forwarded-For from the proxy still gives the client
    address (login throttling per IP) and the direct peer is kept for the mTLS header."""
    seen: dict[str, Any] = {}

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.update(client=scope["client"], peer=scope.get("keystead.peer"))
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    from keystead.web.forwarded import Forwarded

    for peer, forwarded, expected in (
        ("10.0.0.5", "198.51.100.20", "198.51.100.20"),
        ("203.0.113.7", "198.51.100.20", "203.0.113.7"),
    ):
        transport = httpx.ASGITransport(app=Forwarded(app, "10.0.0.5"), client=(peer, 1))
        async with httpx.AsyncClient(transport=transport, base_url="http://x") as http:
            await http.get("/", headers={"X-Forwarded-For": forwarded})
        assert seen["client"][0] == expected and seen["peer"][0] == peer
