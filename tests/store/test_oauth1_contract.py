"""Contract tests of the OAuth 1.0a credentials (RFC 5849) on every Store implementation:
a temporary credential is approved or denied once while pending and unexpired, redeemed once
with its own verifier; token credentials are found by hash and id, listed per user, revoked
once."""

from __future__ import annotations

import asyncio

import pytest

from keystead.store.base import DuplicateError, Store
from keystead.store.oauth1 import APPROVED, DENIED, TemporaryCredential, TokenCredential
from tests.store.test_contract import make_client, make_user

pytestmark = pytest.mark.anyio


async def seed(store: Store) -> None:
    await store.clients.add(make_client())
    await store.users.add(make_user())


def temporary(n: str = "1", expires_at: int = 610) -> TemporaryCredential:
    return TemporaryCredential(n * 64, "sealed-" + n, "client-1", "https://rp/cb", 10, expires_at)


def token(n: str = "1", created_at: int = 20) -> TokenCredential:
    return TokenCredential("id-" + n, n * 64, "sealed", "client-1", "sub-1", "openid", created_at)


async def test_temporary_approved_once_then_redeemed_once(store: Store) -> None:
    await seed(store)
    t = temporary()
    await store.oauth1.add_temporary(t)
    with pytest.raises(DuplicateError):
        await store.oauth1.add_temporary(t)
    assert await store.oauth1.get_temporary(t.token_hash) == t
    assert await store.oauth1.get_temporary("f" * 64) is None
    assert not await store.oauth1.redeem(t.token_hash, "v" * 64, 20)  # still pending
    assert await store.oauth1.approve(t.token_hash, "sub-1", "v" * 64, 20)
    assert not await store.oauth1.approve(t.token_hash, "sub-2", "w" * 64, 21)
    assert not await store.oauth1.deny(t.token_hash, "sub-2", 21)
    got = await store.oauth1.get_temporary(t.token_hash)
    assert got is not None and (got.status, got.sub, got.verifier_hash) == (
        APPROVED,
        "sub-1",
        "v" * 64,
    )
    assert not await store.oauth1.redeem(t.token_hash, "w" * 64, 30)  # another verifier
    results = await asyncio.gather(
        *(store.oauth1.redeem(t.token_hash, "v" * 64, 30) for _ in range(5))
    )
    assert sorted(results) == [False] * 4 + [True]  # RFC 5849 §2.3: single use
    got = await store.oauth1.get_temporary(t.token_hash)
    assert got is not None and got.used_at == 30


async def test_temporary_denied_and_expired(store: Store) -> None:
    await seed(store)
    denied, expired = temporary("1"), temporary("2", expires_at=100)
    await store.oauth1.add_temporary(denied)
    await store.oauth1.add_temporary(expired)
    assert await store.oauth1.deny(denied.token_hash, "sub-1", 20)
    got = await store.oauth1.get_temporary(denied.token_hash)
    assert got is not None and (got.status, got.sub) == (DENIED, "sub-1")
    assert not await store.oauth1.approve(denied.token_hash, "sub-1", "v" * 64, 21)
    assert not await store.oauth1.approve(expired.token_hash, "sub-1", "v" * 64, 100)
    assert await store.oauth1.purge(101) == 1
    assert await store.oauth1.get_temporary(expired.token_hash) is None
    assert await store.oauth1.get_temporary(denied.token_hash) is not None


async def test_tokens_listed_and_revoked_once(store: Store) -> None:
    await seed(store)
    first, second = token("1", 20), token("2", 30)
    await store.oauth1.add_token(first)
    await store.oauth1.add_token(second)
    with pytest.raises(DuplicateError):
        await store.oauth1.add_token(first)
    assert await store.oauth1.get_token(first.token_hash) == first
    assert await store.oauth1.get_token_by_id("id-2") == second
    assert await store.oauth1.get_token("f" * 64) is None
    assert [t.token_id for t in await store.oauth1.tokens_of("sub-1")] == ["id-2", "id-1"]
    assert await store.oauth1.tokens_of("sub-2") == []
    results = await asyncio.gather(*(store.oauth1.revoke_token("id-1", 40) for _ in range(3)))
    assert sorted(results) == [False, False, True]
    got = await store.oauth1.get_token_by_id("id-1")
    assert got is not None and got.revoked_at == 40
    assert not await store.oauth1.revoke_token("id-9", 40)
