"""Typed events the protocol layer emits (token issued, code replayed, login failed ...).

Audit logs and metrics subscribe; nothing re-reads an HTTP response to learn what happened.
Event data must never contain a secret: no token, code, password or client secret values.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger("keystead.events")


@dataclass(frozen=True, slots=True)
class Event:
    name: str  # e.g. "token.issued", "code.replayed", "login.failed"
    data: dict[str, Any] = field(default_factory=dict)


Subscriber = Callable[[Event], None]


def log_event(event: Event) -> None:
    log.info("%s %s", event.name, event.data)


class Events:
    def __init__(self, subscribers: list[Subscriber] | None = None) -> None:
        self.subscribers: list[Subscriber] = (
            list(subscribers) if subscribers is not None else [log_event]
        )

    def emit(self, name: str, **data: Any) -> None:
        event = Event(name, data)
        for subscriber in self.subscribers:
            subscriber(event)
