"""Contract tests for the purge of expired rows (every Store implementation): the periodic
housekeeping deletes what can no longer be used, and nothing that still can."""

from __future__ import annotations

import dataclasses
import hashlib

import pytest

from keystead.store.base import (
    AccessToken,
    AuthorizationCode,
    Client,
    Grant,
    RefreshToken,
    Session,
    Store,
)

pytestmark = pytest.mark.anyio


def h(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


CLIENT = Client("client-1", "RP", ("https://rp.example/cb",), (), (), "openid", "none")


def grant(grant_id: str, created_at: int = 10, **fields: object) -> Grant:
    return dataclasses.replace(Grant(grant_id, "client-1", "sub-1", "openid", created_at), **fields)


def code(value: str, grant_id: str, expires_at: int) -> AuthorizationCode:
    return AuthorizationCode(
        h(value), grant_id, "client-1", "sub-1", "https://rp.example/cb", "openid", expires_at,
        expires_at - 60, 5,
    )  # fmt: skip


def access(value: str, grant_id: str, expires_at: int) -> AccessToken:
    return AccessToken(h(value), grant_id, "client-1", "sub-1", "openid", expires_at, 10)


def refresh(value: str, grant_id: str, expires_at: int, idle_expires_at: int) -> RefreshToken:
    return RefreshToken(
        h(value), grant_id, "client-1", "sub-1", "openid", 10, expires_at, idle_expires_at
    )


async def grant_ids(store: Store, *ids: str) -> set[str]:
    """Which of ``ids`` still exist (a grant exists when a code of it can be added)."""
    alive = set()
    for grant_id in ids:
        try:
            await store.grants.add_code(code(f"probe-{grant_id}", grant_id, 10**9))
        except LookupError:
            continue
        alive.add(grant_id)
    return alive


async def test_purge_deletes_expired_codes_and_access_tokens_only(store: Store) -> None:
    await store.clients.add(CLIENT)
    await store.grants.add_grant(grant("g"))
    await store.grants.add_code(code("old", "g", expires_at=99))
    await store.grants.add_code(code("new", "g", expires_at=100))
    await store.grants.add_access_token(access("old", "g", expires_at=99))
    await store.grants.add_access_token(access("new", "g", expires_at=100))
    consumed = await store.grants.consume_code(h("new"), now=50)

    assert await store.grants.purge_expired(before=100) == 2

    assert await store.grants.get_code(h("old")) is None
    assert await store.grants.get_code(h("new")) == consumed  # a late replay is still seen
    assert await store.grants.get_access_token(h("old")) is None
    assert await store.grants.get_access_token(h("new")) is not None
    assert await grant_ids(store, "g") == {"g"}
    assert await store.grants.purge_expired(before=100) == 0


async def test_purge_keeps_rotated_refresh_tokens_until_the_family_ends(store: Store) -> None:
    """A rotated token must stay while its family lives: presenting it again is a reuse."""
    await store.clients.add(CLIENT)
    await store.grants.add_grant(grant("g"))
    await store.grants.add_refresh_token(refresh("first", "g", 1000, idle_expires_at=50))
    successor = refresh("second", "g", 1000, idle_expires_at=500)
    assert await store.grants.rotate_refresh_token(h("first"), successor, "enc", now=40)

    assert await store.grants.purge_expired(before=400) == 0  # first idled out but rotated
    assert await store.grants.get_refresh_token(h("first")) is not None

    assert await store.grants.purge_expired(before=600) == 1  # the head idled out: gone
    assert await store.grants.get_refresh_token(h("second")) is None
    assert await store.grants.get_refresh_token(h("first")) is not None

    assert await store.grants.purge_expired(before=1001) == 2  # family over: token and grant
    assert await store.grants.get_refresh_token(h("first")) is None
    assert await grant_ids(store, "g") == set()


async def test_purge_deletes_revoked_expired_and_empty_grants(store: Store) -> None:
    await store.clients.add(CLIENT)
    await store.grants.add_grant(grant("revoked"))
    await store.grants.add_grant(grant("revoked-late"))
    await store.grants.add_grant(grant("expired", expires_at=90))
    await store.grants.add_grant(grant("empty"))
    await store.grants.add_grant(grant("young-empty", created_at=100))
    await store.grants.add_grant(grant("in-use"))
    for grant_id in ("revoked", "revoked-late", "expired", "in-use"):
        await store.grants.add_access_token(access(f"at-{grant_id}", grant_id, 5000))
    await store.grants.add_refresh_token(refresh("rt-revoked", "revoked", 5000, 5000))
    await store.grants.revoke_grant("revoked", now=50)
    await store.grants.revoke_grant("revoked-late", now=100)

    assert await store.grants.purge_expired(before=100) == 3

    alive = {"revoked-late", "young-empty", "in-use"}
    assert await grant_ids(store, "revoked", "expired", "empty", *alive) == alive
    # Everything issued under a deleted grant went with it.
    assert await store.grants.get_access_token(h("at-revoked")) is None
    assert await store.grants.get_refresh_token(h("rt-revoked")) is None
    assert await store.grants.get_access_token(h("at-expired")) is None
    assert await store.grants.get_access_token(h("at-in-use")) is not None


async def test_purge_sessions(store: Store) -> None:
    def session(value: str, last_active_at: int, expires_at: int) -> Session:
        return Session(h(value), f"sid-{value}", "sub-1", 5, 5, last_active_at, expires_at)

    await store.sessions.add(session("expired", last_active_at=95, expires_at=99))
    await store.sessions.add(session("idle", last_active_at=39, expires_at=1000))
    await store.sessions.add(session("live", last_active_at=40, expires_at=100))

    assert await store.sessions.purge_expired(before=100, idle_before=40) == 2

    assert await store.sessions.get(h("expired")) is None
    assert await store.sessions.get(h("idle")) is None
    assert await store.sessions.get(h("live")) is not None


async def test_purge_throttle_counters(store: Store) -> None:
    await store.throttle.record_failure("user:old", now=99)
    await store.throttle.record_failure("user:new", now=100)

    assert await store.throttle.purge(before=100) == 1

    assert await store.throttle.get("user:old") is None
    assert await store.throttle.get("user:new") is not None


async def test_ping(store: Store) -> None:
    await store.ping()
