"""/admin/api/users/{sub}/sessions over HTTP: a user signed in from two browsers is listed
with each device and address; one session ended by sid signs that browser out; all of them
next. 401 without a token, 403 with a token lacking keystead:admin, 404 for an unknown sub
or a sid of another user."""

from __future__ import annotations

import pytest

from keystead.events import Event
from tests.e2e.conftest import Browser, Env
from tests.e2e.test_account_page import sign_in
from tests.e2e.test_account_sessions import FIREFOX, IPHONE
from tests.e2e.test_admin_api import ADMIN, admin, admin_token

pytestmark = pytest.mark.anyio


async def test_list_end_one_then_all(env: Env) -> None:
    sub = await env.add_user()
    bob = await env.add_user("bob")
    token = await admin_token(env)
    recorded: list[Event] = []
    env.provider.events.subscribers.append(recorded.append)
    async with (
        env.client(headers={"user-agent": FIREFOX}) as laptop,
        env.client(headers={"user-agent": IPHONE}) as phone,
        env.client() as bobs,
        admin(env, token) as api,
    ):
        await sign_in(env, Browser(laptop))
        env.clock.now += 5
        await sign_in(env, Browser(phone))
        await sign_in(env, Browser(bobs), username="bob")

        r = await api.get(f"{ADMIN}/users/{sub}/sessions")
        assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
        listed = r.json()
        assert listed["sub"] == sub
        assert [s["device"] for s in listed["sessions"]] == ["Safari on iOS", "Firefox on Linux"]
        assert {s["ip"] for s in listed["sessions"]} == {"203.0.113.7"}
        assert listed["sessions"][0]["user_agent"] == IPHONE
        phone_sid, laptop_sid = (s["sid"] for s in listed["sessions"])
        (bob_session,) = await env.provider.store.sessions.list_for(bob)

        assert (await api.delete(f"{ADMIN}/users/{sub}/sessions/{phone_sid}")).status_code == 204
        assert (await phone.get("/account")).status_code == 303  # signed out
        assert (await laptop.get("/account")).status_code == 200
        ended = [e for e in recorded if e.name == "session.ended"]
        assert [(e.data["sid"], e.data["channel"]) for e in ended] == [(phone_sid, "admin_api")]
        again = await api.delete(f"{ADMIN}/users/{sub}/sessions/{phone_sid}")
        assert again.status_code == 404 and again.json()["error"]
        # bob's sid under alice's sub is as unknown as a made-up one
        r = await api.delete(f"{ADMIN}/users/{sub}/sessions/{bob_session.sid}")
        assert r.status_code == 404
        assert (await bobs.get("/account")).status_code == 200

        r = await api.delete(f"{ADMIN}/users/{sub}/sessions")
        assert r.status_code == 200 and r.json() == {"sub": sub, "ended": 1}
        assert (await laptop.get("/account")).status_code == 303
        assert (await api.get(f"{ADMIN}/users/{sub}/sessions")).json()["sessions"] == []
        assert laptop_sid in {e.data["sid"] for e in recorded if e.name == "session.ended"}
        assert (await bobs.get("/account")).status_code == 200  # only alice's


async def test_unknown_user_and_who_may_call(env: Env) -> None:
    sub = await env.add_user()
    token = await admin_token(env)
    async with admin(env, token) as api:
        for method, path in (
            ("GET", "/users/nobody/sessions"),
            ("DELETE", "/users/nobody/sessions"),
            ("DELETE", "/users/nobody/sessions/some-sid"),
            ("DELETE", f"/users/{sub}/sessions/some-sid"),
        ):
            r = await api.request(method, ADMIN + path)
            assert r.status_code == 404, (method, path, r.text)
    async with admin(env, None) as anonymous:
        r = await anonymous.get(f"{ADMIN}/users/{sub}/sessions")
        assert r.status_code == 401
        r = await anonymous.delete(f"{ADMIN}/users/{sub}/sessions")
        assert r.status_code == 401
    from keystead.services.apis import ApiSpec, create_api

    await create_api(
        env.provider.store, ApiSpec("https://api.example", "API", [("read", "R")]), env.clock()
    )
    env.provider.forget_apis()
    other = await admin_token(env, scope="read")
    async with admin(env, other) as api:
        r = await api.delete(f"{ADMIN}/users/{sub}/sessions")
        assert r.status_code in (401, 403)


async def test_openapi_documents_the_session_operations(env: Env) -> None:
    async with env.client() as http:
        paths = (await http.get(f"{ADMIN}/openapi.json")).json()["paths"]
    assert set(paths["/users/{sub}/sessions"]) == {"get", "delete"}
    item = paths["/users/{sub}/sessions/{sid}"]["delete"]
    assert [p["name"] for p in item["parameters"]] == ["sub", "sid"]
    assert "204" in item["responses"] and "404" in item["responses"]
