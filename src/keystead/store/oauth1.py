"""Credentials of the OAuth 1.0a provider (RFC 5849): temporary credentials (§2.1, the
"request token") and token credentials (§2.3, the "access token").

Only SHA-256 hashes of the tokens and the verifier are stored. The shared secrets are needed
in clear to check HMAC signatures (§3.4.2), so they are kept sealed with the key-encryption
key (``secret_enc``), bound to the token's hash. A temporary credential goes pending ->
approved | denied and is redeemed once (§2.3: the verifier is single use): ``redeem`` is one
conditional UPDATE. Token credentials live until revoked.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

PENDING = "pending"
APPROVED = "approved"
DENIED = "denied"
Status = Literal["pending", "approved", "denied"]


@dataclass(frozen=True, slots=True)
class TemporaryCredential:
    token_hash: str
    secret_enc: str  # the token secret, sealed with the KEK
    client_id: str
    callback: str  # a registered redirect URI, or "oob" (§2.1)
    created_at: int
    expires_at: int
    status: str = PENDING
    verifier_hash: str | None = None  # set on approval (§2.2)
    sub: str | None = None  # the user who approved or denied
    used_at: int | None = None  # redeemed for token credentials (§2.3)


@dataclass(frozen=True, slots=True)
class TokenCredential:
    token_id: str  # a public handle for listing and revocation (never the token)
    token_hash: str
    secret_enc: str
    client_id: str
    sub: str
    scope: str  # what the user approved (keystead's scope names: "openid profile email")
    created_at: int
    revoked_at: int | None = None


class OAuth1Store(Protocol):
    async def add_temporary(self, cred: TemporaryCredential) -> None:
        """DuplicateError if the token hash is taken."""
        ...

    async def get_temporary(self, token_hash: str) -> TemporaryCredential | None: ...

    async def approve(self, token_hash: str, sub: str, verifier_hash: str, now: int) -> bool:
        """Approve a pending, unexpired temporary credential: True for the one caller."""
        ...

    async def deny(self, token_hash: str, sub: str, now: int) -> bool:
        """Deny a pending, unexpired temporary credential: True for the one caller."""
        ...

    async def redeem(self, token_hash: str, verifier_hash: str, now: int) -> bool:
        """Mark an approved, unexpired, unused temporary credential with this verifier used:
        True for the one caller that did, even across processes (one conditional UPDATE)."""
        ...

    async def add_token(self, cred: TokenCredential) -> None:
        """DuplicateError if the token id or hash is taken."""
        ...

    async def get_token(self, token_hash: str) -> TokenCredential | None: ...
    async def get_token_by_id(self, token_id: str) -> TokenCredential | None: ...
    async def tokens_of(self, sub: str) -> list[TokenCredential]:
        """The user's token credentials, revoked ones too, newest first."""
        ...

    async def revoke_token(self, token_id: str, now: int) -> bool:
        """Revoke a live token credential: True for the one caller that did."""
        ...

    async def purge(self, before: int) -> int:
        """Forget temporary credentials expired before ``before``; count."""
        ...
