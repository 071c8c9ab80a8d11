"""The browser flow validates a request once: /authorize runs the ordered checks, /login and
/consent resume the validated request from the signed page state (docs/architecture.md, "The
browser flow: validated once"); a state altered in the browser is refused."""

from __future__ import annotations

import base64
import json
from collections import Counter
from dataclasses import replace
from typing import Any

import pytest

from keystead.protocol import authorize
from tests.e2e.conftest import REDIRECT_URI, Browser, Env, form_fields, pkce_pair, query_of
from tests.e2e.test_authorize_errors import auth_url
from tests.e2e.test_token import redeem

pytestmark = pytest.mark.anyio

CHECK_NAMES = {check.__name__ for check in authorize.CHECKS}  # all fifteen


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """How often each of the ordered authorization checks runs."""
    runs: Counter[str] = Counter()

    def spy(check: authorize.Check) -> authorize.Check:
        async def run(ctx: Any) -> None:
            runs[check.__name__] += 1
            pending = check(ctx)  # a coroutine for the checks that read the store
            if pending is not None:
                await pending

        return run

    monkeypatch.setattr(authorize, "CHECKS", tuple(spy(c) for c in authorize.CHECKS))
    return runs


def _every_check_ran(runs: Counter[str], times: int) -> bool:
    return set(runs) == CHECK_NAMES and set(runs.values()) == {times}


async def test_authorize_login_consent_validate_once(env: Env, counted: Counter[str]) -> None:
    await env.add_user()
    client_id, _ = await env.add_client()
    async with env.client() as http:
        browser = Browser(http)
        page = await browser.open(auth_url(client_id))
        assert _every_check_ran(counted, 1)
        failed = await browser.login(page, "alice", "not the password")  # the form again
        consent = await browser.login(failed)
        assert 'name="decision"' in consent.text
        done = await browser.consent(consent)
    assert done.status_code == 303 and "code" in query_of(done.headers["location"])
    assert _every_check_ran(counted, 1)


async def test_the_id_token_hint_is_verified_once(env: Env, monkeypatch) -> None:
    sub = await env.add_user()
    client_id, secret = await env.add_client()
    verifier, challenge = pkce_pair()
    async with env.client() as http:
        browser = Browser(http)
        page = await browser.open(auth_url(client_id, code_challenge=challenge))
        done = await browser.consent(await browser.login(page))
    code = query_of(done.headers["location"])["code"]
    hint = (await redeem(env, code, client_id, secret, expect=200, verifier=verifier))["id_token"]
    verified: list[str] = []
    real = authorize.hint_subject

    async def spy(provider: Any, token: str) -> str:
        verified.append(token)
        return await real(provider, token)

    monkeypatch.setattr(authorize, "hint_subject", spy)
    async with env.client() as http:  # another browser: no session, the login form
        browser = Browser(http)
        page = await browser.open(auth_url(client_id, id_token_hint=hint, scope="openid email"))
        consent = await browser.login(page)
        done = await browser.consent(consent)
    assert done.status_code == 303 and "code" in query_of(done.headers["location"])
    assert verified == [hint]
    assert sub


def _altered(token: str, change: dict[str, Any]) -> str:
    """The page state with its payload changed and its signature kept."""
    head, payload, sig = token.split(".")
    data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    data["v"].update(change)
    raw = json.dumps(data, separators=(",", ":")).encode()
    return f"{head}.{base64.urlsafe_b64encode(raw).rstrip(b'=').decode()}.{sig}"


@pytest.mark.parametrize(
    "change",
    [
        {"scope": ["openid", "profile", "email", "offline_access"]},
        {"redirect_uri": "https://attacker.example/cb"},
        {"prompt": []},
    ],
)
async def test_an_altered_validated_request_is_refused(env: Env, change: dict[str, Any]) -> None:
    await env.add_user()
    client_id, _ = await env.add_client()
    async with env.client() as http:
        page = await http.get(auth_url(client_id, prompt="login"))
        fields = form_fields(page.text)
        assert "v" in json.loads(
            base64.urlsafe_b64decode(fields["interaction"].split(".")[1] + "==")
        )
        r = await http.post(
            "/login",
            data={
                **fields,
                "interaction": _altered(fields["interaction"], change),
                "username": "alice",
                "password": "correct horse battery staple",
            },
        )
    assert r.status_code == 400 and "location" not in r.headers
    assert "keystead_session" not in r.headers.get("set-cookie", "")


async def test_a_client_deleted_after_the_login_page_is_refused(env: Env) -> None:
    await env.add_user()
    client_id, _ = await env.add_client()
    async with env.client() as http:
        browser = Browser(http)
        page = await browser.open(auth_url(client_id))
        await env.provider.store.clients.delete(client_id)
        env.provider.forget_client(client_id)
        r = await browser.login(page)
    assert r.status_code == 400 and "location" not in r.headers
    assert "keystead_session" not in r.headers.get("set-cookie", "")


async def test_a_redirect_uri_removed_after_the_login_page_is_refused(
    env: Env, counted: Counter[str]
) -> None:
    await env.add_user()
    client_id, _ = await env.add_client()
    async with env.client() as http:
        browser = Browser(http)
        page = await browser.open(auth_url(client_id))
        client = await env.provider.store.clients.get(client_id)
        assert client is not None and client.redirect_uris == (REDIRECT_URI,)
        await env.provider.store.clients.update(
            replace(client, redirect_uris=("https://rp.example.com/moved",))
        )
        env.provider.forget_client(client_id)
        r = await browser.login(page)
    assert r.status_code == 400 and "location" not in r.headers
    assert counted["check_redirect_uri"] == 2  # the registration changed: validated again
