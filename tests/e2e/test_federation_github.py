"""Sign-in with GitHub (the ``--preset github`` connection) end to end against the stand-in of
GitHub's OAuth app endpoints and REST API (tests/e2e/upstream.py, GitHub Enterprise Server
layout on loopback): a JIT user with GitHub's verified primary address, a returning user, an
unverified primary address that never links to the local account that has it, and the user
pressing "Cancel" at GitHub."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from authlib.integrations.httpx_client import AsyncOAuth2Client

from keystead.services import connections as connection_service
from tests.e2e.conftest import ISSUER, Env, make_env, query_of
from tests.e2e.test_federation import (
    CLI,
    browser_for,
    button,
    finish_downstream,
    first_party,
    rp_for,
)
from tests.e2e.upstream import GitHubStandIn

pytestmark = pytest.mark.anyio

CALLBACK = f"{ISSUER}/federation/github/callback"


@pytest.fixture
async def gh(tmp_path: Path) -> AsyncIterator[tuple[Env, GitHubStandIn]]:
    env = await make_env(tmp_path, allow_private_network_fetch=True)
    with GitHubStandIn(redirect_uri=CALLBACK) as github:
        spec = connection_service.ConnectionSpec(
            name="github",
            client_id=github.client_id,
            issuer=github.base_url,  # GitHub Enterprise Server layout: {base}/api/v3
            kind="github",
            link_by_verified_email=True,
        )
        await connection_service.create(env.provider, spec, github.client_secret, CLI)
        yield env, github
    await env.provider.close()


async def via_github(
    env: Env, http: httpx.AsyncClient, client_id: str, secret: str | None
) -> tuple[AsyncOAuth2Client, httpx.Response, str]:
    rp = rp_for(env, client_id, secret)
    verifier = "v" * 43
    url, _ = rp.create_authorization_url(
        f"{ISSUER}/authorize", code_verifier=verifier, nonce="downstream-nonce"
    )
    page = await http.get(url)
    assert "Continue with GitHub" in page.text, page.text[:600]
    start = await http.post("/federation/start", data=button(page, "github"))
    assert start.status_code == 303
    to_github = start.headers["location"]
    assert to_github.startswith(env.settings.issuer) is False
    params = query_of(to_github)
    assert params["code_challenge_method"] == "S256" and params["state"]
    assert params["redirect_uri"] == CALLBACK
    at_github = await http.get(to_github)  # the stand-in approves at once
    assert at_github.status_code in (302, 303), at_github.text[:300]
    back = at_github.headers["location"]
    assert back.startswith(CALLBACK + "?")
    return rp, await http.get(back), verifier


async def test_github_jit_then_again(gh: tuple[Env, GitHubStandIn]) -> None:
    env, github = gh
    client_id, secret = await first_party(env)
    github.signed_in = "octocat"
    async with browser_for(env) as http:
        rp, done, verifier = await via_github(env, http, client_id, secret)
        claims = await finish_downstream(env, rp, done, verifier)
        info = (await rp.get(f"{ISSUER}/userinfo")).json()
    assert info["email"] == "octocat@example.com" and info["email_verified"] is True
    assert info["name"] == "The Octocat" and claims["sub"] != "1"
    [identity] = await env.provider.store.federated_identities.for_user(claims["sub"])
    assert identity.upstream_sub == "1"  # GitHub's numeric user id, as a string
    assert ("GET", "/api/v3/user/emails") in github.requests
    async with browser_for(env) as http:
        rp, done, verifier = await via_github(env, http, client_id, secret)
        assert (await finish_downstream(env, rp, done, verifier))["sub"] == claims["sub"]


async def test_unverified_primary_never_links(gh: tuple[Env, GitHubStandIn]) -> None:
    env, github = gh
    alice = await env.add_user(email_verified=True)
    user = await env.provider.store.users.get(alice)
    assert user is not None
    await env.provider.store.users.update(replace(user, email="mona@example.com"))
    client_id, secret = await first_party(env)
    github.signed_in = "mona"  # primary mona@example.com NOT verified at GitHub
    async with browser_for(env) as http:
        _, page, _ = await via_github(env, http, client_id, secret)
    # GitHub did not verify mona@example.com: the identity carries no verified address, so
    # it neither links to alice nor signs in as her; the link page asks for her password.
    assert page.status_code == 200 and "You have an account here" in page.text
    assert "did not confirm that this address is yours" in page.text
    assert await env.provider.store.federated_identities.for_user(alice) == []
    assert "keystead_session" not in http.cookies


async def test_cancel_at_github(gh: tuple[Env, GitHubStandIn]) -> None:
    env, github = gh
    client_id, secret = await first_party(env)
    github.deny = True
    async with browser_for(env) as http:
        _, page, _ = await via_github(env, http, client_id, secret)
    assert page.status_code in (400, 403, 502) and 'name="password"' in page.text
    assert "keystead_session" not in http.cookies
