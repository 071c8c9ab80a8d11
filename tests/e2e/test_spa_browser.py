"""A single-page app on oidc-client-ts (npm), driven in real headless Chromium against a real
`keystead serve` process.

keystead runs on http://127.0.0.1:P1; the SPA (tests/spa/) is served on http://localhost:P2,
another site. A person signs in through keystead's login and consent pages; the SPA redeems
the code with PKCE and calls UserInfo cross-origin and shows the result. A second origin, not
registered for the client, replays a held code and verifier: CORS refuses it, before the
code is burnt, and the server records why. No page logs a console error, and keystead's pages
load nothing from any other origin.

Chromium and npm are required: without them this test fails, it does not skip.
"""

from __future__ import annotations

import functools
import json
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import anyio
import httpx
import pytest
from playwright.sync_api import (
    ConsoleMessage,
    Page,
    Request,
    Response,
    Route,
    sync_playwright,
)

from keystead.bootstrap import open_provider
from keystead.config import Settings
from keystead.protocol.pkce import s256
from tests.e2e.browser import CHROMIUM_ARGS
from tests.e2e.browser import chromium_path as browser_chromium_path
from tests.e2e.test_server_process import KEYSTEAD, Cli, free_port

pytestmark = pytest.mark.timeout(120)

SPA_DIR = Path(__file__).parents[1] / "spa"
LIBRARY = SPA_DIR / "node_modules" / "oidc-client-ts" / "dist" / "browser" / "oidc-client-ts.js"
PASSWORD = "spa test password 1"
HELD_PAGE = '<!doctype html><title>held</title><link rel="icon" href="data:,">'


@pytest.fixture(scope="session")
def spa_modules() -> Path:
    """tests/spa/node_modules from package-lock.json (`npm ci`), unless already there."""
    if not LIBRARY.is_file():
        npm = shutil.which("npm")
        if npm is None:
            pytest.fail("npm is required for the SPA browser test (apt-get install npm)")
        proc = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"],
            cwd=SPA_DIR,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert proc.returncode == 0, f"npm ci failed:\n{proc.stdout}\n{proc.stderr}"
    assert LIBRARY.is_file(), "oidc-client-ts no longer ships dist/browser/oidc-client-ts.js"
    return SPA_DIR


@pytest.fixture(scope="session")
def chromium_path() -> str:
    return browser_chromium_path()


def serve_spa(port: int, config: dict[str, str]) -> ThreadingHTTPServer:
    """tests/spa/ as static files, plus /config.json for the SPA."""
    body = json.dumps(config).encode()

    class Handler(SimpleHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            if self.path == "/config.json":
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
            super().do_GET()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(
        ("127.0.0.1", port), functools.partial(Handler, directory=str(SPA_DIR))
    )
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd


@dataclass
class Keystead:
    cli: Cli
    issuer: str
    data_dir: Path
    client_id: str
    spa: str  # the registered SPA origin
    other: str  # an origin registered for no client
    user_sub: str


@pytest.fixture
def keystead(tmp_path: Path, spa_modules: Path) -> Iterator[Keystead]:
    port, spa_port, other_port = free_port(), free_port(), free_port()
    issuer = f"http://127.0.0.1:{port}"
    spa, other = f"http://localhost:{spa_port}", f"http://localhost:{other_port}"
    cli = Cli(tmp_path / "data", issuer)
    client = cli.json(
        "client",
        "create",
        "--name",
        "Test SPA",
        "--redirect-uri",
        f"{spa}/callback.html",
        "--token-endpoint-auth-method",
        "none",
        "--scope",
        "openid profile email",
    )
    user = cli.json(
        "user",
        "create",
        "sam",
        "--password-stdin",
        "--email",
        "sam@example.com",
        "--name",
        "Sam Spade",
        "--email-verified",
        stdin=PASSWORD + "\n",
    )
    log = (tmp_path / "server.log").open("w")
    proc = subprocess.Popen(
        [*KEYSTEAD, "serve", "--port", str(port), "--log-level", "warning"],
        env=cli.env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    servers = [
        serve_spa(p, {"authority": issuer, "client_id": client["client_id"]})
        for p in (spa_port, other_port)
    ]
    try:
        deadline = time.monotonic() + 30
        while True:
            assert proc.poll() is None, (tmp_path / "server.log").read_text()
            try:
                if httpx.get(issuer + "/.well-known/openid-configuration").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "keystead did not start"
            time.sleep(0.1)
        yield Keystead(cli, issuer, tmp_path / "data", client["client_id"], spa, other, user["sub"])
    finally:
        for httpd in servers:
            httpd.shutdown()
            httpd.server_close()
        proc.terminate()
        proc.wait(10)
        log.close()


@dataclass
class Watch:
    """Console errors and requests of every page, by the origin of the page that made them."""

    issuer: str
    console_errors: list[tuple[str, str]] = field(default_factory=list)  # (page url, text)
    foreign_requests: list[tuple[str, str]] = field(default_factory=list)  # (page url, url)
    own_requests: list[str] = field(default_factory=list)  # subresources of our pages
    pages_csp: list[tuple[str, str]] = field(default_factory=list)  # (url, CSP) of our pages

    def attach(self, page: Page) -> Page:
        def on_console(msg: ConsoleMessage) -> None:
            # The error page's own HTTP 400 is its status, not a fault of the page.
            own_status = msg.location.get("url") == page.url and "status of 400" in msg.text
            if msg.type == "error" and not own_status:
                self.console_errors.append((page.url, msg.text))

        def on_request(request: Request) -> None:
            frame_url = request.frame.url
            from_keystead = frame_url.startswith(self.issuer + "/")
            if from_keystead and not request.is_navigation_request():
                if request.url.startswith(self.issuer + "/"):
                    self.own_requests.append(request.url)
                else:
                    self.foreign_requests.append((frame_url, request.url))

        def on_response(response: Response) -> None:
            document = response.request.resource_type == "document"
            if document and response.url.startswith(self.issuer + "/") and response.ok:
                csp = response.headers.get("content-security-policy", "")
                self.pages_csp.append((response.url, csp))

        page.on("console", on_console)
        page.on("pageerror", lambda exc: self.console_errors.append((page.url, str(exc))))
        page.on("request", on_request)
        page.on("response", on_response)
        return page


def wait_for_state(page: Page) -> str:
    page.wait_for_selector("body[data-state]", timeout=20_000)
    state: str = page.get_attribute("body", "data-state") or ""
    return state


def result_of(page: Page) -> Any:
    return json.loads(page.inner_text("#result"))


def recorded_events(ks: Keystead, name: str) -> list[dict[str, Any]]:
    """Events the server process wrote to its events table (it flushes every second)."""

    async def read() -> list[dict[str, Any]]:
        provider = await open_provider(Settings(issuer=ks.issuer, data_dir=ks.data_dir))
        try:
            return [e.data for e in await provider.store.events.recent(200) if e.name == name]
        finally:
            await provider.close()

    deadline = time.monotonic() + 10
    while True:
        with ThreadPoolExecutor(1) as pool:  # Playwright's sync API owns this thread's loop
            found = pool.submit(anyio.run, read).result()
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.5)


def form_post_query(ks: Keystead) -> str:
    return urlencode(
        {
            "client_id": ks.client_id,
            "redirect_uri": f"{ks.spa}/callback.html",
            "response_type": "code",
            "response_mode": "form_post",
            "scope": "openid",
            "state": "fp-1",
            "code_challenge": s256("f" * 43),
            "code_challenge_method": "S256",
        }
    )


def test_spa_signs_in_with_oidc_client_ts_in_chromium(
    keystead: Keystead, chromium_path: str
) -> None:
    ks = keystead
    watch = Watch(ks.issuer)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS
        )
        context = browser.new_context()
        page = watch.attach(context.new_page())

        # 1. Sign in: SPA -> keystead's login and consent pages -> back to the SPA.
        page.goto(ks.spa + "/index.html")
        assert wait_for_state(page) == "ready"
        page.click("#signin")
        page.wait_for_url(ks.issuer + "/authorize?*")
        assert "Test SPA" in page.content()
        page.fill("#username", "sam")
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_selector("button[value=approve]")
        page.click("button[value=approve]")
        page.wait_for_url(ks.spa + "/callback.html?*")
        assert wait_for_state(page) == "signed-in", page.inner_text("#result")
        shown = result_of(page)
        expected = {"sub": ks.user_sub, "name": "Sam Spade", "email": "sam@example.com"}
        assert {k: shown["userinfo"].get(k) for k in expected} == expected  # UserInfo, via CORS
        assert shown["userinfo"]["email_verified"] is True
        assert shown["id_token_claims"]["sub"] == ks.user_sub
        assert shown["id_token_claims"]["iss"] == ks.issuer
        assert shown["scope"] == "openid profile email"

        # The consent page (the answer to the login POST) lets its form's 303 go to the SPA:
        # Chromium applies CSP form-action to the redirect after a form POST.
        consent_csp = [csp for url, csp in watch.pages_csp if url == ks.issuer + "/login"]
        assert consent_csp and f"form-action 'self' {ks.spa}" in consent_csp[0]

        # 2. Hold the next code before the SPA can redeem it (SSO: no pages this time). A
        # route sees only the first request of a redirect chain: hold keystead's redirect.
        held: list[str] = []

        def hold(route: Route) -> None:
            response = route.fetch(max_redirects=0)  # with the context's cookies
            held.append(response.headers["location"])
            route.fulfill(status=200, content_type="text/html", body=HELD_PAGE)

        def is_authorize(url: str) -> bool:
            return url.startswith(ks.issuer + "/authorize?")

        page.route(is_authorize, hold)
        page.goto(ks.spa + "/index.html")
        assert wait_for_state(page) == "ready"
        page.click("#signin")
        page.wait_for_url(is_authorize)
        page.unroute(is_authorize, hold)
        assert held and held[0].startswith(ks.spa + "/callback.html?"), held
        query = urlsplit(held[0]).query
        state = parse_qs(query)["state"][0]
        page.goto(ks.spa + "/index.html")
        signin_state = page.evaluate("s => localStorage.getItem('oidc.' + s)", state)
        assert signin_state and "code_verifier" in signin_state

        # 3. Another origin, registered for no client, with the code and the verifier.
        other = watch.attach(context.new_page())
        other.goto(ks.other + "/index.html")
        assert wait_for_state(other) == "ready"  # discovery: any origin may read it
        other.evaluate("([k, v]) => localStorage.setItem(k, v)", ["oidc." + state, signin_state])
        other.goto(ks.other + "/callback.html?" + query)
        assert wait_for_state(other) == "error"
        assert "Failed to fetch" in other.inner_text("#result")
        refused = [text for url, text in watch.console_errors if url.startswith(ks.other)]
        assert refused and all(
            "blocked by CORS policy" in text or "net::ERR_FAILED" in text for text in refused
        ), refused
        assert any(f"{ks.issuer}/token" in text for text in refused), refused
        why = recorded_events(ks, "cors.origin_refused")
        assert any(
            e["origin"] == ks.other
            and e["client_id"] == ks.client_id
            and "allowed_origins" in e["reason"]
            for e in why
        ), why

        # 4. The refused request burnt nothing: the SPA redeems the same code now.
        page.goto(ks.spa + "/callback.html?" + query)
        assert wait_for_state(page) == "signed-in", page.inner_text("#result")
        assert result_of(page)["userinfo"]["sub"] == ks.user_sub

        # 5. The form_post page: its inline script (nonce) posts to the SPA (form-action).
        posted: list[str] = []

        def receive(route: Route) -> None:
            posted.append(route.request.post_data or "")
            route.fulfill(status=200, content_type="text/html", body=HELD_PAGE)

        def is_callback(url: str) -> bool:
            return url.startswith(ks.spa + "/callback.html")

        page.route(is_callback, receive)
        page.goto(f"{ks.issuer}/authorize?{form_post_query(ks)}")
        page.wait_for_url(is_callback)
        assert posted and "code=" in posted[0] and "state=fp-1" in posted[0], posted

        # 6. An error page, before the redirect URI is trusted.
        error = page.goto(f"{ks.issuer}/authorize?client_id=nobody")
        assert error is not None and error.status == 400
        assert "not registered" in page.inner_text("main")

        context.close()
        browser.close()

    ours = [(url, text) for url, text in watch.console_errors if not url.startswith(ks.other)]
    assert ours == [], ours
    assert watch.foreign_requests == [], watch.foreign_requests
    assert f"{ks.issuer}/static/style.css" in watch.own_requests  # the watch saw our pages
