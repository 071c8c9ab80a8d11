"""Sign-up (and prompt=create), email verification and the account page's profile, data
download and deletion, with real mail through an aiosmtpd sink (issue 21)."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from email.message import EmailMessage
from pathlib import Path

import httpx
import pytest

from keystead.mail.deliver import HANDLERS
from keystead.outbox import Sender
from keystead.services.common import CLI
from keystead.services.invitations import invite
from tests.e2e.conftest import Browser, Env, make_env, query_of
from tests.e2e.test_account_page import follow, sign_in
from tests.e2e.test_authorize_errors import auth_url
from tests.mail.smtp_sink import SmtpSink

pytestmark = pytest.mark.anyio

PASSWORD = "meadow violin seventy"


@pytest.fixture
async def signup_env(tmp_path: Path) -> AsyncIterator[tuple[Env, SmtpSink]]:
    with SmtpSink() as sink:
        env = await make_env(tmp_path, smtp_url=sink.url, signup=True)
        yield env, sink
        await env.provider.close()


async def mails(env: Env, sink: SmtpSink, count: int) -> list[EmailMessage]:
    await Sender(env.provider, HANDLERS).run_once()
    return await sink.wait_for(count)


def link(message: EmailMessage, path: str) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    found = re.search(rf"http://127\.0\.0\.1:8000{path}\?token=[\w-]+", body.get_content())
    assert found, body.get_content()
    return found.group(0)


async def test_prompt_create_sign_up_verify_then_sign_in(
    signup_env: tuple[Env, SmtpSink],
) -> None:
    env, sink = signup_env
    async with env.client() as http:
        meta = (await http.get("/.well-known/openid-configuration")).json()
        assert "create" in meta["prompt_values_supported"]
        client_id, _ = await env.add_client(skip_consent=True)
        browser = Browser(http)
        page = await follow(browser, await browser.open(auth_url(client_id, prompt="create")))
        assert "Create an account" in page.text
        weak = await browser.submit(
            page, username="carol", email="carol@example.com",
            new_password="carol@example.com", confirm_password="carol@example.com",
        )  # fmt: skip
        assert weak.status_code == 400 and "email" in weak.text.lower()
        sent = await browser.submit(
            weak, username="carol", email="carol@example.com",
            new_password=PASSWORD, confirm_password=PASSWORD,
        )  # fmt: skip
        assert sent.status_code == 200 and "Check your mail" in sent.text
        # Not verified yet: the password does not sign in, and a new link is sent.
        login = await browser.open(auth_url(client_id))
        refused = await browser.login(login, "carol", PASSWORD)
        assert "Confirm your email address first" in refused.text
        first, second = await mails(env, sink, 2)
        assert first["To"] == second["To"] == "carol@example.com"
        older = await browser.open(link(first, "/email/verify"))
        assert older.status_code == 400 and "a newer one was sent" in older.text
        confirm = await browser.open(link(second, "/email/verify"))
        assert "Confirm carol@example.com" in confirm.text
        done = await browser.submit(confirm)
        assert done.status_code == 303 and "/authorize?" in done.headers["location"]
        assert "prompt" not in query_of(done.headers["location"])  # create was answered
        signed_in = await browser.login(
            await browser.open(done.headers["location"]), "carol", PASSWORD
        )
        assert signed_in.headers["location"].startswith("https://rp.example.com/callback?code=")
        user = await env.provider.store.users.get_by_username("carol")
        assert user is not None and user.email_verified
        used = await browser.open(link(second, "/email/verify"))
        assert used.status_code == 400 and "already used" in used.text


async def test_an_address_with_an_account_gets_the_same_answer(
    signup_env: tuple[Env, SmtpSink],
) -> None:
    env, sink = signup_env
    await env.add_user()  # alice@example.com
    async with env.client() as http:
        browser = Browser(http)
        page = await browser.open("/signup")
        sent = await browser.submit(
            page, username="mallory", email="alice@example.com",
            new_password=PASSWORD, confirm_password=PASSWORD,
        )  # fmt: skip
        assert sent.status_code == 200 and "Check your mail" in sent.text
    [message] = await mails(env, sink, 1)
    assert message["To"] == "alice@example.com" and "/password/reset?token=" in str(message)
    assert await env.provider.store.users.get_by_username("mallory") is None


async def test_change_email_download_data_and_delete_the_account(
    signup_env: tuple[Env, SmtpSink],
) -> None:
    env, sink = signup_env
    sub = await env.add_user(email_verified=True)
    async with env.client() as http:
        browser = Browser(http)
        account = await sign_in(env, browser)
        changed = await follow(
            browser, await browser.submit(account, name="Alice A.", email="new@example.org")
        )
        assert "takes effect when you open it" in changed.text
        user = await env.provider.store.users.get(sub)
        assert user is not None and user.email == "alice@example.com" and user.name == "Alice A."
        [verification] = await mails(env, sink, 1)
        assert verification["To"] == "new@example.org"
        confirm = await browser.open(link(verification, "/email/verify"))
        await browser.submit(confirm)
        user = await env.provider.store.users.get(sub)
        assert user is not None and (user.email, user.email_verified) == ("new@example.org", True)
        notice = (await mails(env, sink, 2))[1]
        assert notice["To"] == "alice@example.com"  # the old address is told
        data = await http.get("/account/data")
        assert data.headers["content-disposition"].startswith("attachment")
        document = data.json()
        assert document["profile"]["email"] == "new@example.org"
        assert "password_hash" not in json.dumps(document)
        await env.provider.recorder.flush()
        events = (await http.get("/account/data")).json()["events"]
        assert "user.email_verified" in [e["name"] for e in events]
        page = await browser.open("/account")
        wrong = await http.post(
            "/account/delete", data={"csrf_token": csrf(page), "confirm": "bob"}
        )
        assert wrong.status_code == 400 and "Type alice to confirm" in wrong.text
        gone = await http.post(
            "/account/delete", data={"csrf_token": csrf(page), "confirm": "alice"}
        )
        assert gone.status_code == 200 and "was deleted" in gone.text
    assert await env.provider.store.users.get(sub) is None


def csrf(page: httpx.Response) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found
    return found.group(1)


async def test_an_invitation_sets_the_first_password(signup_env: tuple[Env, SmtpSink]) -> None:
    env, sink = signup_env
    user = await invite(env.provider, "dave@example.com", CLI, name="Dave")
    assert not user.email_verified
    [message] = await mails(env, sink, 1)
    assert message["To"] == "dave@example.com"
    async with env.client() as http:
        browser = Browser(http)
        page = await browser.open(link(message, "/invitation"))
        assert "Welcome" in page.text
        done = await browser.submit(page, new_password=PASSWORD, confirm_password=PASSWORD)
        assert done.status_code == 200 and "Your account is ready" in done.text
        account = await sign_in(env, browser, username="dave@example.com", password=PASSWORD)
        assert "Signed in as" in account.text
    stored = await env.provider.store.users.get(user.sub)
    assert stored is not None and stored.email_verified


async def test_without_sign_up_no_page_and_no_prompt_create(env: Env) -> None:
    client_id, _ = await env.add_client()
    async with env.client() as http:
        assert (await http.get("/signup")).status_code == 404
        meta = (await http.get("/.well-known/openid-configuration")).json()
        assert "create" not in meta["prompt_values_supported"]
        login = await http.get(auth_url(client_id))
        assert 'id="signup"' not in login.text and 'id="forgot"' in login.text
        refused = await http.get(auth_url(client_id, prompt="create"))
        assert refused.status_code == 302  # an error back at the client
        params = query_of(refused.headers["location"])
        assert (
            params["error"] == "invalid_request"
            and "KEYSTEAD_SIGNUP" in params["error_description"]
        )
