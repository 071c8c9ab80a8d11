"""What the audit log asks of the events table (``EventStore.search``): a type (an event
name or its dotted prefix), a client or a user (named in the event or as its actor), a time
window, and the keyset position of the last event shown (newest first)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class EventFilter:
    name: str | None = None  # "client.created", or "client": client.created, client.deleted ...
    client_id: str | None = None  # data.client_id or data.by_client_id
    sub: str | None = None  # data.sub or data.by_sub
    since: int | None = None  # created_at >= since
    until: int | None = None  # created_at < until
    before: tuple[int, str] | None = None  # (created_at, event_id) of the last one shown

    def keeps(self, name: str, created_at: int, event_id: str, data: dict[str, Any]) -> bool:
        """The filter in Python (the memory store; SQL says the same in its WHERE)."""
        if self.name and not (name == self.name or name.startswith(self.name + ".")):
            return False
        if self.client_id and self.client_id not in (
            data.get("client_id"),
            data.get("by_client_id"),
        ):
            return False
        if self.sub and self.sub not in (data.get("sub"), data.get("by_sub")):
            return False
        if self.since is not None and created_at < self.since:
            return False
        if self.until is not None and created_at >= self.until:
            return False
        return self.before is None or (created_at, event_id) < self.before
