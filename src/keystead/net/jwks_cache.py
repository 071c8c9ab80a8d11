"""Client JWK Sets fetched from ``jwks_uri``: cached, refetched on an unknown kid at most once
per ``min_refetch`` seconds per client (a stream of assertions with made-up kids must not turn
keystead into a request generator), one fetch at a time per URI."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import anyio

from keystead.jose.client_keys import ClientKey, InvalidJwks, parse_jwks
from keystead.net.fetch import FetchError, SafeFetcher

TTL = 300.0  # a fetched JWK Set is used this long before it is fetched again
MIN_REFETCH = 60.0  # an unknown kid refetches at most this often
FAILURE_BACKOFF = 10.0  # after a failed fetch, the error is repeated this long
MAX_ENTRIES = 1000


@dataclass
class _Entry:
    keys: list[ClientKey]
    fetched_at: float


class ClientJwksCache:
    def __init__(
        self,
        fetcher: SafeFetcher,
        *,
        ttl: float = TTL,
        min_refetch: float = MIN_REFETCH,
        max_entries: int = MAX_ENTRIES,
        monotonic: Callable[[], float] = time.monotonic,
        parse: Callable[[Any], list[ClientKey]] | None = None,
    ) -> None:
        self.fetcher = fetcher
        # The keys a document yields: signing keys by default; jose/jwe.encryption_keys for
        # the cache of encryption keys (encrypted responses).
        self.parse = parse or (lambda document: parse_jwks(document, strict=False))
        self.ttl = ttl
        self.min_refetch = min_refetch
        self.max_entries = max_entries
        self._monotonic = monotonic
        self._entries: OrderedDict[tuple[str, str], _Entry] = OrderedDict()
        self._locks: dict[tuple[str, str], anyio.Lock] = {}
        self._failures: dict[tuple[str, str], tuple[float, str]] = {}
        self.fetches = 0  # for tests and metrics

    async def keys(
        self, client_id: str, jwks_uri: str, *, refresh: bool = False
    ) -> list[ClientKey]:
        """The client's keys; ``refresh`` asks for a refetch (an unknown kid), which happens
        only if the cached copy is older than ``min_refetch`` seconds. Raises FetchError."""
        cache_key = (client_id, jwks_uri)
        entry = self._fresh(cache_key, refresh)
        if entry is not None:
            return entry.keys
        lock = self._locks.setdefault(cache_key, anyio.Lock())
        async with lock:
            entry = self._fresh(cache_key, refresh)  # another task may have fetched it
            if entry is None:
                entry = await self._fetch(cache_key)
        return entry.keys

    def forget(self, client_id: str) -> None:
        for cache_key in [k for k in self._entries if k[0] == client_id]:
            del self._entries[cache_key]

    def _fresh(self, cache_key: tuple[str, str], refresh: bool) -> _Entry | None:
        entry = self._entries.get(cache_key)
        if entry is None:
            return None
        age = self._monotonic() - entry.fetched_at
        if age >= self.ttl or (refresh and age >= self.min_refetch):
            return None
        return entry

    async def _fetch(self, cache_key: tuple[str, str]) -> _Entry:
        failed = self._failures.get(cache_key)
        if failed is not None and self._monotonic() - failed[0] < FAILURE_BACKOFF:
            raise FetchError(failed[1])
        self.fetches += 1
        try:
            document = await self.fetcher.get_json(cache_key[1])
            try:
                keys = self.parse(document)
            except InvalidJwks as exc:
                raise FetchError(f"{cache_key[1]}: {exc}") from None
        except FetchError as exc:
            if len(self._failures) > self.max_entries:
                self._failures.clear()
            self._failures[cache_key] = (self._monotonic(), str(exc))
            raise
        self._failures.pop(cache_key, None)
        entry = _Entry(keys, self._monotonic())
        self._entries[cache_key] = entry
        self._entries.move_to_end(cache_key)
        while len(self._entries) > self.max_entries:
            old_key, _ = self._entries.popitem(last=False)
            self._locks.pop(old_key, None)
        return entry
