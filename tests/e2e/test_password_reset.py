"""Password reset over HTTP with real mail (issue 21): from the login page's "Forgot
password?" to an aiosmtpd sink through the outbox and SMTP, the link, a refused common
password, the new one, the old sessions gone, back to the client's sign-in; and what an
attacker tries: unknown accounts answered the same, used, expired and altered links."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from email.message import EmailMessage
from pathlib import Path

import httpx
import pytest

from keystead.mail.deliver import HANDLERS
from keystead.outbox import Sender
from tests.e2e.conftest import Browser, Env, make_env
from tests.e2e.test_authorize_errors import auth_url
from tests.mail.smtp_sink import SmtpSink

pytestmark = pytest.mark.anyio

NEW_PASSWORD = "lantern orchard copper nine"
CHECK_MAIL = "If an account matches what you entered"


@pytest.fixture
async def mail_env(tmp_path: Path) -> AsyncIterator[tuple[Env, SmtpSink]]:
    with SmtpSink() as sink:
        env = await make_env(tmp_path, smtp_url=sink.url, mail_from="keystead <id@example.com>")
        yield env, sink
        await env.provider.close()


def link_in(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    match = re.search(r"http://127\.0\.0\.1:8000/password/reset\?token=[\w-]+", body.get_content())
    assert match, body.get_content()
    return match.group(0)


async def ask_for_link(env: Env, browser: Browser, client_id: str, who: str) -> httpx.Response:
    login = await browser.open(auth_url(client_id))
    forgot = re.search(r'href="([^"]+)" id="forgot"', login.text)
    assert forgot, login.text[:400]
    page = await browser.open(forgot.group(1).replace("&amp;", "&"))
    assert page.status_code == 200 and "Reset your password" in page.text
    return await browser.submit(page, identifier=who)


async def test_reset_from_the_login_page_to_the_client(
    mail_env: tuple[Env, SmtpSink],
) -> None:
    env, sink = mail_env
    await env.add_user()
    client_id, _ = await env.add_client(skip_consent=True)
    async with env.client() as old_http:  # a browser signed in before the reset
        old = Browser(old_http)
        assert (await old.login(await old.open(auth_url(client_id)))).status_code == 303
    async with env.client() as http:
        browser = Browser(http)
        sent = await ask_for_link(env, browser, client_id, "alice@EXAMPLE.com")
        assert sent.status_code == 200 and CHECK_MAIL in sent.text
        assert await Sender(env.provider, HANDLERS).run_once() == 1
        [message] = await sink.wait_for(1)
        assert (
            message["To"] == "alice@example.com" and message["From"] == "keystead <id@example.com>"
        )
        assert message.get_body(("html",)) is not None
        link = link_in(message)
        form = await browser.open(link)
        assert form.status_code == 200 and 'autocomplete="new-password"' in form.text
        again = await browser.open(link)  # opening it twice (a mail scanner) uses nothing
        assert again.status_code == 200
        common = await browser.submit(form, new_password="password1", confirm_password="password1")
        assert common.status_code == 400 and "attackers try first" in common.text
        done = await browser.submit(
            common, new_password=NEW_PASSWORD, confirm_password=NEW_PASSWORD
        )
        assert done.status_code == 303 and "/authorize?" in done.headers["location"]
        login = await browser.open(done.headers["location"])  # the client's sign-in, resumed
        assert 'name="password"' in login.text
        old_password = await browser.login(login)
        assert "Incorrect username or password." in old_password.text
        finished = await browser.login(old_password, password=NEW_PASSWORD)
        assert finished.status_code == 303
        assert finished.headers["location"].startswith("https://rp.example.com/callback?code=")
        used = await browser.open(link)
        assert used.status_code == 400 and "already used" in used.text
        assert "Send me a new link" in used.text
    async with env.client() as old_http:  # the earlier session ended with the reset
        old = Browser(old_http)
        page = await old.open(auth_url(client_id))
        assert 'name="password"' in page.text


async def test_no_account_no_mail_and_the_same_answer(mail_env: tuple[Env, SmtpSink]) -> None:
    env, sink = mail_env
    await env.add_user()
    client_id, _ = await env.add_client(skip_consent=True)
    async with env.client() as http:
        browser = Browser(http)
        known = await ask_for_link(env, browser, client_id, "alice")
        unknown = await ask_for_link(env, browser, client_id, "nobody@example.com")
    assert known.status_code == unknown.status_code == 200
    strip = re.compile(r'value="[^"]*"')
    assert strip.sub("", known.text) == strip.sub("", unknown.text)
    assert await Sender(env.provider, HANDLERS).run_once() == 1  # alice's only
    assert len(await sink.wait_for(1)) == 1


async def test_expired_and_altered_links(mail_env: tuple[Env, SmtpSink]) -> None:
    env, sink = mail_env
    await env.add_user()
    client_id, _ = await env.add_client(skip_consent=True)
    async with env.client() as http:
        browser = Browser(http)
        await ask_for_link(env, browser, client_id, "alice")
        await Sender(env.provider, HANDLERS).run_once()
        link = link_in((await sink.wait_for(1))[0])
        altered = await browser.open(link[:-3] + "abc")
        assert altered.status_code == 400 and "not valid" in altered.text
        env.clock.now += env.settings.password_reset_ttl + 1
        expired = await browser.open(link)
        assert expired.status_code == 400 and "expired" in expired.text
