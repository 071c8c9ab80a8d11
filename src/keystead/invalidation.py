"""Cache invalidation across instances through Redis pub/sub (when ``KEYSTEAD_REDIS_URL`` is set).

Every instance caches clients, APIs and signing keys for at most ``cache_ttl`` seconds. With
Redis configured, whoever changes them (the CLI, any process with a store from
``bootstrap.open_provider``) also publishes what changed, through ``PublishingStore``, and
every running instance drops the entry at once (``listen``, started by the app's lifespan).
Losing a message is harmless: the entry still expires after ``cache_ttl``, and a subscriber
that reconnects drops everything it cached.

One fixed channel: every process of a deployment finds it without more configuration (the
CLI may not know the issuer the servers were started with). Deployments sharing a Redis only
cause each other a few extra cache reloads.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

from keystead.store.base import ApiStore, ClientStore, KeyStore, Store
from keystead.store.connections import ConnectionStore

if TYPE_CHECKING:  # redis is imported when used: the CLI starts faster without it
    import redis.asyncio as aioredis

    from keystead.provider import Provider

log = logging.getLogger("keystead.invalidation")

CHANNEL = "keystead:invalidate"
RECONNECT_DELAYS = (0.5, 1.0, 2.0, 5.0)  # seconds; the last one repeats


def connect(url: str) -> aioredis.Redis:
    import redis.asyncio

    # Short timeouts: a slow Redis must not hold up a CLI write or a readiness probe.
    return redis.asyncio.from_url(url, socket_connect_timeout=2, socket_timeout=2)


def _subscriber(url: str) -> aioredis.Redis:
    import redis.asyncio

    # No read timeout (a quiet channel is normal); a PING every 30 s finds a dead connection.
    return redis.asyncio.from_url(url, socket_connect_timeout=2, health_check_interval=30)


class Publisher:
    def __init__(self, redis: aioredis.Redis, channel: str) -> None:
        self.redis = redis
        self.channel = channel

    async def publish(self, kind: str, key: str | None = None) -> None:
        from redis.exceptions import RedisError

        message = json.dumps({"kind": kind, "key": key}, separators=(",", ":"))
        try:
            await self.redis.publish(self.channel, message)
        except (RedisError, OSError) as exc:
            # The change is committed; other instances see it after cache_ttl at the latest.
            log.warning("could not publish invalidation of %s: %r", kind, exc)


# What each write tells the other instances: (kind, key) from the call's arguments and result,
# or None when nothing changed.
Write = Callable[[tuple[Any, ...], Any], "tuple[str, str | None] | None"]


def _client_changed(args: tuple[Any, ...], result: Any) -> tuple[str, str | None] | None:
    if result is False:  # update/delete of an unknown client
        return None
    subject = args[0]
    return "client", subject if isinstance(subject, str) else subject.client_id


CLIENT_WRITES: dict[str, Write] = dict.fromkeys(("add", "update", "delete"), _client_changed)
API_WRITES: dict[str, Write] = dict.fromkeys(
    ("add", "update", "delete"), lambda _args, result: None if result is False else ("apis", None)
)
CONNECTION_WRITES: dict[str, Write] = dict.fromkeys(
    ("add", "update", "delete"), lambda _args, _result: ("connections", None)
)
KEY_WRITES: dict[str, Write] = dict.fromkeys(
    ("add", "set_retire_at"), lambda _args, _result: ("keys", None)
)


class _Publishing:
    """Forwards every method to the wrapped store concern; the ``writes`` also publish."""

    def __init__(self, inner: object, publisher: Publisher, writes: dict[str, Write]) -> None:
        self._inner = inner
        self._publisher = publisher
        self._writes = writes

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._inner, name)
        write = self._writes.get(name)
        if write is None:
            return method

        async def published(*args: Any, **kwargs: Any) -> Any:
            result = await method(*args, **kwargs)
            message = write(args, result)
            if message is not None:
                await self._publisher.publish(*message)
            return result

        return published


class PublishingStore:
    """A ``Store`` that publishes an invalidation after each write of clients, APIs, keys or
    connections.

    Everything else is the wrapped store's; ``ping`` checks Redis too, ``close`` closes both.
    """

    def __init__(self, inner: Store, redis: aioredis.Redis, channel: str = CHANNEL) -> None:
        publisher = Publisher(redis, channel)
        self.inner = inner
        self.redis = redis
        self.clients = cast(ClientStore, _Publishing(inner.clients, publisher, CLIENT_WRITES))
        self.apis = cast(ApiStore, _Publishing(inner.apis, publisher, API_WRITES))
        self.keys = cast(KeyStore, _Publishing(inner.keys, publisher, KEY_WRITES))
        self.connections = cast(
            ConnectionStore, _Publishing(inner.connections, publisher, CONNECTION_WRITES)
        )

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)  # users, grants, sessions ... unchanged

    async def ping(self) -> None:
        await self.inner.ping()
        await self.redis.ping()

    async def close(self) -> None:
        try:
            await self.redis.aclose()
        finally:
            await self.inner.close()


def apply(provider: Provider, message: dict[str, Any]) -> None:
    kind, key = message.get("kind"), message.get("key")
    if kind == "client" and isinstance(key, str):
        provider.forget_client(key)
    elif kind == "apis":
        provider.forget_apis()
    elif kind == "keys":
        provider.forget_keys()
    elif kind == "connections":
        provider.forget_connections()
    else:
        provider.forget_all()  # unknown (newer) message: be safe


async def listen(
    provider: Provider, url: str, ready: asyncio.Event | None = None, channel: str = CHANNEL
) -> None:
    """Subscribe and apply invalidations until cancelled; reconnect with backoff."""
    from redis.exceptions import RedisError

    failures = 0
    while True:
        redis = _subscriber(url)
        pubsub = redis.pubsub()
        try:
            await pubsub.subscribe(channel)
            provider.forget_all()  # anything may have changed while we were not listening
            failures = 0
            if ready is not None:
                ready.set()
            while True:
                raw = await pubsub.get_message(ignore_subscribe_messages=True, timeout=30.0)
                if raw is None or raw.get("type") != "message":
                    continue
                try:
                    apply(provider, json.loads(raw["data"]))
                except (ValueError, TypeError, AttributeError):
                    log.warning("ignored a malformed invalidation message")
        except (RedisError, OSError) as exc:
            delay = RECONNECT_DELAYS[min(failures, len(RECONNECT_DELAYS) - 1)]
            failures += 1
            log.warning("Redis subscription lost (%r); retrying in %.1fs", exc, delay)
            await asyncio.sleep(delay)
        finally:
            await pubsub.aclose()  # type: ignore[no-untyped-call]
            await redis.aclose()
