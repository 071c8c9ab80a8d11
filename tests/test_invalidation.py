"""Cache invalidation through Redis pub/sub (real Redis on 127.0.0.1, as in CI): a write of a
client, an API or a key through a ``PublishingStore`` makes every listening provider drop
its cached copy at once, whatever ``cache_ttl``; a Redis outage never fails a write."""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import cast

import pytest
import redis.asyncio

from keystead import invalidation
from keystead.config import Settings
from keystead.jose.kek import KeyEncryptor
from keystead.provider import Provider
from keystead.store.base import Api, Client, Store, StoredKey
from keystead.store.connections import Connection
from keystead.store.memory import MemoryStore

pytestmark = pytest.mark.anyio

REDIS_URL = os.environ.get("KEYSTEAD_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
CLIENT = Client("c1", "RP", ("https://rp.example/cb",), (), (), "openid", "none")


@pytest.fixture
async def listening(tmp_path: Path) -> AsyncIterator[Provider]:
    """A provider whose caches never expire by themselves, listening on a channel of its own;
    its store publishes there."""
    try:
        await redis.asyncio.from_url(REDIS_URL, socket_connect_timeout=5).ping()
    except redis.RedisError as exc:  # fail, never skip
        raise RuntimeError(f"Redis is unreachable at {REDIS_URL}: {exc!r}") from exc
    channel = f"keystead:test:{secrets.token_hex(4)}"
    store = invalidation.PublishingStore(MemoryStore(), invalidation.connect(REDIS_URL), channel)
    provider = Provider(
        settings=Settings(issuer="https://id.example.com", data_dir=tmp_path, cache_ttl=3600),
        store=cast(Store, store),
        kek=KeyEncryptor(b"k" * 32),
    )
    ready = asyncio.Event()
    task = asyncio.create_task(invalidation.listen(provider, REDIS_URL, ready, channel))
    await asyncio.wait_for(ready.wait(), 5)
    yield provider
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await provider.close()


async def eventually(check: Callable[[], Awaitable[bool]]) -> None:
    """Within 2 s (cache_ttl is an hour: only the invalidation can do it)."""
    for _ in range(100):
        if await check():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the cache was not invalidated")


async def test_client_writes_invalidate_the_cached_client(listening: Provider) -> None:
    assert await listening.get_client("c1") is None  # the miss is cached for an hour
    await listening.store.clients.add(CLIENT)

    async def visible() -> bool:
        return await listening.get_client("c1") == CLIENT

    await eventually(visible)
    await listening.store.clients.delete("c1")

    async def gone() -> bool:
        return await listening.get_client("c1") is None

    await eventually(gone)


async def test_api_and_key_writes_invalidate_their_caches(listening: Provider) -> None:
    assert (await listening.apis()).by_id == {}
    api = Api("a1", "https://api.example/", "API", (("read", "Read"),), "jwt", 600, 1)
    await listening.store.apis.add(api)

    async def api_visible() -> bool:
        return "a1" in (await listening.apis()).by_id

    await eventually(api_visible)

    forgotten = asyncio.Event()
    listening.forget_keys = forgotten.set  # type: ignore[method-assign]
    key = StoredKey("k1", "ES256", {"kty": "EC"}, "enc", 1, 1)
    await listening.store.keys.add(key)
    await asyncio.wait_for(forgotten.wait(), 2)


async def test_a_redis_outage_never_fails_a_write(caplog: pytest.LogCaptureFixture) -> None:
    down = invalidation.connect("redis://127.0.0.1:1/0")  # nothing listens on port 1
    store = invalidation.PublishingStore(MemoryStore(), down)
    await store.clients.add(CLIENT)  # committed; the others learn it after cache_ttl
    assert await store.clients.get("c1") == CLIENT
    assert "could not publish invalidation" in caplog.text
    with pytest.raises(redis.RedisError):  # ... but readiness says Redis is down
        await store.ping()
    await store.close()


async def test_connection_writes_invalidate_the_login_pages_list(listening: Provider) -> None:
    # The login page lists the upstream connections from the provider's cache (every render
    # read the table before): a connection written anywhere shows at once.
    assert await listening.connections() == ()
    github = Connection("c1", "gh", "GitHub", "github", "https://github.com/", "id", "x")
    await listening.store.connections.add(github)

    async def visible() -> bool:
        return [c.name for c in await listening.connections()] == ["gh"]

    await eventually(visible)
    await listening.store.connections.delete("c1")

    async def gone() -> bool:
        return await listening.connections() == ()

    await eventually(gone)
