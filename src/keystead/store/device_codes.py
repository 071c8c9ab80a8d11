"""Device codes of the OAuth 2.0 Device Authorization Grant (RFC 8628).

Only SHA-256 hashes of the device code and the user code are stored. A device code goes
pending -> approved | denied, and an approved one is consumed once (RFC 8628 §3.5 with
RFC 6749 §4.1.2's single use): ``consume`` is one conditional UPDATE.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Protocol

PENDING = "pending"
APPROVED = "approved"
DENIED = "denied"
Status = Literal["pending", "approved", "denied"]


@dataclass(frozen=True, slots=True)
class DeviceCode:
    device_code_hash: str
    user_code_hash: str
    client_id: str
    scope: str
    created_at: int
    expires_at: int
    interval: int  # seconds the client must wait between polls (§3.2, raised by slow_down)
    last_polled_at: int | None = None
    status: str = PENDING
    sub: str | None = None  # the user who approved or denied
    sid: str | None = None
    auth_time: int | None = None
    consumed_at: int | None = None
    acr: str | None = None  # the approving session's (OIDC Core §2), for the ID token
    amr: tuple[str, ...] = ()
    authorization_details: tuple[dict[str, Any], ...] | None = None  # RFC 9396 (0023)


class DeviceCodeStore(Protocol):
    async def add(self, code: DeviceCode) -> None:
        """DuplicateError if either hash is taken."""
        ...

    async def get_by_user_code(self, user_code_hash: str) -> DeviceCode | None: ...

    async def poll(self, device_code_hash: str, now: int) -> DeviceCode | None:
        """Record ``now`` as the last poll and return the record as it was before this poll
        (its ``last_polled_at`` is the previous poll's); None if unknown."""
        ...

    async def slow_down(self, device_code_hash: str, interval: int) -> None:
        """RFC 8628 §3.5: set the polling interval (raised on each slow_down)."""
        ...

    async def approve(
        self,
        user_code_hash: str,
        sub: str,
        sid: str | None,
        auth_time: int | None,
        now: int,
        *,
        acr: str | None = None,
        amr: tuple[str, ...] = (),
    ) -> bool:
        """Approve a pending, unexpired code (with the approving session's sign-in): True for
        the one caller that did."""
        ...

    async def deny(self, user_code_hash: str, sub: str, now: int) -> bool:
        """Deny a pending, unexpired code: True for the one caller that did."""
        ...

    async def consume(self, device_code_hash: str, now: int) -> bool:
        """Mark an approved, unexpired, unconsumed code consumed: True for the one caller
        that did, even across processes (one conditional UPDATE)."""
        ...

    async def purge(self, before: int) -> int: ...  # expired before ``before``
