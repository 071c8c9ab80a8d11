"""A real browser through the form_post flow and the Hybrid Flow (fragment) to the example
relying party (examples/rp), with keystead's Content-Security-Policy in force.

keystead runs as a real `keystead serve` process on http://127.0.0.1:P1; the RP runs on
http://localhost:P2, another site. The form_post auto-submit needs its CSP nonce to run, and
Chromium enforces form-action across the redirect after the consent POST. Chromium is
required: without it this test fails, it does not skip.
"""

from __future__ import annotations

import json
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from playwright.sync_api import ConsoleMessage, sync_playwright

from examples.rp.app import RPConfig, build_app
from tests.e2e.browser import CHROMIUM_ARGS, chromium_path
from tests.e2e.test_server_process import KEYSTEAD, Cli, free_port

pytestmark = pytest.mark.timeout(120)

PASSWORD = "browser test password"


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """(keystead issuer, RP base URL): both running."""
    chromium_path()
    port, rp_port = free_port(), free_port()
    issuer, rp_base = f"http://127.0.0.1:{port}", f"http://localhost:{rp_port}"
    cli = Cli(tmp_path / "data", issuer)
    client = cli.json(
        "client",
        "create",
        "--name",
        "Example RP",
        "--redirect-uri",
        rp_base + "/callback",
        "--response-type",
        "code",
        "--response-type",
        "code id_token",
        "--grant-type",
        "authorization_code",
        "--grant-type",
        "implicit",
        "--scope",
        "openid profile email",
    )
    cli.json(
        "user",
        "create",
        "rita",
        "--password-stdin",
        "--email",
        "rita@example.com",
        stdin=PASSWORD + "\n",
    )
    server = subprocess.Popen(
        [*KEYSTEAD, "serve", "--port", str(port), "--log-level", "warning"],
        env=cli.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    rp = uvicorn.Server(
        uvicorn.Config(
            build_app(RPConfig(issuer, client["client_id"], client["client_secret"], rp_base)),
            host="127.0.0.1",
            port=rp_port,
            log_level="warning",
        )
    )
    thread = threading.Thread(target=rp.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(issuer + "/jwks").raise_for_status()
                httpx.get(f"http://127.0.0.1:{rp_port}/").raise_for_status()
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline, "keystead or the RP did not start"
                assert server.poll() is None, "keystead exited"
                time.sleep(0.1)
        yield issuer, rp_base
    finally:
        rp.should_exit = True
        thread.join(10)
        server.terminate()
        server.wait(10)


@pytest.mark.parametrize("flow", ["form_post", "hybrid"])
def test_browser_signs_in_to_the_example_rp(stack: tuple[str, str], flow: str) -> None:
    issuer, rp_base = stack
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
        foreign: list[str] = []
        page.on(
            "request",
            lambda req: (
                foreign.append(req.url)
                if req.url.startswith("http") and not req.url.startswith((issuer, rp_base))
                else None
            ),
        )
        page.goto(f"{rp_base}/login?flow={flow}")
        assert page.url.startswith(issuer + "/authorize")
        assert page.title() == "Sign in to Example RP"
        page.fill("#username", "rita")
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_selector("button[value=approve]")
        csp = page.evaluate("() => document.title")  # consent page is ours
        assert csp.startswith("Allow Example RP")
        page.click("button[value=approve]")
        page.wait_for_url(f"{rp_base}/callback*", timeout=15_000)
        page.wait_for_selector("#result, #error", timeout=15_000)
        assert page.query_selector("#error") is None, page.inner_text("#error")
        result = json.loads(page.inner_text("#result"))
        browser.close()
    assert result["flow"] == flow
    assert result["userinfo"]["email"] == "rita@example.com"
    assert result["front_channel_id_token"] is (flow == "hybrid")
    assert not problems, problems
    assert not foreign, f"requests to other origins: {foreign}"
