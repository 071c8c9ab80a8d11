"""Typed events the protocol layer emits (token issued, code replayed, login failed ...).

Audit logs and metrics subscribe; nothing re-reads an HTTP response to learn what happened.
Refused requests and security events are also kept in the events table (``EventRecorder``)
so that ``keystead explain <correlation-id>`` can tell what happened. Event data must never
contain a secret: no token, code, password or client secret values.
"""

from __future__ import annotations

import contextvars
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from keystead.store.base import EventRecord

if TYPE_CHECKING:
    from keystead.store.base import EventStore

log = logging.getLogger("keystead.events")

# The correlation id of the request being served (set by web/ for every request).
correlation_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "correlation_id", default=None
)

# High-volume events that are logged but not kept in the events table.
NOT_RECORDED = frozenset(
    {"token.issued", "token.granted", "authorization.issued", "session.created"}
)


def new_correlation_id() -> str:
    # 64 random bits to tell requests apart in logs, not a secret: the process's Mersenne
    # Twister (seeded from the OS at start and again in a forked child) is enough, and the
    # OS random source (a system call) cost ~10% of a request's CPU here.
    cid = f"{random.getrandbits(64):016x}"
    correlation_id.set(cid)
    return cid


@dataclass(frozen=True, slots=True)
class Event:
    name: str  # e.g. "token.issued", "code.replayed", "login.failed", "request.refused"
    data: dict[str, Any] = field(default_factory=dict)
    correlation_id: str | None = None
    created_at: int = 0


Subscriber = Callable[[Event], None]


def log_event(event: Event) -> None:
    # High-volume events (a token issued) log at DEBUG: the hot path writes no log line.
    level = logging.DEBUG if event.name in NOT_RECORDED else logging.INFO
    if not log.isEnabledFor(level):
        return
    # The fields again as attributes, for the JSON log format (logs.py).
    fields = {"event": event.name, "correlation_id": event.correlation_id, "data": event.data}
    log.log(level, "%s cid=%s %s", event.name, event.correlation_id, event.data, extra=fields)


class Events:
    def __init__(self, subscribers: list[Subscriber] | None = None) -> None:
        self.subscribers: list[Subscriber] = (
            list(subscribers) if subscribers is not None else [log_event]
        )

    def emit(self, name: str, **data: Any) -> None:
        event = Event(name, data, correlation_id.get(), int(time.time()))
        for subscriber in self.subscribers:
            subscriber(event)


class EventRecorder:
    """Buffers events in memory and writes them in batches, off the request path."""

    def __init__(self, store: EventStore, max_buffer: int = 10_000) -> None:
        self.store = store
        self.max_buffer = max_buffer
        self.buffer: list[EventRecord] = []
        self.dropped = 0

    def __call__(self, event: Event) -> None:
        if event.name in NOT_RECORDED:
            return
        if len(self.buffer) >= self.max_buffer:  # the database is down or slow: shed load
            self.dropped += 1
            return
        self.buffer.append(
            EventRecord(
                # time-ordered, so events of one request sort in emission order
                event_id=f"{time.time_ns():016x}{random.getrandbits(48):012x}",
                name=event.name,
                created_at=event.created_at,
                correlation_id=event.correlation_id,
                data=event.data,
            )
        )

    async def flush(self) -> None:
        batch, self.buffer = self.buffer, []
        if not batch:
            return
        try:
            await self.store.add_many(batch)
        except Exception:  # noqa: BLE001 - never let auditing take the server down
            log.exception("could not write %d events", len(batch))

    async def purge(self, retention_seconds: int) -> int:
        return await self.store.purge(int(time.time()) - retention_seconds)
