"""Backchannel authentication requests of OpenID Connect CIBA Core 1.0.

Only the SHA-256 of the ``auth_req_id`` is stored (§7.3: it is a bearer handle of the
client). The user is resolved from the hint when the request is made (§7.1), so a request
always names its ``sub``; it goes pending -> approved | denied once, by that user, and an
approved one is consumed once (§10.1 with RFC 6749 §4.1.2's single use): ``consume`` is one
conditional UPDATE. A ping client's ``client_notification_token`` and the ``auth_req_id`` are
needed in clear when the ping is sent (§10.2), so both are kept sealed with the
key-encryption key (``ping_enc``), never in clear.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from keystead.store.outbox import Job

PENDING = "pending"
APPROVED = "approved"
DENIED = "denied"
POLL = "poll"
PING = "ping"


@dataclass(frozen=True, slots=True)
class CibaRequest:
    auth_req_id_hash: str
    request_id: str  # public handle for the user's approval page (not a credential)
    client_id: str
    sub: str  # the user the hint named (§7.1), resolved at request time
    scope: str
    created_at: int
    expires_at: int
    interval: int  # seconds between polls (§7.3, raised by slow_down)
    delivery_mode: str  # POLL | PING (§4 backchannel_token_delivery_mode)
    acr_values: str | None = None
    binding_message: str | None = None
    # PING: the auth_req_id and client_notification_token the ping carries (§10.2), sealed
    # with the key-encryption key (never in clear at rest).
    ping_enc: str | None = None
    last_polled_at: int | None = None
    status: str = PENDING
    decided_at: int | None = None
    # The approving session's (OIDC Core §2 ID token claims):
    sid: str | None = None
    auth_time: int | None = None
    acr: str | None = None
    amr: tuple[str, ...] = ()
    consumed_at: int | None = None
    authorization_details: tuple[dict[str, Any], ...] | None = None  # RFC 9396 (0023)


class CibaRequestStore(Protocol):
    async def add(self, request: CibaRequest) -> None:
        """DuplicateError if the hash or the request_id is taken."""
        ...

    async def get(self, auth_req_id_hash: str) -> CibaRequest | None: ...

    async def get_by_request_id(self, request_id: str) -> CibaRequest | None: ...

    async def pending_for(self, sub: str, now: int) -> list[CibaRequest]:
        """The user's pending, unexpired requests, oldest first."""
        ...

    async def poll(self, auth_req_id_hash: str, now: int) -> CibaRequest | None:
        """Record ``now`` as the last poll; the record as it was before (None if unknown)."""
        ...

    async def slow_down(self, auth_req_id_hash: str, interval: int) -> None: ...

    async def approve(
        self,
        request_id: str,
        sub: str,
        now: int,
        *,
        sid: str | None,
        auth_time: int | None,
        acr: str | None,
        amr: tuple[str, ...],
        jobs: Sequence[Job] = (),
    ) -> bool:
        """Approve the pending, unexpired request of ``sub``: True for the one caller that did.
        ``jobs`` (the ping, §10.2) are written in the same transaction, only if it did."""
        ...

    async def deny(self, request_id: str, sub: str, now: int, jobs: Sequence[Job] = ()) -> bool:
        """Deny the pending, unexpired request of ``sub``: True for the one caller that did;
        ``jobs`` as for ``approve``."""
        ...

    async def consume(self, auth_req_id_hash: str, now: int) -> bool:
        """Mark an approved, unexpired, unconsumed request consumed: True for the one caller
        that did, even across processes (one conditional UPDATE)."""
        ...

    async def purge(self, before: int) -> int: ...  # expired before ``before``
