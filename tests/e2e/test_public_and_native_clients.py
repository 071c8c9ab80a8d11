"""Public clients must use PKCE; native apps (RFC 8252) redirect to a loopback IP on any port
or to a private-use scheme, over HTTP against the real app."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode

import pytest

from keystead.services.clients import ClientSpec, ClientSpecError, validate_spec
from tests.e2e.conftest import Browser, Env, pkce_pair, query_of
from tests.e2e.test_server_process import Cli

pytestmark = pytest.mark.anyio

LOOPBACK = "http://127.0.0.1/callback"


def authorize_url(client_id: str, redirect_uri: str, challenge: str | None) -> str:
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "scope": "openid profile",
        "state": "st-1",
    }
    if challenge is not None:
        params |= {"code_challenge": challenge, "code_challenge_method": "S256"}
    return "/authorize?" + urlencode(params)


async def sign_in(env: Env, url: str) -> str:
    """The Location keystead sends the browser to after login and consent."""
    async with env.client() as http:
        browser = Browser(http)
        page = await browser.open(url)
        assert page.status_code == 200, page.text[:300]
        page = await browser.login(page)
        done = await browser.consent(page) if page.status_code == 200 else page  # remembered
    assert done.status_code == 303, done.text[:300]
    return done.headers["location"]


async def redeem(env: Env, client_id: str, code: str, redirect_uri: str, **extra: str) -> dict:
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri,
        "client_id": client_id,
        **extra,
    }
    async with env.client() as http:
        r = await http.post("/token", data=data)
    return {"status": r.status_code, **r.json()}


# --- public clients and PKCE -------------------------------------------------------------------


def test_public_clients_cannot_be_registered_without_pkce() -> None:
    spec = ClientSpec(
        client_name="SPA",
        redirect_uris=["https://spa.example.org/cb"],
        token_endpoint_auth_method="none",
        require_pkce=False,
    )
    with pytest.raises(ClientSpecError, match="must use PKCE"):
        validate_spec(spec)


async def test_public_client_without_code_challenge_is_refused(env: Env) -> None:
    client_id, secret = await env.add_client(token_endpoint_auth_method="none")
    assert secret is None
    async with env.client() as http:
        r = await http.get(authorize_url(client_id, "https://rp.example.com/callback", None))
    assert r.status_code == 302
    params = query_of(r.headers["location"])
    assert params["error"] == "invalid_request" and "code_challenge" in params["error_description"]


async def test_public_client_needs_the_code_verifier(env: Env) -> None:
    await env.add_user()
    client_id, _ = await env.add_client(token_endpoint_auth_method="none")
    uri = "https://rp.example.com/callback"
    verifier, challenge = pkce_pair()
    code = query_of(await sign_in(env, authorize_url(client_id, uri, challenge)))["code"]
    missing = await redeem(env, client_id, code, uri)
    assert missing["status"] == 400 and missing["error_uri"].endswith("/pkce-verifier-missing")
    code = query_of(await sign_in(env, authorize_url(client_id, uri, challenge)))["code"]
    wrong = await redeem(env, client_id, code, uri, code_verifier="w" * 43)
    assert wrong["status"] == 400 and wrong["error_uri"].endswith("/pkce-verifier-mismatch")
    code = query_of(await sign_in(env, authorize_url(client_id, uri, challenge)))["code"]
    ok = await redeem(env, client_id, code, uri, code_verifier=verifier)
    assert ok["status"] == 200 and ok["access_token"]


# --- native apps (RFC 8252) --------------------------------------------------------------------


async def test_native_app_on_an_ephemeral_loopback_port(env: Env) -> None:
    await env.add_user()
    client_id, _ = await env.add_client(
        token_endpoint_auth_method="none", application_type="native", redirect_uris=[LOOPBACK]
    )
    verifier, challenge = pkce_pair()
    sent = "http://127.0.0.1:53123/callback"  # RFC 8252 §7.3: the port the app listens on
    location = await sign_in(env, authorize_url(client_id, sent, challenge))
    assert location.startswith(sent + "?")
    code = query_of(location)["code"]
    ok = await redeem(env, client_id, code, sent, code_verifier=verifier)
    assert ok["status"] == 200 and ok["id_token"]


@pytest.mark.parametrize(
    ("application_type", "registered", "sent"),
    [
        ("web", LOOPBACK, "http://127.0.0.1:53123/callback"),
        ("web", "http://127.0.0.1:8080/callback", "http://127.0.0.1:8081/callback"),
        ("native", "http://localhost/callback", "http://localhost:53123/callback"),
        ("native", LOOPBACK, "http://127.0.0.1:53123/other"),
    ],
)
async def test_no_any_port_match(env: Env, application_type, registered, sent) -> None:
    client_id, _ = await env.add_client(
        token_endpoint_auth_method="none",
        application_type=application_type,
        redirect_uris=[registered],
    )
    _, challenge = pkce_pair()
    async with env.client() as http:
        r = await http.get(authorize_url(client_id, sent, challenge))
    assert r.status_code == 400 and "location" not in r.headers  # an error page, no redirect


async def test_native_app_with_a_private_use_scheme(env: Env) -> None:
    await env.add_user()
    uri = "com.example.app:/oauth2redirect"
    client_id, _ = await env.add_client(
        token_endpoint_auth_method="none", application_type="native", redirect_uris=[uri]
    )
    verifier, challenge = pkce_pair()
    async with env.client() as http:
        browser = Browser(http)
        page = await browser.login(await browser.open(authorize_url(client_id, uri, challenge)))
        # the consent form may redirect to the app's scheme: CSP form-action names it
        assert "form-action 'self' com.example.app:" in page.headers["content-security-policy"]
        done = await browser.consent(page)
    location = done.headers["location"]
    assert location.startswith(uri + "?")
    ok = await redeem(env, client_id, query_of(location)["code"], uri, code_verifier=verifier)
    assert ok["status"] == 200


def test_cli_registers_spa_and_native_clients(tmp_path: Path) -> None:
    cli = Cli(tmp_path / "data", "http://127.0.0.1:8000")
    spa = cli.json(
        "client", "create", "--name", "SPA", "--token-endpoint-auth-method", "none",
        "--redirect-uri", "https://app.example.com/cb",
        "--allowed-origin", "https://Admin.example.com:443", "--allowed-origin", "http://localhost:5173",
    )  # fmt: skip
    assert spa["allowed_origins"] == ["https://admin.example.com", "http://localhost:5173"]
    assert "client_secret" not in spa and spa["require_pkce"] is True
    bad = cli.run(
        "client", "create", "--name", "SPA", "--token-endpoint-auth-method", "none",
        "--redirect-uri", "https://app.example.com/cb", "--allowed-origin", "https://a.example/x",
        ok=False,
    )  # fmt: skip
    assert bad.returncode == 1 and "must not have a path" in bad.stderr
    native = cli.json(
        "client", "create", "--name", "Phone", "--application-type", "native",
        "--token-endpoint-auth-method", "none",
        "--redirect-uri", "com.example.app:/oauth2redirect", "--redirect-uri", LOOPBACK,
    )  # fmt: skip
    assert native["application_type"] == "native"
    web = cli.run(
        "client", "create", "--name", "Web", "--redirect-uri", "com.example.app:/cb", ok=False
    )
    assert web.returncode == 1 and "--application-type native" in web.stderr
