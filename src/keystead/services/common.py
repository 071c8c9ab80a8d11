"""What every admin operation shares: who asked (``Actor``), the audit event, and the one
structured error the channels word for themselves.

A ``ServiceError`` names the ``field`` at fault by its metadata name (``redirect_uris``,
``password``, ``alg``) and says in ``message`` what to change, in words for any channel. The
CLI names its flag (``--redirect-uri``), the admin API the JSON field, dynamic registration the
RFC 7591 metadata name and error code. ``Conflict`` (the state forbids it: a taken name, the
only signing key) and ``NotFound`` are the two kinds a channel may show differently.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from keystead.provider import Provider


class ServiceError(ValueError):
    """Input an operation refuses: ``field`` names it, ``message`` says what to change."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class Conflict(ServiceError):
    """The input is well-formed but the current state forbids it."""


class NotFound(ServiceError):
    """The operation names something that does not exist (or no longer)."""


@dataclass(frozen=True, slots=True)
class Actor:
    """Who asked for an operation: the channel, and the client behind it where there is one
    (the admin API's caller, the client managing its own registration)."""

    channel: str  # "cli" | "admin_api" | "registration" | "demo" | "console"
    client_id: str | None = None
    sub: str | None = None  # the signed-in admin behind the console (web/console/)


CLI = Actor("cli")
DEMO = Actor("demo")


def audit(provider: Provider, actor: Actor, name: str, **data: Any) -> None:
    """One event per operation, the same name whichever channel asked; the channel and the
    caller travel in the event (the events table keeps them for ``keystead explain``)."""
    if actor.sub is not None:  # the console: which admin
        data = {"by_sub": actor.sub, **data}
    provider.events.emit(name, channel=actor.channel, by_client_id=actor.client_id, **data)
