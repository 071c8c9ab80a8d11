"""Small store concerns shared across features: the throttle counters (login, codes), the
markers (single-use and replay caches: jti, nonces, challenges) and the events kept for
``keystead explain``. store/base.py re-exports them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from keystead.store.event_filter import EventFilter


@dataclass(frozen=True, slots=True)
class ThrottleState:
    key: str
    failures: int
    last_failure_at: int


@dataclass(frozen=True, slots=True)
class EventRecord:
    """A refused request or a security event, kept for ``keystead explain`` (never a secret)."""

    event_id: str
    name: str
    created_at: int
    correlation_id: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


class ThrottleStore(Protocol):
    async def get(self, key: str) -> ThrottleState | None: ...
    async def record_failure(self, key: str, now: int) -> ThrottleState: ...
    async def reset(self, key: str) -> None: ...
    async def purge(self, before: int) -> int: ...  # forget counters last failed before


class MarkerStore(Protocol):
    """Hashed keys that expire: the client assertion ``jti`` replay cache (RFC 7523 §3) and
    initial access tokens (RFC 7591 §3). A key counts as absent once ``expires_at <= now``."""

    async def add(self, key: str, expires_at: int, now: int) -> bool:
        """Store ``key`` unless present: True for the one caller that stored it, False if it
        is already there — atomic even across processes (an expired key is replaced)."""
        ...

    async def get(self, key: str, now: int) -> int | None: ...  # its expires_at, if present
    async def take(self, key: str, now: int) -> bool:
        """Remove ``key`` if present: True for the one caller that removed it."""
        ...

    async def purge(self, now: int) -> int: ...  # forget expired keys; count


class EventStore(Protocol):
    async def add_many(self, events: Sequence[EventRecord]) -> None: ...
    async def by_correlation_id(self, correlation_id: str) -> list[EventRecord]: ...
    async def recent(self, limit: int) -> list[EventRecord]: ...  # newest first
    async def about(self, sub: str, limit: int) -> list[EventRecord]: ...  # data.sub; newest first
    async def search(self, f: EventFilter, limit: int) -> list[EventRecord]: ...  # newest first
    async def purge(self, before: int) -> int: ...  # delete events created before; count
