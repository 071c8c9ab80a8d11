"""The admin console in a real Chromium against a real `keystead serve` process: a non-admin
is refused, an admin signs in with a password and an authenticator app (the default
KEYSTEAD_ADMIN_REQUIRE_MFA), creates a client with the wizard, copies its settings, rotates
its secret, tries it (a code flow, the tokens decoded), ends a user's session, rotates the
signing keys and finds each action in the audit log. Every page under the console's CSP
with no browser console error, axe-core (tests/console_axe, npm ci from its lockfile) finds
no serious or critical violation, and a screenshot of each page is kept
(tests/e2e/screenshots.py). Chromium and npm are required (fails, never skips)."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyotp
import pytest
from playwright.sync_api import ConsoleMessage, Page, sync_playwright

from tests.e2e.browser import CHROMIUM_ARGS, chromium_path
from tests.e2e.screenshots import keep
from tests.e2e.serving import serving
from tests.e2e.test_server_process import Cli, free_port

pytestmark = pytest.mark.timeout(240)

PASSWORD = "console browser password"
AXE_DIR = Path(__file__).resolve().parents[1] / "console_axe"


def axe_source() -> str:
    script = AXE_DIR / "node_modules" / "axe-core" / "axe.min.js"
    if not script.is_file():
        npm = shutil.which("npm")
        if npm is None:
            pytest.fail("npm is required for the console's accessibility test")
        proc = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"],
            cwd=AXE_DIR, capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip
        assert proc.returncode == 0, f"npm ci failed:\n{proc.stdout}\n{proc.stderr}"
    return script.read_text()


@pytest.fixture
def keystead(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """(issuer, the TOTP secret of both users) with keystead serving."""
    chromium_path()
    port = free_port()
    issuer = f"http://localhost:{port}"
    cli = Cli(tmp_path / "data", issuer)
    pw = PASSWORD + "\n"
    cli.json("user", "create", "root", "--password-stdin", "--admin", stdin=pw)
    cli.json("user", "create", "bob", "--password-stdin", stdin=pw)
    secret = pyotp.random_base32()
    for username in ("root", "bob"):
        cli.json("user", "totp", "set", username, "--secret-stdin", stdin=secret + "\n")
    with serving(cli, port):
        yield issuer, secret


class Walk:
    def __init__(self, page: Page, axe: str) -> None:
        self.page = page
        self.axe = axe
        self.violations: dict[str, list[str]] = {}

    def check(self, name: str) -> None:
        """axe-core on the page as it is (evaluated by DevTools: the page's CSP stays
        strict), then its screenshot."""
        self.page.evaluate(self.axe + "\n;0")
        result: dict[str, Any] = self.page.evaluate(
            "axe.run(document, {resultTypes: ['violations']})"
        )
        bad = [
            f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}"
            for v in result["violations"]
            if v["impact"] in ("serious", "critical")
        ]
        if bad:
            self.violations[name] = bad
        keep(self.page, f"console-{name}")


def sign_in(page: Page, issuer: str, username: str, secret: str) -> None:
    """The password, then the authenticator app's code."""
    page.goto(issuer + "/admin")
    assert "Sign in" in page.title()
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("#code")
    page.fill("#code", pyotp.TOTP(secret).now())
    page.click("button[type=submit]")


def test_the_console_in_chromium(keystead: tuple[str, str]) -> None:
    issuer, secret = keystead
    axe = axe_source()
    problems: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=chromium_path(), args=CHROMIUM_ARGS, headless=True
        )
        context = browser.new_context()
        context.grant_permissions(["clipboard-read", "clipboard-write"], origin=issuer)
        page = context.new_page()

        def on_console(message: ConsoleMessage) -> None:
            if message.type == "error":
                problems.append(f"{page.url}: {message.text}")

        page.on("console", on_console)
        page.on("pageerror", lambda exc: problems.append(f"{page.url}: {exc}"))
        walk = Walk(page, axe)

        # Someone without the admin role: a page that says so.
        sign_in(page, issuer, "bob", secret)
        page.wait_for_selector("h1:has-text('Not an administrator')")
        walk.check("not-admin")
        problems.clear()  # the 403 status itself is logged by Chromium as a console error
        context.clear_cookies()

        # The admin.
        sign_in(page, issuer, "root", secret)
        page.wait_for_url(issuer + "/admin")
        assert "signed in with two factors" in page.inner_text("main")
        walk.check("home")

        # The wizard: a web application.
        page.click("text=Clients")
        page.click("text=New client")
        walk.check("client-types")
        page.click("text=Web application")
        page.fill("#f-client_name", "Shop")
        page.fill("#f-redirect_uris", "https://shop.example/callback")
        walk.check("client-wizard")
        page.click("button:has-text('Create the client')")
        page.wait_for_selector("#client-secret")
        secret_shown = page.inner_text("#client-secret")
        page.click("button[data-copy=client-secret]")  # console.js, under the nonce
        page.wait_for_selector("button[data-copy=client-secret]:has-text('Copied')")
        assert page.evaluate("navigator.clipboard.readText()") == secret_shown
        walk.check("client-created")
        page.click("text=Go to the client")
        walk.check("client")
        page.click("button:has-text('Rotate the secret')")
        page.wait_for_selector("#client-secret")
        assert page.inner_text("#client-secret") != secret_shown
        walk.check("client-secret-rotated")
        page.goto(issuer + "/admin/clients?q=shop")
        walk.check("clients")

        # Try it: the console's URI added to the client, the flow run, the tokens decoded.
        page.click("tbody >> a:text-is('Shop')")
        try_uri = issuer + "/admin/try"
        assert try_uri in page.inner_text("#try-h + p")
        page.fill("#f-redirect_uris", f"https://shop.example/callback\n{try_uri}")
        page.click("button:has-text('Save')")
        page.wait_for_selector("text=Saved.")
        page.click("button:has-text('Try it')")
        page.click("button:has-text('Allow')")  # the consent page: the admin approves
        page.wait_for_selector("#claims-id_token")
        assert '"aud": "' in page.inner_text("#claims-id_token")
        walk.check("try-it")

        # Users: bob's session (from his refused sign-in) is ended.
        page.click("nav >> text=Users")
        walk.check("users")
        page.click("text=bob")
        page.click("button:has-text('End session')")
        page.wait_for_selector("text=The session was ended.")
        walk.check("user")
        page.click("text=Delete this user…")
        walk.check("user-delete-confirm")
        page.click("text=Cancel")
        page.goto(issuer + "/admin/users/new")
        walk.check("user-new")

        # Signing keys: rotate now.
        page.click("nav >> text=Signing keys")
        page.click("button:has-text('Rotate now')")
        page.wait_for_selector("td:text-is('next')")
        walk.check("keys")

        # The audit log, filtered, and one request explained.
        page.click("nav >> text=Audit log")
        page.fill("#f-user", "root")
        page.click("button:has-text('Filter')")
        table = page.inner_text("table.events")
        for name in ("client.created", "client.secret_rotated", "console.tried", "session.ended"):
            assert name in table, name
        assert "keys.rotated" in table
        walk.check("events")
        page.click("table.events tbody tr >> nth=0 >> td >> nth=3 >> a")
        page.wait_for_selector("text=What keystead explain")
        walk.check("explain")
        for path in ("apis", "connections"):
            page.goto(f"{issuer}/admin/{path}")
            walk.check(path)
        browser.close()
    assert problems == []
    assert walk.violations == {}, json.dumps(walk.violations, indent=2)
