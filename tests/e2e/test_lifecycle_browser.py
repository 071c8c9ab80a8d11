"""Account lifecycle in a real Chromium against `keystead serve` (issue 21): sign up from the
login page, open the verification link from the mail (aiosmtpd), sign in; then forget the
password, follow the reset link, choose a new one and land back at the application. Pages
under keystead's CSP, no console error, screenshots kept."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import ConsoleMessage, sync_playwright

from tests.e2e.browser import CHROMIUM_ARGS, chromium_path
from tests.e2e.screenshots import keep
from tests.e2e.serving import serving
from tests.e2e.test_server_process import Cli, free_port
from tests.mail.smtp_sink import SmtpSink

pytestmark = pytest.mark.timeout(180)

PASSWORD = "harbor velvet ninety two"
NEW_PASSWORD = "saffron kettle meridian"
CALLBACK = "http://127.0.0.1:9/callback"  # never reached: the browser stops at the redirect


@pytest.fixture
def keystead(tmp_path: Path) -> Iterator[tuple[str, str, SmtpSink]]:
    """(issuer, client_id, mail sink) with keystead serving, sign-up on."""
    chromium_path()
    with SmtpSink() as sink:
        port = free_port()
        issuer = f"http://localhost:{port}"
        cli = Cli(tmp_path / "data", issuer)
        cli.env |= {"KEYSTEAD_SMTP_URL": sink.url, "KEYSTEAD_SIGNUP": "true"}
        client = cli.json(
            "client", "create", "--name", "Shop", "--redirect-uri", CALLBACK,
            "--token-endpoint-auth-method", "none", "--skip-consent",
        )  # fmt: skip
        with serving(cli, port):
            yield issuer, client["client_id"], sink


def mail_link(sink: SmtpSink, count: int, path: str) -> str:
    deadline = time.monotonic() + 20
    while len(sink.messages) < count:
        assert time.monotonic() < deadline, "no mail"
        time.sleep(0.1)
    body = sink.messages[count - 1].get_body(("plain",))
    assert body is not None
    found = re.search(rf"http://localhost:\d+{path}\?token=[\w-]+", body.get_content())
    assert found, body.get_content()
    return found.group(0)


def authorize_url(issuer: str, client_id: str) -> str:
    return (
        f"{issuer}/authorize?response_type=code&client_id={client_id}&scope=openid"
        f"&redirect_uri={CALLBACK}&state=s1&code_challenge={'E' * 43}&code_challenge_method=S256"
    )


def test_sign_up_verify_and_reset_in_chromium(keystead: tuple[str, str, SmtpSink]) -> None:
    issuer, client_id, sink = keystead
    problems: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=chromium_path(), args=CHROMIUM_ARGS, headless=True
        )
        page = browser.new_page()
        # The application's callback, answered by the browser itself (no server there).
        page.route(CALLBACK + "*", lambda route: route.fulfill(status=200, body="callback"))

        def on_console(message: ConsoleMessage) -> None:
            # the refused password's page is a 400 on purpose; anything else is a problem
            if message.type == "error" and "status of 400" not in message.text:
                problems.append(f"{page.url}: {message.text}")

        page.on("console", on_console)
        page.on("pageerror", lambda exc: problems.append(f"{page.url}: {exc}"))
        page.goto(authorize_url(issuer, client_id))
        page.click("#signup")
        page.wait_for_selector("#confirm_password")
        keep(page, "signup")
        page.fill("#username", "erin")
        page.fill("#email", "erin@example.com")
        page.fill("#new_password", PASSWORD)
        page.fill("#confirm_password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_selector("text=Check your mail")

        page.goto(mail_link(sink, 1, "/email/verify"))
        keep(page, "email-verify")
        page.click("button[type=submit]")
        page.wait_for_selector("#password")  # back at the sign-in the sign-up began
        page.fill("#username", "erin")
        page.fill("#password", PASSWORD)
        page.click("form[action$='/login'] button[type=submit]")
        page.wait_for_url(CALLBACK + "?code=*")

        page.context.clear_cookies()
        page.goto(authorize_url(issuer, client_id))
        page.click("#forgot")
        page.wait_for_selector("#identifier")
        keep(page, "password-forgot")
        page.fill("#identifier", "erin@example.com")
        page.click("button[type=submit]")
        page.wait_for_selector("text=Check your mail")
        page.goto(mail_link(sink, 2, "/password/reset"))
        page.fill("#new_password", "password123")
        page.fill("#confirm_password", "password123")
        page.click("button[type=submit]")
        page.wait_for_selector("#new_password-error")
        keep(page, "password-reset-refused")
        assert "attackers try first" in page.inner_text("#new_password-error")
        page.fill("#new_password", NEW_PASSWORD)
        page.fill("#confirm_password", NEW_PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_selector("#password")
        page.fill("#username", "erin")
        page.fill("#password", NEW_PASSWORD)
        page.click("form[action$='/login'] button[type=submit]")
        page.wait_for_url(CALLBACK + "?code=*")
        browser.close()
    assert problems == []
