"""The Provider: the explicit context passed to every protocol function.

It carries settings, the store, the key ring, the clock and the password hasher, and owns the
small caches that keep hot endpoints off the database: clients and keys are re-read at most
every ``settings.cache_ttl`` seconds (several processes and the CLI write the same database).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from keystead.accounts.account_app import ACCOUNT_CLIENT_ID, account_client
from keystead.accounts.console_app import CONSOLE_CLIENT_ID, console_client
from keystead.accounts.passwords import PasswordHasher
from keystead.config import Settings
from keystead.events import EventRecorder, Events
from keystead.federation.upstreams import Upstreams
from keystead.jose.jwe import encryption_keys
from keystead.jose.kek import KeyEncryptor
from keystead.jose.keys import KeyRing
from keystead.net.fetch import SafeFetcher
from keystead.net.jwks_cache import ClientJwksCache
from keystead.protocol import origins
from keystead.protocol.resources import ApiIndex
from keystead.store.base import Client, Store
from keystead.store.connections import Connection


def system_clock() -> int:
    return int(time.time())


T = TypeVar("T")


@dataclass
class _Cached(Generic[T]):
    value: T
    loaded_at: float
    fingerprint: object = None  # what the value was built from (the keys' ids and times)


@dataclass
class Provider:
    settings: Settings
    store: Store
    kek: KeyEncryptor
    clock: Callable[[], int] = system_clock
    hasher: PasswordHasher = field(default_factory=PasswordHasher)
    events: Events = field(default_factory=Events)
    _clients: dict[str, _Cached[Client | None]] = field(default_factory=dict)
    _keyring: _Cached[KeyRing] | None = None
    _jwks: tuple[KeyRing, int, bytes] | None = None  # (of ring, computed_at, serialized JWKS)
    _apis: _Cached[ApiIndex] | None = None
    _origins: _Cached[frozenset[str]] | None = None
    _connections: _Cached[tuple[Connection, ...]] | None = None
    # Reloads in progress, by cache: concurrent requests that find a cache expired share one
    # (a listing runs on the database thread; one per waiting request stalled the loop).
    _reloads: dict[str, asyncio.Future[Any]] = field(default_factory=dict)
    _generations: dict[str, int] = field(default_factory=dict)  # bumped by _forget
    # Called after a job was written to the outbox: the app's sender looks at once (outbox.py).
    wake_outbox: Callable[[], None] = lambda: None
    recorder: EventRecorder = field(init=False)
    client_jwks: ClientJwksCache = field(init=False)  # clients' jwks_uri (private_key_jwt)
    client_enc_jwks: ClientJwksCache = field(init=False)  # their encryption keys (jose/jwe.py)
    upstreams: Upstreams = field(init=False)  # federation: upstream identity providers

    def __post_init__(self) -> None:
        self.client_jwks = ClientJwksCache(
            SafeFetcher(allow_private=self.settings.allow_private_network_fetch)
        )
        self.client_enc_jwks = ClientJwksCache(
            SafeFetcher(allow_private=self.settings.allow_private_network_fetch),
            parse=encryption_keys,
        )
        self.upstreams = Upstreams(self.settings, self.kek, self.now)
        # Refused requests and security events go to the events table, in batches.
        self.recorder = EventRecorder(self.store.events)
        self.events.subscribers.append(self.recorder)

    async def close(self) -> None:
        await self.recorder.flush()
        await self.store.close()

    def now(self) -> int:
        return self.clock()

    async def get_client(self, client_id: str) -> Client | None:
        """The client, cached for at most ``cache_ttl`` seconds (misses too); the account
        page's reserved client is built, not stored (accounts/account_app.py)."""
        cached = self._clients.get(client_id)
        mono = time.monotonic()
        if cached is not None and mono - cached.loaded_at < self.settings.cache_ttl:
            return cached.value
        if client_id == ACCOUNT_CLIENT_ID:
            return account_client(self.settings)
        if client_id == CONSOLE_CLIENT_ID:
            return console_client(self.settings)
        client = await self.store.clients.get(client_id)
        if len(self._clients) > 10_000:  # bound memory against client_id spraying
            self._clients.clear()
        self._clients[client_id] = _Cached(client, mono)
        return client

    def forget_client(self, client_id: str) -> None:
        self._clients.pop(client_id, None)
        self._origins = None
        self._forget("_origins")
        self.client_jwks.forget(client_id)
        self.client_enc_jwks.forget(client_id)

    def _forget(self, cache: str) -> None:
        """A load of ``cache`` in flight may predate the change: new callers start a fresh
        one, and the older one's result is not kept."""
        self._generations[cache] = self._generations.get(cache, 0) + 1
        self._reloads.pop(cache, None)

    async def _once(self, cache: str, load: Callable[[], Awaitable[_Cached[T]]]) -> T:
        """Reload the attribute ``cache`` once for every caller that asks while it runs
        (single flight). A caller that is cancelled leaves the load to the others; an
        exception reaches every caller, and the next call loads again."""
        pending = self._reloads.get(cache)
        if pending is None or pending.get_loop() is not asyncio.get_running_loop():
            generation = self._generations.get(cache, 0)

            async def run() -> _Cached[T]:
                loaded = await load()
                if self._generations.get(cache, 0) == generation:  # no _forget meanwhile
                    setattr(self, cache, loaded)
                return loaded

            pending = self._reloads[cache] = asyncio.ensure_future(run())

            def settled(done: asyncio.Future[Any]) -> None:
                if self._reloads.get(cache) is done:  # not a newer load after a _forget
                    del self._reloads[cache]
                if not done.cancelled():
                    done.exception()  # every caller may have gone: nobody else retrieves it

            pending.add_done_callback(settled)
        loaded: _Cached[T] = await asyncio.shield(pending)
        return loaded.value

    async def registered_origins(self) -> frozenset[str]:
        """Every client's CORS origins (a preflight names no client); ``cache_ttl`` stale."""
        mono = time.monotonic()
        if self._origins is not None and mono - self._origins.loaded_at < self.settings.cache_ttl:
            return self._origins.value

        async def load() -> _Cached[frozenset[str]]:
            return _Cached(origins.union_of(await self.store.clients.list()), mono)

        return await self._once("_origins", load)

    async def apis(self) -> ApiIndex:
        """All APIs, indexed by identifier and scope; at most ``cache_ttl`` seconds stale."""
        mono = time.monotonic()
        if self._apis is not None and mono - self._apis.loaded_at < self.settings.cache_ttl:
            return self._apis.value

        async def load() -> _Cached[ApiIndex]:
            return _Cached(ApiIndex.build(await self.store.apis.list()), mono)

        return await self._once("_apis", load)

    def forget_apis(self) -> None:
        self._apis = None
        self._forget("_apis")

    async def connections(self) -> tuple[Connection, ...]:
        """Every upstream connection (federation), at most ``cache_ttl`` seconds stale: the
        login page lists them on every render."""
        mono = time.monotonic()
        cached = self._connections
        if cached is not None and mono - cached.loaded_at < self.settings.cache_ttl:
            return cached.value

        async def load() -> _Cached[tuple[Connection, ...]]:
            return _Cached(tuple(await self.store.connections.list()), mono)

        return await self._once("_connections", load)

    def forget_connections(self) -> None:
        self._connections = None
        self._forget("_connections")

    def forget_keys(self) -> None:
        """Re-read the keys on next use (decrypting again only if they changed)."""
        if self._keyring is not None:
            self._keyring = _Cached(self._keyring.value, float("-inf"))
        self._forget("_keyring")

    def forget_all(self) -> None:
        """Drop every cache (invalidation messages may have been missed)."""
        for client_id in list(self._clients):
            self.forget_client(client_id)
        self.forget_connections()
        self._origins = None
        self._forget("_origins")
        self.forget_apis()
        self.forget_keys()

    async def keyring(self) -> KeyRing:
        mono = time.monotonic()
        if self._keyring is not None and mono - self._keyring.loaded_at < self.settings.cache_ttl:
            return self._keyring.value
        return await self._once("_keyring", lambda: self._load_keyring(mono))

    async def _load_keyring(self, mono: float) -> _Cached[KeyRing]:
        stored = await self.store.keys.list()
        fingerprint = tuple(sorted((k.kid, k.activate_at, k.retire_at) for k in stored))
        current = self._keyring
        if current is not None and current.fingerprint == fingerprint:
            ring = current.value  # the same keys: no decryption
        else:
            ring = KeyRing.load(stored, self.kek)
        return _Cached(ring, mono, fingerprint)

    async def jwks_bytes(self) -> bytes:
        """The serialized JWKS, recomputed when keys change or once a minute (retirement)."""
        ring = await self.keyring()
        now = self.now()
        if self._jwks is None or self._jwks[0] is not ring or now - self._jwks[1] >= 60:
            self._jwks = (ring, now, json.dumps(ring.jwks(now), separators=(",", ":")).encode())
        return self._jwks[2]
