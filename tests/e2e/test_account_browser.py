"""The account page in a real Chromium against a real `keystead serve` process: sign in,
set up an authenticator app by reading the secret off the page (codes from pyotp), keep the
recovery codes, add a passkey with the DevTools virtual authenticator, then sign in again with
the password and a recovery code. Every page under keystead's CSP, no console error, a
screenshot of each kept (tests/e2e/screenshots.py). The issuer is http://localhost:PORT:
WebAuthn needs a secure context and a domain as RP ID. Chromium is required (fails, never
skips)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pyotp
import pytest
from playwright.sync_api import ConsoleMessage, Page, sync_playwright

from tests.e2e.browser import CHROMIUM_ARGS, chromium_path
from tests.e2e.passkey_browser import (
    add_virtual_authenticator,
    credentials,
    remove_virtual_authenticator,
)
from tests.e2e.screenshots import keep
from tests.e2e.serving import serving
from tests.e2e.test_server_process import Cli, free_port

pytestmark = pytest.mark.timeout(180)

PASSWORD = "account browser password"


@pytest.fixture
def keystead(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """(issuer, rita's sub) with keystead serving."""
    chromium_path()
    port = free_port()
    issuer = f"http://localhost:{port}"
    cli = Cli(tmp_path / "data", issuer)
    user = cli.json("user", "create", "rita", "--password-stdin", stdin=PASSWORD + "\n")
    with serving(cli, port):
        yield issuer, user["sub"]


def sign_in(page: Page, issuer: str) -> None:
    page.goto(issuer + "/account")
    assert page.title() == "Sign in to your keystead account"
    page.fill("#username", "rita")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")


def test_the_account_page_in_chromium(keystead: tuple[str, str]) -> None:
    issuer, sub = keystead
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
        sign_in(page, issuer)
        page.wait_for_url(issuer + "/account")
        assert page.title() == "Your account"
        keep(page, "account")

        # An authenticator app: the secret as the page shows it, the code from pyotp.
        page.click("#totp-start")
        page.wait_for_selector("#totp-qr")
        assert page.eval_on_selector("#totp-qr", "img => img.naturalWidth") > 0  # CSP allows it
        keep(page, "account-totp")
        app = pyotp.TOTP("".join(page.inner_text("#totp-secret").split()))
        page.fill("#code", app.now())
        page.fill("#name", "Phone")
        page.click("button[type=submit]")
        page.wait_for_selector("#recovery-codes")
        keep(page, "account-recovery-codes")
        codes = re.findall(r"[a-z2-7]{4}(?:-[a-z2-7]{4}){3}", page.inner_text("#recovery-codes"))
        assert len(codes) == 10
        page.click("a.button")
        page.wait_for_selector("#codes-left")
        assert "Phone" in page.content()

        # A passkey, created by the virtual authenticator through passkey.js.
        authenticator = add_virtual_authenticator(page)
        page.fill("#passkey-name", "Laptop")
        page.click("button[data-passkey=register]")
        page.wait_for_url(issuer + "/account?done=passkey")
        assert "Laptop" in page.content()
        [credential] = credentials(authenticator)
        assert credential.is_resident and credential.rp_id == "localhost"
        assert credential.user_handle == sub.encode()
        keep(page, "account-with-factors")

        # Signed out: the password, then the second step with a recovery code. (With the
        # virtual authenticator still there, the login page's autofill would sign in at once.)
        remove_virtual_authenticator(authenticator)
        page.context.clear_cookies()
        sign_in(page, issuer)
        page.wait_for_selector("#code")
        assert page.get_attribute("#code", "autocomplete") == "one-time-code"
        keep(page, "login-second-factor")
        page.fill("#code", codes[0])
        page.click("button[type=submit]")
        page.wait_for_url(issuer + "/account")
        assert "A recovery code was used" in page.inner_text("#codes-used")
        browser.close()
    assert problems == []
