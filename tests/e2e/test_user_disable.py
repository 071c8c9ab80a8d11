"""Disabling an account (issue 27's "disable" for users; the admin API, the CLI and the
console share services/users.set_disabled): no sign-in by any method, sessions and grants end
at once, enabling lets the password work again; a disabled user named by a CIBA hint is an
unknown user."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import PASSWORD, Browser, Env
from tests.e2e.test_account_page import sign_in
from tests.e2e.test_admin_api import ADMIN, admin_token
from tests.e2e.test_authorize_errors import auth_url

pytestmark = pytest.mark.anyio


async def test_disable_then_enable_through_the_admin_api(env: Env) -> None:
    sub = await env.add_user()
    client_id, _ = await env.add_client(skip_consent=True)
    token = await admin_token(env)
    admin = {"Authorization": f"Bearer {token}"}
    async with env.client() as http:
        browser = Browser(http)
        await sign_in(env, browser)  # a session that must end
        assert (await http.get("/account")).status_code == 200
        async with env.client(headers=admin) as api:
            r = await api.patch(f"{ADMIN}/users/{sub}", json={"disabled": True})
            assert r.status_code == 200 and r.json()["disabled"] is True
            assert (await api.get(f"{ADMIN}/users/{sub}")).json()["disabled"] is True
            null = await api.patch(f"{ADMIN}/users/{sub}", json={"disabled": None})
            assert null.status_code == 422  # a field error: null is no answer
        # the session ended at once: /account asks for a sign-in again
        assert (await http.get("/account")).status_code == 303
    async with env.client() as http:
        browser = Browser(http)
        page = await browser.open(auth_url(client_id))
        refused = await browser.login(page)
        assert refused.status_code == 403 and "This account is disabled" in refused.text
        wrong = await browser.login(await browser.open(auth_url(client_id)), password="nope")
        assert "disabled" not in wrong.text  # only the right password learns it
    await env.provider.recorder.flush()
    names = [e.name for e in await env.provider.store.events.recent(200)]
    assert "user.disabled" in names and "login.disabled_account" in names
    async with env.client(headers=admin) as api:
        r = await api.patch(f"{ADMIN}/users/{sub}", json={"disabled": False})
        assert r.status_code == 200 and r.json()["disabled"] is False
    async with env.client() as http:
        browser = Browser(http)
        done = await browser.login(await browser.open(auth_url(client_id)), password=PASSWORD)
        assert done.status_code in (302, 303) and "code=" in done.headers["location"]


async def test_disabled_user_is_unknown_to_ciba(env: Env) -> None:
    from keystead.services import users as service
    from keystead.services.common import CLI
    from tests.e2e.test_ciba_flow import bc_authorize, ciba_client, error_of

    client = await ciba_client(env)
    sub = await env.add_user()
    user = await env.provider.store.users.get(sub)
    assert user is not None
    await service.set_disabled(env.provider, user, True, CLI)
    async with env.client() as rp:
        r = await bc_authorize(rp, client, login_hint="alice")
        assert error_of(r) == "unknown_user_id"


def test_cli_disable_and_enable(run: Any) -> None:
    run("user", "create", "bob", "--password-stdin", stdin="bob's password 123\n")
    assert run("user", "disable", "bob")["disabled"] is True
    assert "bob is disabled" in run("user", "disable", "bob", as_json=False)
    assert run("user", "enable", "bob")["disabled"] is False
    assert "No user named nobody" in run("user", "disable", "nobody", ok=False)
