"""Contract tests of the federation stores (issue 22) on every Store implementation: a
connection's name is unique, its identities are unique per (connection, upstream sub) and go
with their user and their connection."""

from __future__ import annotations

import dataclasses

import pytest

from keystead.store.base import DuplicateError, Store, User
from keystead.store.connections import Connection, FederatedIdentity

pytestmark = pytest.mark.anyio

ALICE = User("sub-alice", "alice", "x")
BOB = User("sub-bob", "bob", "x")


def connection(connection_id: str = "c-1", name: str = "acme") -> Connection:
    return Connection(
        connection_id, name, "Acme", "oidc", "https://idp.example", "rp", "sealed", created_at=5
    )


def identity(
    upstream_sub: str = "u-1", sub: str = ALICE.sub, cid: str = "c-1"
) -> FederatedIdentity:
    return FederatedIdentity(cid, upstream_sub, sub, "a@example.com", created_at=10)


async def test_connections_add_get_list_update_delete(store: Store) -> None:
    first, second = connection("c-1", "zeta"), connection("c-2", "alpha")
    await store.connections.add(first)
    await store.connections.add(second)
    assert await store.connections.get("c-1") == first
    assert await store.connections.get("nope") is None
    assert await store.connections.get_by_name("alpha") == second
    assert await store.connections.get_by_name("nope") is None
    assert [c.name for c in await store.connections.list()] == ["alpha", "zeta"]
    with pytest.raises(DuplicateError):  # the name is unique
        await store.connections.add(connection("c-3", "zeta"))
    with pytest.raises(DuplicateError):
        await store.connections.add(connection("c-1", "other"))
    changed = dataclasses.replace(first, display_name="Zeta Corp", enabled=False, updated_at=9)
    assert await store.connections.update(changed)
    assert await store.connections.get("c-1") == changed
    assert not await store.connections.update(connection("c-9", "ghost"))
    with pytest.raises(DuplicateError):  # renaming onto another connection's name
        await store.connections.update(dataclasses.replace(first, name="alpha"))
    assert await store.connections.delete("c-2")
    assert not await store.connections.delete("c-2")
    assert [c.name for c in await store.connections.list()] == ["zeta"]


async def test_identities_link_find_touch_unlink(store: Store) -> None:
    await store.users.add(ALICE)
    await store.users.add(BOB)
    await store.connections.add(connection())
    await store.connections.add(connection("c-2", "other"))
    first = identity()
    await store.federated_identities.link(first)
    assert await store.federated_identities.find("c-1", "u-1") == first
    assert await store.federated_identities.find("c-1", "u-2") is None
    assert await store.federated_identities.find("c-2", "u-1") is None
    with pytest.raises(DuplicateError):  # one upstream identity, one local user
        await store.federated_identities.link(identity(sub=BOB.sub))
    with pytest.raises(LookupError):  # no such user
        await store.federated_identities.link(identity("u-9", sub="sub-ghost"))
    with pytest.raises(LookupError):  # no such connection
        await store.federated_identities.link(identity("u-9", cid="c-ghost"))
    later = dataclasses.replace(identity("u-1", cid="c-2"), created_at=20)
    await store.federated_identities.link(later)
    assert await store.federated_identities.for_user(ALICE.sub) == [first, later]
    assert await store.federated_identities.for_user(BOB.sub) == []
    await store.federated_identities.touch("c-1", "u-1", 99)
    touched = await store.federated_identities.find("c-1", "u-1")
    assert touched is not None and touched.last_login_at == 99
    assert await store.federated_identities.unlink(ALICE.sub, "c-1")
    assert not await store.federated_identities.unlink(ALICE.sub, "c-1")
    assert not await store.federated_identities.unlink(BOB.sub, "c-2")  # not Bob's
    assert await store.federated_identities.for_user(ALICE.sub) == [later]


async def test_identities_go_with_their_user_and_connection(store: Store) -> None:
    await store.users.add(ALICE)
    await store.users.add(BOB)
    await store.connections.add(connection())
    await store.connections.add(connection("c-2", "other"))
    await store.federated_identities.link(identity("u-a"))
    await store.federated_identities.link(identity("u-b", sub=BOB.sub))
    await store.federated_identities.link(identity("u-b2", sub=BOB.sub, cid="c-2"))
    assert await store.users.delete(ALICE.sub, 50)
    assert await store.federated_identities.find("c-1", "u-a") is None
    assert await store.connections.delete("c-1")
    assert await store.federated_identities.find("c-1", "u-b") is None
    assert [i.upstream_sub for i in await store.federated_identities.for_user(BOB.sub)] == ["u-b2"]
