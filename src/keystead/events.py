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
from typing import TYPE_CHECKING, Any, NamedTuple

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
# What one event may hold: a refused request echoes the caller's input (a 60 KB grant_type),
# so every text value is cut to VALUE_LIMIT characters and a list to LIST_LIMIT items before
# any subscriber keeps or logs it (docs/security.md lists the limits).
VALUE_LIMIT = 300
LIST_LIMIT = 20
# Identical refusals (same event, catalog id and source address) are kept and logged
# REPEATS_KEPT times per REPEAT_WINDOW seconds; the rest are counted (metrics see every one)
# and summed up in one "<name>.repeated" event per second while they go on.
LIMITED = frozenset({"request.refused", "cors.origin_refused", "cors.preflight_refused"})
REPEATS_KEPT = 5
REPEAT_WINDOW = 60


def new_correlation_id() -> str:
    # 64 random bits to tell requests apart in logs, not a secret: the process's Mersenne
    # Twister (seeded from the OS at start and again in a forked child) is enough, and the
    # OS random source is a system call per request (docs/performance.md).
    cid = random.getrandbits(64).to_bytes(8, "big").hex()  # f"{n:016x}", cheaper
    correlation_id.set(cid)
    return cid


class Event(NamedTuple):
    """One event, as every subscriber sees it (immutable; a tuple: built on every token
    response, where a frozen dataclass's field-by-field ``__init__`` cost three times as
    much). ``emit`` gives each event a dict of its own; subscribers only read it."""

    name: str  # e.g. "token.issued", "code.replayed", "login.failed", "request.refused"
    data: dict[str, Any] = {}  # noqa: RUF012 - never mutated (above)
    correlation_id: str | None = None
    created_at: int = 0
    repeated: bool = False  # one of many identical refusals: counted, not kept or logged


def _bounded(value: Any) -> Any:
    if isinstance(value, str):
        if len(value) <= VALUE_LIMIT:
            return value
        return f"{value[:VALUE_LIMIT]}… ({len(value) - VALUE_LIMIT} more characters)"
    if isinstance(value, list | tuple):
        return [_bounded(item) for item in value[:LIST_LIMIT]]
    if isinstance(value, dict):
        return {str(k)[:VALUE_LIMIT]: _bounded(v) for k, v in list(value.items())[:LIST_LIMIT]}
    return value


def bounded(data: dict[str, Any]) -> dict[str, Any]:
    """``data`` with every text cut to VALUE_LIMIT characters and lists to LIST_LIMIT."""
    return {key: _bounded(value) for key, value in data.items()}


class Repeats:
    """Counts identical refusals per source so storage and logs per refused request stay
    bounded whatever the rate: the first REPEATS_KEPT of a window are kept, the others
    marked repeated and summed up by ``summaries``."""

    def __init__(self) -> None:
        self.windows: dict[tuple[str, str, str], tuple[int, int]] = {}  # key -> (start, seen)
        self.suppressed: dict[tuple[str, str, str], int] = {}

    def repeated(self, name: str, data: dict[str, Any], now: int) -> bool:
        key = (name, str(data.get("catalog_id") or data.get("reason") or ""), str(data.get("ip")))
        start, seen = self.windows.get(key, (now, 0))
        if now - start >= REPEAT_WINDOW:
            start, seen = now, 0
        if len(self.windows) > 10_000:  # many sources at once: forget the oldest windows
            self.windows.clear()
        self.windows[key] = (start, seen + 1)
        if seen < REPEATS_KEPT:
            return False
        self.suppressed[key] = self.suppressed.get(key, 0) + 1
        return True

    def summaries(self) -> list[tuple[str, dict[str, Any]]]:
        """One (event name, data) per kind of refusal repeated since the last call."""
        found = [
            (f"{name}.repeated", {"catalog_id": what, "ip": ip, "count": count})
            for (name, what, ip), count in self.suppressed.items()
        ]
        self.suppressed.clear()
        return found


Subscriber = Callable[[Event], None]


def log_event(event: Event) -> None:
    if event.repeated:
        return
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
        self.repeats = Repeats()

    def emit(self, name: str, **data: Any) -> None:
        now = int(time.time())
        repeated = False
        if name not in NOT_RECORDED:  # kept or logged: bounded (the hot events are ours)
            data = bounded(data)
            repeated = name in LIMITED and self.repeats.repeated(name, data, now)
        event = Event(name, data, correlation_id.get(), now, repeated)
        for subscriber in self.subscribers:
            subscriber(event)

    def summarize_repeats(self) -> None:
        """Emit the "<name>.repeated" summaries (called every second by the server)."""
        for name, data in self.repeats.summaries():
            self.emit(name, **data)


class EventRecorder:
    """Buffers events in memory and writes them in batches, off the request path."""

    def __init__(self, store: EventStore, max_buffer: int = 10_000) -> None:
        self.store = store
        self.max_buffer = max_buffer
        self.buffer: list[EventRecord] = []
        self.dropped = 0

    def __call__(self, event: Event) -> None:
        if event.name in NOT_RECORDED or event.repeated:
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
