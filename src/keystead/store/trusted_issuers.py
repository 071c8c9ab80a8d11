"""Trusted issuers: the outside JWT issuers whose JWTs keystead accepts as authorization
grants (RFC 7523 §2.1) and as token-exchange subject or actor tokens (RFC 8693 ``jwt``).

An issuer is trusted for some keystead clients only (``allowed_client_ids``; empty: none),
with its public keys inline (``jwks``) or at ``jwks_uri``, and a rule that maps the JWT's
subject to a local user (``subject_mapping``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

# How the JWT's subject becomes the sub of the tokens keystead issues:
SUBJECT_MAPPINGS = ("sub", "username", "email", "none")


@dataclass(frozen=True, slots=True)
class TrustedIssuer:
    issuer_id: str
    issuer: str  # the exact ``iss`` value of its JWTs
    created_at: int
    jwks_uri: str | None = None
    jwks: dict[str, Any] | None = None  # an inline public JWK Set
    subject_claim: str = "sub"
    subject_mapping: str = "sub"
    allowed_client_ids: tuple[str, ...] = ()
    verifies_email: bool = False  # "email" mapping trusts its emails without email_verified


class TrustedIssuerStore(Protocol):
    async def add(self, issuer: TrustedIssuer) -> None:
        """DuplicateError if the issuer_id or the issuer URL is taken."""
        ...

    async def get(self, issuer_id: str) -> TrustedIssuer | None: ...
    async def get_by_issuer(self, issuer: str) -> TrustedIssuer | None: ...
    async def list(self) -> list[TrustedIssuer]: ...  # in (created_at, issuer_id) order
    async def delete(self, issuer_id: str) -> bool: ...
