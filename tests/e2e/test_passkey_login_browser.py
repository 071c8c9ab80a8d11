"""Passkeys on keystead's sign-in pages in a real Chromium against a real `keystead serve`
process, with the DevTools virtual authenticator (tests/e2e/passkey_browser.py): the passkey
is registered on the account page (/account) by a real ceremony, then a client's
authorization request is signed in without a password — by autofill (conditional UI) and by
the login page's button — and with the password and the passkey as the second factor. The
ID token from the code exchange says acr "phr" and the methods. Every page under keystead's
CSP, no console error; screenshots of the login and factor pages kept
(tests/e2e/screenshots.py). The issuer is http://localhost:PORT: WebAuthn needs a secure
context and a domain as RP ID. Chromium is required (fails, never skips)."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from authlib.jose import JsonWebKey, JsonWebToken
from playwright.sync_api import ConsoleMessage, Page, sync_playwright

from keystead.protocol.pkce import s256
from tests.e2e.browser import CHROMIUM_ARGS, chromium_path
from tests.e2e.passkey_browser import add_virtual_authenticator, credentials
from tests.e2e.screenshots import keep
from tests.e2e.serving import serving
from tests.e2e.test_server_process import Cli, free_port

pytestmark = pytest.mark.timeout(180)

PASSWORD = "passkey browser password"
# A browser without autofill for passkeys: only the button starts a ceremony.
NO_CONDITIONAL_UI = "PublicKeyCredential.isConditionalMediationAvailable = async () => false;"


@dataclass(frozen=True)
class Stack:
    issuer: str
    sub: str
    client_id: str
    client_secret: str
    redirect_uri: str


class _Callback(BaseHTTPRequestHandler):
    """The relying party's redirect URI: a page that says nothing (the test reads the URL)."""

    def do_GET(self) -> None:
        body = b"<!doctype html><title>Callback</title><link rel=icon href=data:,>ok"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def callback() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Callback)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://localhost:{server.server_address[1]}/callback"
    finally:
        server.shutdown()
        thread.join(10)


@pytest.fixture
def stack(tmp_path: Path, callback: str) -> Iterator[Stack]:
    chromium_path()
    port = free_port()
    issuer = f"http://localhost:{port}"
    cli = Cli(tmp_path / "data", issuer)
    user = cli.json("user", "create", "rita", "--password-stdin", stdin=PASSWORD + "\n")
    client = cli.json(
        "client",
        "create",
        "--name",
        "Passkey RP",
        "--redirect-uri",
        callback,
        "--scope",
        "openid",
        "--skip-consent",
    )
    with serving(cli, port):
        yield Stack(issuer, user["sub"], client["client_id"], client["client_secret"], callback)


class Client:
    """The relying party's side: the authorization URL and the code exchange."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.verifier = ""

    def authorization_url(self) -> str:
        self.verifier = secrets.token_urlsafe(48)
        query = {
            "response_type": "code",
            "client_id": self.stack.client_id,
            "redirect_uri": self.stack.redirect_uri,
            "scope": "openid",
            "state": secrets.token_urlsafe(8),
            "nonce": secrets.token_urlsafe(8),
            "code_challenge": s256(self.verifier),
            "code_challenge_method": "S256",
        }
        return self.stack.issuer + "/authorize?" + urlencode(query)

    def id_token(self, page: Page) -> dict[str, object]:
        page.wait_for_url(self.stack.redirect_uri + "?*", timeout=15_000)
        params = {k: v[0] for k, v in parse_qs(urlsplit(page.url).query).items()}
        assert "code" in params, params
        issuer = self.stack.issuer
        answer = httpx.post(
            issuer + "/token",
            data={
                "grant_type": "authorization_code",
                "code": params["code"],
                "redirect_uri": self.stack.redirect_uri,
                "code_verifier": self.verifier,
            },
            auth=(self.stack.client_id, self.stack.client_secret),
        )
        assert answer.status_code == 200, answer.text
        jwks = JsonWebKey.import_key_set(httpx.get(issuer + "/jwks").json())
        claims = JsonWebToken(["ES256", "RS256", "EdDSA"]).decode(answer.json()["id_token"], jwks)
        claims.validate()
        assert claims["iss"] == issuer and claims["aud"] == self.stack.client_id
        return dict(claims)


def register_on_the_account_page(page: Page, issuer: str) -> None:
    page.goto(issuer + "/account")
    page.fill("#username", "rita")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(issuer + "/account")
    page.fill("#passkey-name", "Laptop")
    page.click("button[data-passkey=register]")
    page.wait_for_url(issuer + "/account?done=passkey")


def test_passkeys_on_the_sign_in_pages(stack: Stack) -> None:
    problems: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=chromium_path(), args=CHROMIUM_ARGS, headless=True
        )
        page = browser.new_page()

        def on_console(message: ConsoleMessage) -> None:
            if message.type == "error":
                problems.append(f"{page.url}: {message.text}")

        page.on("console", on_console)
        page.on("pageerror", lambda exc: problems.append(f"{page.url}: {exc}"))
        client = Client(stack)
        authenticator = add_virtual_authenticator(page)
        register_on_the_account_page(page, stack.issuer)
        [held] = credentials(authenticator)
        assert held.is_resident and held.user_handle == stack.sub.encode()

        # 1. Autofill (conditional UI): the login page starts a conditional request; the
        # virtual authenticator answers it at once and passkey.js posts the passkey form.
        page.context.clear_cookies()
        posts: list[str] = []
        page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
        page.goto(client.authorization_url())
        claims = client.id_token(page)
        assert stack.issuer + "/login/passkey" in posts
        assert claims["sub"] == stack.sub and claims["acr"] == "phr"
        passwordless = claims["amr"]
        assert isinstance(passwordless, list)
        assert passwordless[1:] == ["user", "mfa"] and passwordless[0] in ("hwk", "swk")
        signs = credentials(authenticator)[0].sign_count
        assert signs > held.sign_count

        # From here on the browser offers no autofill: the buttons start the ceremonies.
        page.add_init_script(NO_CONDITIONAL_UI)

        # 2. The login page's button, no password.
        page.context.clear_cookies()
        page.goto(client.authorization_url())
        page.wait_for_selector("button[data-passkey=login]")
        assert page.get_attribute("#username", "autocomplete") == "username webauthn"
        keep(page, "login-with-passkey")
        page.click("button[data-passkey=login]")
        claims = client.id_token(page)
        assert claims["acr"] == "phr" and claims["amr"] == passwordless
        assert credentials(authenticator)[0].sign_count > signs

        # 3. The password, then the passkey as the second factor (rita has no app: no code).
        page.context.clear_cookies()
        page.goto(client.authorization_url())
        page.fill("#username", "rita")
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_selector("text=Use your passkey")
        assert page.query_selector("#code") is None
        keep(page, "factor-passkey")
        page.click("button[data-passkey=login]")
        claims = client.id_token(page)
        assert claims["acr"] == "phr"
        assert claims["amr"] == ["pwd", *passwordless]
        browser.close()
    assert problems == []
