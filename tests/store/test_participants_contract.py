"""Contract test of ``GrantStore.participants`` (every Store implementation): the clients
that took part in a user's sessions, for back-channel logout."""

from __future__ import annotations

import dataclasses

import pytest

from keystead.store.base import Store
from tests.store.test_contract import make_client, make_grant

pytestmark = pytest.mark.anyio


async def test_participants_by_session_and_user(store: Store) -> None:
    for client_id in ("rp-a", "rp-b", "rp-c"):
        await store.clients.add(make_client(client_id))
    grants = [
        ("g1", "rp-a", "sub-1", "sid-1"),
        ("g2", "rp-a", "sub-1", "sid-1"),  # a second grant of one client: one participant
        ("g3", "rp-b", "sub-1", "sid-1"),
        ("g4", "rp-b", "sub-1", "sid-2"),
        ("g5", "rp-c", "sub-1", None),  # no session (e.g. a device flow)
        ("g6", "rp-c", "sub-2", "sid-1"),  # another user: never theirs
    ]
    for grant_id, client_id, sub, sid in grants:
        grant = dataclasses.replace(make_grant(grant_id, client_id), sub=sub, sid=sid)
        await store.grants.add_grant(grant)
    await store.grants.revoke_grant("g3", 20)  # revoked grants took part all the same
    participants = store.grants.participants
    assert await participants("sub-1", ["sid-1"]) == [("rp-a", "sid-1"), ("rp-b", "sid-1")]
    assert await participants("sub-1", ["sid-2", "sid-9"]) == [("rp-b", "sid-2")]
    assert await participants("sub-1", []) == []
    assert await participants("sub-1") == [
        ("rp-a", "sid-1"),
        ("rp-b", "sid-1"),
        ("rp-b", "sid-2"),
        ("rp-c", None),
    ]
    assert await participants("sub-2") == [("rp-c", "sid-1")]
    assert await participants("sub-9") == []
