"""Pushed authorization requests (RFC 9126): the parameters a client pushed to /par, kept
under the SHA-256 of their ``request_uri`` until used once at /authorize or expired."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class PushedRequest:
    request_uri_hash: str  # sha256_hex of the request_uri: the value itself is never stored
    client_id: str
    params: dict[str, Any]  # the validated parameters, name -> value
    created_at: int
    expires_at: int
    used_at: int | None = None


class PushedRequestStore(Protocol):
    async def add(self, pushed: PushedRequest) -> None: ...  # DuplicateError if present

    async def take(self, request_uri_hash: str, now: int) -> PushedRequest | None:
        """Mark it used and return it — for one caller only, even across processes; None
        when absent, already used or expired (RFC 9126 §2.2: one-time use)."""
        ...

    async def get(self, request_uri_hash: str) -> PushedRequest | None:
        """As stored (used or not): to say why a take failed."""
        ...

    async def purge(self, before: int) -> int: ...  # forget those expired before; count
