"""Managing OAuth 1.0a consumers and tokens: the command line (client create --oauth1
--oauth1-rsa-public-key, oauth1 tokens, oauth1 revoke), the admin API
(/users/{sub}/oauth1-tokens, /oauth1-tokens/{token_id}) and the user's account page (the
consumer listed, "Revoke access"); each revocation stops the consumer's next signed call."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import anyio
import httpx
import pytest

from keystead.web.authorize import csrf_cookie_name
from tests.e2e.conftest import Browser, Env, form_fields
from tests.e2e.test_account_page import sign_in
from tests.e2e.test_admin_api import ADMIN, admin, admin_token
from tests.e2e.test_oauth1_flow import (
    CALLBACK,
    add_consumer,
    consumer,
    rsa_pair,
    three_legs,
)

pytestmark = pytest.mark.anyio


async def cli(run: Any, *args: str, **kwargs: Any) -> Any:
    """The command line in a thread (it runs its own event loop)."""
    return await anyio.to_thread.run_sync(lambda: run(*args, **kwargs))


def oauth_problem(r: httpx.Response) -> str:
    return dict(parse_qsl(r.text))["oauth_problem"]


async def test_cli_consumer_tokens_and_revoke(env: Env, run: Any, tmp_path: Path) -> None:
    await env.add_user()
    private, public = rsa_pair()
    key_file = tmp_path / "consumer.pem"
    key_file.write_text(public)
    made = await cli(
        run, "client", "create", "--name", "Photo Printer", "--redirect-uri", CALLBACK,
        "--oauth1", "--oauth1-rsa-public-key", str(key_file),
    )  # fmt: skip
    assert made["oauth1"] is True and made["oauth1_oob"] is False
    assert made["oauth1_rsa_public_key"].startswith("-----BEGIN PUBLIC KEY-----")
    client_id = made["client_id"]
    bad = tmp_path / "bad.pem"
    bad.write_text("not a key")
    refused = await cli(
        run, "client", "update", client_id, "--oauth1-rsa-public-key", str(bad), ok=False
    )
    assert "--oauth1-rsa-public-key" in refused and "PEM RSA public key" in refused

    async with consumer(env, client_id, None, signature_method="RSA-SHA1", rsa_key=private) as c:
        await three_legs(env, c)
        assert (await c.get("/oauth1/userinfo")).status_code == 200
        listed = await cli(run, "oauth1", "tokens", "--user", "alice")
        [token] = listed["tokens"]
        assert token["client_id"] == client_id and token["client_name"] == "Photo Printer"
        assert token["revoked_at"] is None
        revoked = await cli(run, "oauth1", "revoke", token["token_id"])
        assert revoked["revoked_at"] is not None
        r = await c.get("/oauth1/userinfo")
        assert r.status_code == 401 and oauth_problem(r) == "token_revoked"
    assert (await cli(run, "oauth1", "tokens", "--user", "alice", "--live"))["tokens"] == []
    assert "No OAuth 1.0a token" in await cli(run, "oauth1", "revoke", "nope", ok=False)
    assert "No user named bob" in await cli(run, "oauth1", "tokens", "--user", "bob", ok=False)
    # Disabled again: the consumer key is refused.
    assert (await cli(run, "client", "update", client_id, "--no-oauth1"))["oauth1"] is False
    env.provider.forget_client(client_id)
    async with consumer(env, client_id, None, signature_method="RSA-SHA1", rsa_key=private) as c:
        r = await c.post("/oauth1/request_token")
        assert r.status_code == 401 and oauth_problem(r) == "consumer_key_rejected"


async def test_admin_api_lists_and_revokes(env: Env) -> None:
    sub = await env.add_user()
    client_id, secret = await add_consumer(env)
    token = await admin_token(env)
    async with consumer(env, client_id, secret) as c, admin(env, token) as api:
        await three_legs(env, c)
        r = await api.get(f"{ADMIN}/users/{sub}/oauth1-tokens")
        assert r.status_code == 200, r.text
        [listed] = r.json()["tokens"]
        assert listed["client_id"] == client_id and "token_hash" not in listed
        r = await api.delete(f"{ADMIN}/oauth1-tokens/{listed['token_id']}")
        assert r.status_code == 200 and r.json()["revoked_at"] is not None
        r = await c.get("/oauth1/userinfo")
        assert r.status_code == 401 and oauth_problem(r) == "token_revoked"
        assert (await api.delete(f"{ADMIN}/oauth1-tokens/nope")).status_code == 404
        assert (await api.get(f"{ADMIN}/users/nobody/oauth1-tokens")).status_code == 404
        r = await api.patch(f"{ADMIN}/clients/{client_id}", json={"oauth1_oob": True})
        assert r.status_code == 200 and r.json()["oauth1_oob"] is True
        r = await api.patch(f"{ADMIN}/clients/{client_id}", json={"oauth1_rsa_public_key": "junk"})
        assert r.status_code == 422
    async with admin(env, None) as anonymous:
        r = await anonymous.get(f"{ADMIN}/users/{sub}/oauth1-tokens")
        assert r.status_code == 401


async def test_account_page_lists_the_consumer_and_revokes(env: Env) -> None:
    await env.add_user()
    await env.add_user("bob")
    client_id, secret = await add_consumer(env)
    async with env.client() as http, consumer(env, client_id, secret) as c:
        browser = Browser(http)
        await sign_in(env, browser)
        # Already signed in: /oauth1/authorize goes straight to the consent page.
        temporary = await c.fetch_request_token("/oauth1/request_token")
        page = await browser.open(
            c.create_authorization_url("/oauth1/authorize", temporary["oauth_token"])
        )
        assert page.status_code == 200 and "Allow Photo Printer?" in page.text
        # Without the CSRF token nothing is approved.
        forged = await http.post(
            "/oauth1/authorize",
            data={"oauth_token": temporary["oauth_token"], "decision": "approve"},
        )
        assert forged.status_code == 400
        done = await browser.submit(page, decision="approve")
        params = c.parse_authorization_response(done.headers["location"])
        await c.fetch_access_token("/oauth1/access_token", params["oauth_verifier"])
        assert (await c.get("/oauth1/userinfo")).status_code == 200

        account = await browser.open("/account")
        assert "/account/oauth1" in account.text
        listing = await browser.open("/account/oauth1")
        assert listing.status_code == 200 and "Photo Printer" in listing.text
        # Bob cannot revoke Alice's token with its id.
        async with env.client() as bobs:
            bob = Browser(bobs)
            await sign_in(env, bob, username="bob")
            bob_page = await bob.open("/account/oauth1")
            assert "Photo Printer" not in bob_page.text
            token_id = form_fields(listing.text)["token_id"]
            r = await bobs.post(
                "/account/oauth1/revoke",
                data={
                    "token_id": token_id,
                    "csrf_token": bobs.cookies.get(csrf_cookie_name(env.provider)) or "",
                },
            )
            assert r.status_code == 303
        assert (await c.get("/oauth1/userinfo")).status_code == 200
        revoked = await browser.submit(listing)
        assert revoked.status_code == 303
        after = await browser.open(revoked.headers["location"])
        assert "was revoked" in after.text and "Photo Printer" not in after.text
        r = await c.get("/oauth1/userinfo")
        assert r.status_code == 401 and oauth_problem(r) == "token_revoked"
