"""OpenID Connect Back-Channel Logout 1.0 end to end: an RP-initiated logout sends every
client of the session a Logout Token through the outbox, POSTed to a real HTTP receiver
(tests/e2e/logout_receiver.py) that checks it with keystead's /jwks; 5xx is retried, 4xx
gives up, and a private address is never contacted without the development setting."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from keystead.accounts.links import RESET, token_hash
from keystead.accounts.reset import complete_password_link
from keystead.events import Event
from keystead.jobs import HANDLERS
from keystead.outbox import Sender
from keystead.services import users
from keystead.services.clients import ClientSpec, create_client
from keystead.services.common import CLI, NotFound
from keystead.store.outbox import ActionToken
from tests.e2e.conftest import (
    PASSWORD,
    REDIRECT_URI,
    Browser,
    Env,
    form_fields,
    fragment_of,
    make_env,
)
from tests.e2e.logout_receiver import Receiver, check_logout_token
from tests.e2e.test_account_page import NEW_PASSWORD, follow
from tests.e2e.test_response_types import ALL_TYPES, front_channel, url_for

pytestmark = pytest.mark.anyio
AFTER = "https://rp.example.com/signed-out"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as running:
        yield running


@pytest.fixture
async def dev_env(tmp_path: Path) -> AsyncIterator[Env]:
    e = await make_env(tmp_path, allow_private_network_fetch=True)
    yield e
    await e.provider.close()


async def add_rp(env: Env, client_id: str, uri: str, **extra: Any) -> str:
    spec = ClientSpec(
        client_name=f"RP {client_id}",
        client_id=client_id,
        redirect_uris=[REDIRECT_URI],
        response_types=ALL_TYPES,
        grant_types=["authorization_code", "implicit", "refresh_token"],
        scope="openid profile email",
        post_logout_redirect_uris=[AFTER],
    )
    metadata = {"backchannel_logout_uri": uri, **extra}
    await create_client(env.provider.store, spec, env.clock(), kek=env.provider.kek, extra=metadata)
    return client_id


def claims_of(jwt: str) -> dict[str, Any]:
    payload: dict[str, Any] = json.loads(base64.urlsafe_b64decode(jwt.split(".")[1] + "=="))
    return payload


async def sign_in_and_out(env: Env, *client_ids: str) -> dict[str, Any]:
    """Sign in to every client in one browser session, then log out at the first (RP-initiated,
    with its ID token as the hint); the ID token's claims."""
    async with env.client() as http:
        tokens = [
            (await front_channel(env, url_for(client_id, "id_token"), http))["id_token"]
            for client_id in client_ids
        ]
        sids = {claims_of(token)["sid"] for token in tokens}
        assert len(sids) == 1  # one session
        query = {"id_token_hint": tokens[0], "post_logout_redirect_uri": AFTER}
        r = await http.get("/logout?" + urlencode(query))
        assert r.status_code == 303 and r.headers["location"] == AFTER
        silent = await http.get(url_for(client_ids[0], "id_token", prompt="none"))
        assert fragment_of(silent.headers["location"])["error"] == "login_required"
    return claims_of(tokens[0])


async def jwks(env: Env) -> dict[str, Any]:
    async with env.client() as http:
        body: dict[str, Any] = (await http.get("/jwks")).json()
        return body


def watch(env: Env) -> list[Event]:
    seen: list[Event] = []
    env.provider.events.subscribers.append(seen.append)
    return seen


async def test_rp_initiated_logout_reaches_every_client_of_the_session(
    dev_env: Env, receiver: Receiver
) -> None:
    env = dev_env
    await env.add_user()
    a = await add_rp(env, "rp-a", receiver.uri("a"))
    b = await add_rp(env, "rp-b", receiver.uri("b"), backchannel_logout_session_required=True)
    await add_rp(env, "rp-c", receiver.uri("c"))  # not signed in to: nothing for it
    id_token = await sign_in_and_out(env, a, b)
    assert await Sender(env.provider, HANDLERS).run_once() == 2
    keys = await jwks(env)
    seen = {}
    for name, client_id in (("a", a), ("b", b)):
        [received] = [r for r in receiver.received if r.name == name]
        assert received.content_type == "application/x-www-form-urlencoded"
        claims = check_logout_token(
            received.token, keys, issuer=env.settings.issuer, client_id=client_id, now=env.clock()
        )
        assert claims["sid"] == id_token["sid"] and claims["sub"] == id_token["sub"]
        seen[name] = claims["jti"]
    assert len(set(seen.values())) == 2
    assert receiver.tokens("c") == []
    jobs = await env.provider.store.jobs.recent(10)
    assert len(jobs) == 2 and all(j.sent_at is not None for j in jobs)


async def test_a_5xx_is_retried_and_a_4xx_gives_up(dev_env: Env, receiver: Receiver) -> None:
    env = dev_env
    events = watch(env)
    await env.add_user()
    a = await add_rp(env, "rp-a", receiver.uri("flaky"))
    b = await add_rp(env, "rp-b", receiver.uri("refuses"))
    receiver.status.update(flaky=500, refuses=400)
    await sign_in_and_out(env, a, b)
    sender = Sender(env.provider, HANDLERS)
    assert await sender.run_once() == 2
    assert receiver.tokens("flaky", status=500) and receiver.tokens("refuses", status=400)
    assert await sender.run_once() == 0  # the retry waits for its time
    receiver.status["flaky"] = 200
    env.clock.now += 3600
    assert await sender.run_once() == 1  # only the 5xx comes back
    [token] = receiver.tokens("flaky")
    check_logout_token(token, await jwks(env), issuer=env.settings.issuer, client_id=a)
    assert len(receiver.tokens("refuses", status=400)) == 1  # never again
    names = [(e.name, e.data.get("reason", "")) for e in events if e.name.startswith("outbox.")]
    assert ("outbox.retried", "") in names and ("outbox.sent", "") in names
    [failed] = [reason for name, reason in names if name == "outbox.failed"]
    assert "HTTP 400" in failed
    assert any(e.name == "backchannel.queued" and e.data["jobs"] == 2 for e in events)


async def test_a_private_address_is_never_contacted_without_the_setting(
    env: Env, receiver: Receiver
) -> None:
    events = watch(env)
    await env.add_user()
    a = await add_rp(env, "rp-a", f"https://127.0.0.1:{receiver.port}/bc/a")
    b = await add_rp(env, "rp-b", f"https://localhost:{receiver.port}/bc/b")
    await sign_in_and_out(env, a, b)
    assert await Sender(env.provider, HANDLERS).run_once() == 2
    assert receiver.received == []
    failed = [e.data["reason"] for e in events if e.name == "outbox.failed"]
    assert len(failed) == 2 and all("loopback, private or special-use" in r for r in failed)
    jobs = await env.provider.store.jobs.recent(10)
    assert all(j.failed_at is not None and j.sent_at is None for j in jobs)


# --- the other ways sessions end: password reset, password change, account deletion ------


async def signed_in(env: Env, http: httpx.AsyncClient, client_id: str) -> str:
    """Sign in to ``client_id`` in this browser; the session's sid."""
    token = (await front_channel(env, url_for(client_id, "id_token"), http))["id_token"]
    sid: str = claims_of(token)["sid"]
    return sid


async def delivered(env: Env, receiver: Receiver, count: int) -> dict[str, list[dict[str, Any]]]:
    """Run the sender; the verified claims each client received, by receiver name."""
    assert await Sender(env.provider, HANDLERS).run_once() == count
    keys, by_name = await jwks(env), {}
    for r in receiver.received:
        claims = check_logout_token(
            r.token, keys, issuer=env.settings.issuer, client_id=f"rp-{r.name}"
        )
        by_name.setdefault(r.name, []).append(claims)
    return by_name


async def test_a_password_reset_logs_every_client_out(dev_env: Env, receiver: Receiver) -> None:
    env = dev_env
    sub = await env.add_user()
    await add_rp(env, "rp-a", receiver.uri("a"))
    await add_rp(env, "rp-b", receiver.uri("b"), backchannel_logout_session_required=True)
    async with env.client() as one, env.client() as two, env.client() as three:
        await signed_in(env, one, "rp-a")
        sid_two = await signed_in(env, two, "rp-b")
        sid_three = await signed_in(env, three, "rp-b")
    now = env.clock()
    await env.provider.store.action_tokens.add(
        ActionToken(token_hash("the-link"), RESET, sub, now, now + 600)
    )
    problem, errors, _ = await complete_password_link(
        env.provider, RESET, "the-link", NEW_PASSWORD, NEW_PASSWORD
    )
    assert problem == "" and errors == {}
    got = await delivered(env, receiver, 3)
    # rp-a: one token naming the user (all its sessions end); rp-b requires sid: one a session
    assert [("sid" in c, c["sub"]) for c in got["a"]] == [(False, sub)]
    assert sorted(c["sid"] for c in got["b"]) == sorted([sid_two, sid_three])


async def test_a_password_change_logs_out_the_other_sessions_only(
    dev_env: Env, receiver: Receiver
) -> None:
    env = dev_env
    await env.add_user()
    await add_rp(env, "rp-a", receiver.uri("a"))
    await add_rp(env, "rp-b", receiver.uri("b"))
    async with env.client() as other, env.client() as http:
        sid_other = await signed_in(env, other, "rp-a")
        sid_here = await signed_in(env, http, "rp-b")
        browser = Browser(http)
        account = await follow(browser, await browser.open("/account"))
        token = form_fields(account.text)["csrf_token"]
        data = {"csrf_token": token, "current_password": PASSWORD}
        data |= {"new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD}
        done = await http.post("/account/password", data=data)
        assert done.status_code == 303
    got = await delivered(env, receiver, 1)
    assert [c["sid"] for c in got["a"]] == [sid_other] and "b" not in got
    assert sid_here != sid_other


async def test_deleting_a_user_logs_every_client_out(dev_env: Env, receiver: Receiver) -> None:
    env = dev_env
    sub = await env.add_user()
    await add_rp(env, "rp-a", receiver.uri("a"))
    async with env.client() as http:
        await signed_in(env, http, "rp-a")
    await users.delete(env.provider, sub, CLI)
    got = await delivered(env, receiver, 1)
    assert [c["sub"] for c in got["a"]] == [sub]
    with pytest.raises(NotFound):  # a second time: nothing to delete, nothing queued
        await users.delete(env.provider, sub, CLI)
    assert len(await env.provider.store.jobs.recent(10)) == 1


async def test_the_account_page_signs_a_session_out_and_revokes_an_app(
    dev_env: Env, receiver: Receiver
) -> None:
    env = dev_env
    await env.add_user()
    await add_rp(env, "rp-a", receiver.uri("a"))
    await add_rp(env, "rp-b", receiver.uri("b"))
    async with env.client() as other, env.client() as http:
        sid_other = await signed_in(env, other, "rp-a")
        await signed_in(env, http, "rp-b")
        browser = Browser(http)
        account = await follow(browser, await browser.open("/account"))
        token = form_fields(account.text)["csrf_token"]
        ended = await http.post(
            "/account/sessions/end", data={"csrf_token": token, "sid": sid_other}
        )
        assert ended.status_code == 303
        got = await delivered(env, receiver, 1)
        assert [c["sid"] for c in got["a"]] == [sid_other] and "b" not in got
        receiver.received.clear()
        revoked = await http.post(
            "/account/apps/revoke", data={"csrf_token": token, "client_id": "rp-b"}
        )
        assert revoked.status_code == 303
        got = await delivered(env, receiver, 1)
        assert list(got) == ["b"]  # only the app whose access went
