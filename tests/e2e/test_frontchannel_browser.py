"""Front-Channel Logout 1.0 in a real Chromium: RP-initiated logout at `keystead serve`
frames the participating client's frontchannel_logout_uri (with iss and sid) under the CSP —
frame-src names only that origin — and then continues to the post-logout redirect URI."""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import uvicorn
from playwright.sync_api import sync_playwright
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from tests.e2e.browser import CHROMIUM_ARGS, chromium_path
from tests.e2e.screenshots import keep
from tests.e2e.test_server_process import KEYSTEAD, Cli, free_port

pytestmark = pytest.mark.timeout(180)

PASSWORD = "front channel password"


class RP:
    def __init__(self) -> None:
        self.seen: list[str] = []

    def app(self) -> Starlette:
        async def page(request: Request) -> HTMLResponse:
            self.seen.append(str(request.url))
            return HTMLResponse(f"<!doctype html><title>{request.url.path}</title>ok")

        async def icon(request: Request) -> HTMLResponse:
            return HTMLResponse("", 204)

        routes = [Route(p, page) for p in ("/callback", "/fc", "/bye")]
        return Starlette(routes=[*routes, Route("/favicon.ico", icon)])


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[tuple[str, str, str, RP]]:
    """(issuer, rp base, client_id, the RP's record)."""
    chromium_path()
    port, rp_port = free_port(), free_port()
    issuer, rp_base = f"http://localhost:{port}", f"http://127.0.0.1:{rp_port}"
    cli = Cli(tmp_path / "data", issuer)
    client = cli.json(
        "client", "create", "--name", "Framed RP", "--redirect-uri", rp_base + "/callback",
        "--token-endpoint-auth-method", "none", "--skip-consent",
        "--frontchannel-logout-uri", rp_base + "/fc", "--frontchannel-logout-session-required",
        "--post-logout-redirect-uri", rp_base + "/bye",
    )  # fmt: skip
    cli.json("user", "create", "rita", "--password-stdin", stdin=PASSWORD + "\n")
    rp = RP()
    server = uvicorn.Server(
        uvicorn.Config(rp.app(), host="127.0.0.1", port=rp_port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    keystead = subprocess.Popen(
        [*KEYSTEAD, "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=cli.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(issuer + "/jwks").raise_for_status()
                httpx.get(rp_base + "/bye").raise_for_status()
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline and keystead.poll() is None
                time.sleep(0.1)
        rp.seen.clear()
        yield issuer, rp_base, client["client_id"], rp
    finally:
        keystead.terminate()
        keystead.wait(10)
        server.should_exit = True
        thread.join(10)


def test_logout_frames_the_client_then_continues(stack: tuple[str, str, str, RP]) -> None:
    issuer, rp_base, client_id, rp = stack
    problems: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=chromium_path(), args=CHROMIUM_ARGS, headless=True
        )
        page = browser.new_page()
        page.on(
            "console",
            lambda m: problems.append(m.text) if m.type == "error" else None,
        )
        page.goto(
            f"{issuer}/authorize?response_type=code&client_id={client_id}&scope=openid"
            f"&redirect_uri={rp_base}/callback&state=s&code_challenge={'E' * 43}"
            "&code_challenge_method=S256"
        )
        page.fill("#username", "rita")
        page.fill("#password", PASSWORD)
        page.click("form[action$='/login'] button[type=submit]")
        page.wait_for_url(rp_base + "/callback*")
        page.goto(
            f"{issuer}/logout?client_id={client_id}&post_logout_redirect_uri={rp_base}/bye&state=st"
        )
        page.click("button[value=logout]")
        page.wait_for_url(rp_base + "/bye*", timeout=15_000)
        browser.close()
    framed = [u for u in rp.seen if urlsplit(u).path == "/fc"]
    assert len(framed) == 1, rp.seen
    params = parse_qs(urlsplit(framed[0]).query)
    assert params["iss"] == [issuer] and params["sid"][0]
    assert [urlsplit(u).path for u in rp.seen][-1] == "/bye"
    assert problems == [], problems


def test_the_frames_page_allows_only_those_origins(stack: tuple[str, str, str, RP]) -> None:
    """The page itself, its CSP and a screenshot, rendered without continuing."""
    issuer, rp_base, client_id, _ = stack
    from keystead.config import Settings
    from keystead.provider import Provider
    from keystead.web.frontchannel import frames_page

    provider = Provider.__new__(Provider)
    provider.settings = Settings(issuer=issuer)
    response = frames_page(provider, [rp_base + "/fc?iss=x&sid=y"], None)
    csp = response.headers["content-security-policy"]
    assert f"frame-src {rp_base}" in csp and "frame-ancestors 'none'" in csp
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=chromium_path(), args=CHROMIUM_ARGS, headless=True
        )
        page = browser.new_page()
        page.route(issuer + "/frames", lambda route: route.fulfill(
            status=200, headers=dict(response.headers), body=bytes(response.body),
        ))  # fmt: skip
        page.goto(issuer + "/frames")
        page.wait_for_selector("#done")
        keep(page, "logout-frames")
        browser.close()
