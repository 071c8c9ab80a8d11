"""Errors a developer can solve: error_uri, /errors pages, friendly error pages, the events
table behind `keystead explain`, and no secret anywhere in what errors say."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import anyio
import pytest

from keystead import events
from keystead.errors import CATALOG
from tests.e2e.conftest import PASSWORD, REDIRECT_URI, Browser, Env, query_of
from tests.e2e.test_authorize_errors import auth_url
from tests.e2e.test_token import get_code, redeem

pytestmark = pytest.mark.anyio


async def test_error_uri_in_token_errors_and_its_page(env: Env) -> None:
    async with env.client() as http:
        r = await http.post("/token", data={"grant_type": "password"})
        body = r.json()
        assert body["error_uri"] == env.settings.issuer + "/errors/grant-type-unsupported"
        page = await http.get(body["error_uri"].removeprefix(env.settings.issuer))
        assert page.status_code == 200 and "unsupported_grant_type" in page.text
        assert page.headers["x-frame-options"] == "DENY"
        as_json = await http.get(
            "/errors/grant-type-unsupported", headers={"accept": "application/json"}
        )
        assert as_json.json()["fixes"]
        index = await http.get("/errors")
        for entry_id in CATALOG:
            assert f"/errors/{entry_id}" in index.text
        assert (await http.get("/errors/nope")).status_code == 404


async def test_error_uri_in_redirected_errors(env: Env) -> None:
    client_id, _ = await env.add_client()
    async with env.client() as http:
        r = await http.get(auth_url(client_id, prompt="none"))
    params = query_of(r.headers["location"])
    assert params["error_uri"].endswith("/errors/login-required")


async def test_error_page_details_only_in_dev_mode(env: Env) -> None:
    async with env.client() as http:
        r = await http.get(auth_url("ghost-client"))
        assert "Developer details" not in r.text
        assert "not registered here" in r.text  # plain words for the person
        cid = r.headers["x-correlation-id"]
        assert cid in r.text
        env.provider.settings.dev_mode = True
        dev = await http.get(auth_url("ghost-client"))
    assert "Developer details" in dev.text and "ghost-client" in dev.text


async def test_method_not_allowed_is_an_oauth_error(env: Env) -> None:
    async with env.client() as http:
        r = await http.get("/token")
    # OPTIONS: the CORS preflight (web/cors.py); Starlette's order is a set's
    assert r.status_code == 405 and set(r.headers["allow"].split(", ")) == {"POST", "OPTIONS"}
    assert r.json()["error"] == "invalid_request"


def run_cli(env: Env, *args: str) -> subprocess.CompletedProcess[str]:
    environ = {
        **os.environ,
        "KEYSTEAD_DATA_DIR": str(env.settings.data_dir),
        "KEYSTEAD_ISSUER": env.settings.issuer,
    }
    return subprocess.run(
        [sys.executable, "-m", "keystead", *args],
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def test_explain_a_correlation_id(env: Env) -> None:
    await env.add_user()
    client_id, secret = await env.add_client()
    code, verifier = await get_code(env, client_id)
    await redeem(env, code, client_id, secret, expect=200, verifier=verifier)
    async with env.client() as http:
        r = await http.post(
            "/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": REDIRECT_URI,
                "code_verifier": verifier,
            },
            auth=(client_id, secret),
        )
    cid = r.headers["x-correlation-id"]
    await env.provider.recorder.flush()
    events = await env.provider.store.events.by_correlation_id(cid)
    assert [e.name for e in events] == ["code.replayed", "request.refused"]
    out = await anyio.to_thread.run_sync(run_cli, env, "explain", cid)
    assert out.returncode == 0, out.stderr
    assert "code-replayed" in out.stdout and "tokens from the first redemption" in out.stdout
    as_json = json.loads(
        (await anyio.to_thread.run_sync(run_cli, env, "explain", cid, "--json")).stdout
    )
    assert as_json["events"][1]["data"]["endpoint"] == "/token"
    by_code = await anyio.to_thread.run_sync(run_cli, env, "explain", "invalid_grant")
    assert "code-expired" in by_code.stdout and "pkce-verifier-mismatch" in by_code.stdout
    assert "redeemed twice" in out.stdout  # each event's meaning (event_catalog.py)
    by_event = await anyio.to_thread.run_sync(run_cli, env, "explain", "mfa.recovery_code_used")
    assert by_event.returncode == 0 and "account page says so" in by_event.stdout
    unknown = await anyio.to_thread.run_sync(run_cli, env, "explain", "zzz")
    assert unknown.returncode == 1 and "neither" in unknown.stderr


async def test_no_secret_in_errors_or_events(env: Env) -> None:
    await env.add_user()
    client_id, secret = await env.add_client()
    assert secret is not None
    code, verifier = await get_code(env, client_id)
    tokens = await redeem(env, code, client_id, secret, expect=200, verifier=verifier)
    said: list[str] = []
    async with env.client() as http:
        for auth in ((client_id, secret + "x"), (client_id, secret)):
            r = await http.post(
                "/token",
                data={
                    "grant_type": "authorization_code",
                    "code": code,
                    "redirect_uri": REDIRECT_URI,
                    "code_verifier": verifier,
                },
                auth=auth,
            )
            said.append(r.text)
        r = await http.get(
            "/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}x"}
        )
        said.append(r.text + r.headers["www-authenticate"])
        browser = Browser(http)
        page = await browser.open(auth_url(client_id))
        said.append((await browser.login(page, "alice", PASSWORD + "!")).text)
    await env.provider.recorder.flush()
    events = await env.provider.store.events.recent(1000)
    names = {e.name for e in events}
    assert {"request.refused", "code.replayed", "login.failed"} <= names
    said.append(json.dumps([e.data for e in events]))
    blob = "\n".join(said)
    for value in (secret, code, verifier, tokens["access_token"], tokens["id_token"], PASSWORD):
        assert value not in blob


async def test_inspect_cli_on_a_real_id_token(env: Env) -> None:
    await env.add_user()
    client_id, secret = await env.add_client()
    code, verifier = await get_code(env, client_id)
    tokens = await redeem(env, code, client_id, secret, expect=200, verifier=verifier)
    await env.provider.recorder.flush()
    ok = await anyio.to_thread.run_sync(
        run_cli, env, "inspect", tokens["id_token"], "--audience", client_id
    )
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "[ok] signature" in ok.stdout and "auth_time" in ok.stdout
    wrong = await anyio.to_thread.run_sync(
        run_cli, env, "inspect", tokens["id_token"], "--audience", "someone-else", "--json"
    )
    assert wrong.returncode == 1
    assert json.loads(wrong.stdout)["ok"] is False


async def test_a_flood_of_refused_requests_stores_little(env: Env) -> None:
    """300 requests, each with a 60 KB grant_type (issue 18 #2: 56 MB in under a second)."""
    async with env.client() as http:
        for _ in range(300):
            r = await http.post("/token", data={"grant_type": "g" * 60_000})
            assert r.status_code == 400
    env.provider.events.summarize_repeats()
    await env.provider.recorder.flush()
    stored = await env.provider.store.events.recent(1000)
    size = sum(len(json.dumps(e.data)) for e in stored)
    assert len(stored) <= events.REPEATS_KEPT + 1 and size < 5_000
    assert stored[0].name == "request.refused.repeated"
    assert stored[0].data["count"] == 300 - events.REPEATS_KEPT
