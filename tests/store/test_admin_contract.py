"""Store contract for administration and client authentication: replacing clients, users and
APIs, deleting users, and the markers (assertion jti replay cache, initial access tokens)."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from keystead.store.base import Api, Consent, DuplicateError, Grant, Session, Store

from .test_contract import h, make_client, make_user

pytestmark = pytest.mark.anyio


async def test_update_client_replaces_everything_but_id_and_created_at(store: Store) -> None:
    client = make_client()
    await store.clients.add(client)
    changed = dataclasses.replace(
        client,
        client_name="Renamed",
        redirect_uris=("https://new.example/cb",),
        token_endpoint_auth_method="private_key_jwt",
        client_secret_hash=None,
        created_at=999,
        extra={"jwks_uri": "https://new.example/jwks"},
    )
    assert await store.clients.update(changed)
    got = await store.clients.get(client.client_id)
    assert got == dataclasses.replace(changed, created_at=client.created_at)


async def test_update_unknown_client(store: Store) -> None:
    assert not await store.clients.update(make_client("nobody"))
    assert await store.clients.get("nobody") is None


async def test_update_user(store: Store) -> None:
    user = make_user()
    await store.users.add(user)
    await store.users.add(make_user("sub-2", "bob"))
    renamed = dataclasses.replace(user, username="alice2", email=None, updated_at=500)
    assert await store.users.update(renamed)
    assert await store.users.get_by_username("alice") is None
    assert (await store.users.get_by_username("alice2")) == renamed
    with pytest.raises(DuplicateError):
        await store.users.update(dataclasses.replace(renamed, username="bob"))
    assert (await store.users.get("sub-1")) == renamed
    assert not await store.users.update(make_user("sub-9", "zed"))


async def test_delete_user_takes_sessions_and_consents_and_revokes_grants(store: Store) -> None:
    await store.clients.add(make_client())
    await store.users.add(make_user())
    await store.users.add(make_user("sub-2", "bob"))
    for sub in ("sub-1", "sub-2"):
        await store.sessions.add(Session(h(f"s-{sub}"), f"sid-{sub}", sub, 10, 10, 10, 10_000))
        await store.consents.put(Consent(sub, "client-1", "openid", 10))
        await store.grants.add_grant(Grant(f"g-{sub}", "client-1", sub, "openid", 10))
    assert await store.users.delete("sub-1", 50)
    assert await store.users.get("sub-1") is None
    assert await store.users.get_by_username("alice") is None
    assert await store.sessions.get(h("s-sub-1")) is None
    assert await store.consents.get("sub-1", "client-1") is None
    # bob keeps everything
    assert await store.sessions.get(h("s-sub-2")) is not None
    assert await store.consents.get("sub-2", "client-1") is not None
    assert not await store.users.delete("sub-1", 60)
    # the username is free again
    await store.users.add(make_user("sub-3", "alice"))


async def test_delete_user_revokes_grants(store: Store) -> None:
    from keystead.store.base import AccessToken

    await store.clients.add(make_client())
    await store.users.add(make_user())
    await store.grants.add_grant(Grant("g-1", "client-1", "sub-1", "openid", 10))
    await store.grants.add_access_token(
        AccessToken(h("at"), "g-1", "client-1", "sub-1", "openid", 10_000, 10)
    )
    await store.users.delete("sub-1", 50)
    found = await store.grants.get_access_token(h("at"))
    assert found is not None and found[1].revoked_at == 50


def make_api(api_id: str = "api-1", identifier: str = "https://api.example") -> Api:
    return Api(api_id, identifier, "API", (("read", "Read"),), "jwt", 600, 100)


async def test_update_api(store: Store) -> None:
    await store.apis.add(make_api())
    await store.apis.add(make_api("api-2", "https://two.example"))
    changed = dataclasses.replace(
        make_api(), identifier="https://moved.example", scopes=(("write", "Write"),)
    )
    assert await store.apis.update(changed)
    assert await store.apis.get("api-1") == changed
    assert await store.apis.get_by_identifier("https://moved.example") == changed
    assert await store.apis.get_by_identifier("https://api.example") is None
    with pytest.raises(DuplicateError):
        await store.apis.update(dataclasses.replace(changed, identifier="https://two.example"))
    assert not await store.apis.update(make_api("api-9", "https://nine.example"))


async def test_markers_add_once(store: Store) -> None:
    assert await store.markers.add("jti:a", 100, 10)
    assert not await store.markers.add("jti:a", 200, 20)
    assert await store.markers.get("jti:a", 20) == 100
    # expired: as if absent, and may be stored again
    assert await store.markers.get("jti:a", 100) is None
    assert await store.markers.add("jti:a", 300, 100)
    assert await store.markers.get("jti:a", 150) == 300


async def test_markers_add_is_atomic(store: Store) -> None:
    results = await asyncio.gather(*(store.markers.add("jti:race", 100, 10) for _ in range(8)))
    assert results.count(True) == 1


async def test_markers_take(store: Store) -> None:
    await store.markers.add("iat:once:x", 100, 10)
    assert await store.markers.take("iat:once:x", 20)
    assert not await store.markers.take("iat:once:x", 20)
    await store.markers.add("iat:once:y", 100, 10)
    assert not await store.markers.take("iat:once:y", 100)  # expired


async def test_markers_purge(store: Store) -> None:
    await store.markers.add("a", 100, 10)
    await store.markers.add("b", 200, 10)
    assert await store.markers.purge(150) == 1
    assert await store.markers.get("b", 150) == 200


async def test_purges_run_in_batches_until_nothing_is_left(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    # SQL stores delete PURGE_BATCH rows per transaction; more expired rows than one batch
    # (and a count that is a multiple of it) must all go, and the live row must stay.
    from keystead.store.sql import concern

    monkeypatch.setattr(concern, "PURGE_BATCH", 2)
    for i in range(4):
        await store.markers.add(f"old-{i}", 100, 10)
    await store.markers.add("live", 500, 10)
    assert await store.markers.purge(150) == 4
    assert await store.markers.get("live", 150) == 500
    for i in range(5):
        await store.markers.add(f"older-{i}", 120, 10)
    assert await store.markers.purge(150) == 5
