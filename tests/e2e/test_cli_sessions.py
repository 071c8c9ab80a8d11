"""keystead user sessions / user logout through the real command line on a temporary data
dir: the sessions a user signed in with are listed (device, address, amr), one is ended by
sid, then all; an unknown user or a sid of another user is refused naming the argument."""

from __future__ import annotations

import json
from typing import Any

import anyio

from keystead.accounts.sessions import create_session
from keystead.bootstrap import open_provider
from keystead.config import Settings
from keystead.store.base import Session

FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"


def sign_in(sub: str, user_agent: str | None, ip: str | None) -> Session:
    async def work() -> Session:
        provider = await open_provider(Settings())
        try:
            user = await provider.store.users.get(sub)
            assert user is not None
            _, session = await create_session(provider, user, user_agent=user_agent, ip=ip)
            return session
        finally:
            await provider.close()

    return anyio.run(work)


def test_list_end_one_then_all(run: Any) -> None:
    alice = run("user", "create", "alice", "--password-stdin", stdin="long enough pw\n")
    bob = run("user", "create", "bob", "--password-stdin", stdin="long enough pw\n")
    assert run("user", "sessions", "alice")["sessions"] == []
    first = sign_in(alice["sub"], FIREFOX, "198.51.100.4")
    second = sign_in(alice["sub"], "curl/8.5.0", None)
    bobs = sign_in(bob["sub"], None, None)

    listed = run("user", "sessions", "alice")
    assert listed["sub"] == alice["sub"]
    assert {s["sid"] for s in listed["sessions"]} == {first.sid, second.sid}
    by_sid = {s["sid"]: s for s in listed["sessions"]}
    assert by_sid[first.sid]["device"] == "Firefox on Windows"
    assert by_sid[first.sid]["ip"] == "198.51.100.4" and by_sid[first.sid]["amr"] == ["pwd"]
    assert by_sid[second.sid]["device"] == "curl" and by_sid[second.sid]["ip"] is None
    assert first.session_hash not in json.dumps(listed)  # never the cookie's hash
    human = run("user", "sessions", "alice", as_json=False)
    assert first.sid in human and "Firefox on Windows" in human and "198.51.100.4" in human

    ended = run("user", "logout", "alice", "--session", first.sid)
    assert ended["ended"] == 1 and ended["sid"] == first.sid
    assert [s["sid"] for s in run("user", "sessions", "alice")["sessions"]] == [second.sid]
    refused = run("user", "logout", "alice", "--session", bobs.sid, ok=False)
    assert "--session" in refused  # bob's session is not alice's
    assert [s["sid"] for s in run("user", "sessions", "bob")["sessions"]] == [bobs.sid]

    assert run("user", "logout", "alice")["ended"] == 1
    assert run("user", "sessions", "alice")["sessions"] == []
    assert "ended 0 session(s) of alice" in run("user", "logout", "alice", as_json=False)
    assert "USERNAME" in run("user", "sessions", "nobody", ok=False)
    assert "USERNAME" in run("user", "logout", "nobody", ok=False)
