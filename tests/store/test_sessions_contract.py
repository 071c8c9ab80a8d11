"""Contract tests (every Store implementation) of what the user's "where you're signed in"
and "apps with access" lists read and change: a session's device, a user's active grants
newest first, a consent forgotten."""

from __future__ import annotations

import dataclasses

import pytest

from keystead.store.base import Consent, Grant, Store
from tests.store.test_contract import make_client, make_session

pytestmark = pytest.mark.anyio


async def test_a_session_keeps_its_device_and_address(store: Store) -> None:
    ua = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
    session = dataclasses.replace(make_session(), user_agent=ua, ip="2001:db8::1")
    await store.sessions.add(session)
    assert await store.sessions.get(session.session_hash) == session
    assert await store.sessions.list_for("sub-1") == [session]
    bare = dataclasses.replace(make_session("cookie-2"), sid="sid-2", created_at=9)
    await store.sessions.add(bare)
    found = await store.sessions.get(bare.session_hash)
    assert found is not None and found.user_agent is None and found.ip is None
    assert [s.sid for s in await store.sessions.list_for("sub-1")] == ["sid-2", "sid-1"]


def grant(grant_id: str, created_at: int, sub: str = "sub-1", client: str = "client-1") -> Grant:
    return Grant(grant_id, client, sub, "openid email", created_at)


async def test_grants_list_for_is_the_users_active_grants_newest_first(store: Store) -> None:
    await store.clients.add(make_client())
    await store.clients.add(make_client("client-2"))
    assert await store.grants.list_for("sub-1") == []
    await store.grants.add_grant(grant("g-old", 10))
    await store.grants.add_grant(grant("g-new", 30, client="client-2"))
    await store.grants.add_grant(grant("g-mid", 20))
    await store.grants.add_grant(grant("g-revoked", 40))
    await store.grants.add_grant(grant("g-bob", 50, sub="sub-2"))
    await store.grants.revoke_grant("g-revoked", 45)

    found = await store.grants.list_for("sub-1")
    assert [g.grant_id for g in found] == ["g-new", "g-mid", "g-old"]
    assert found[0] == grant("g-new", 30, client="client-2")
    assert [g.grant_id for g in await store.grants.list_for("sub-2")] == ["g-bob"]
    assert await store.grants.list_for("sub-3") == []


async def test_consent_delete_forgets_one_client_of_one_user(store: Store) -> None:
    await store.clients.add(make_client())
    await store.clients.add(make_client("client-2"))
    for sub, client_id in (("sub-1", "client-1"), ("sub-1", "client-2"), ("sub-2", "client-1")):
        await store.consents.put(Consent(sub, client_id, "openid", 10))

    assert await store.consents.delete("sub-1", "client-1") is True
    assert await store.consents.get("sub-1", "client-1") is None
    assert await store.consents.delete("sub-1", "client-1") is False  # twice: nothing left
    assert await store.consents.get("sub-1", "client-2") is not None
    assert await store.consents.get("sub-2", "client-1") is not None
    assert await store.consents.delete("sub-1", "unknown") is False
