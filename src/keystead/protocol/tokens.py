"""Access tokens. Opaque reference tokens for now: 256-bit random, stored only as SHA-256.

A token strategy (opaque | RFC 9068 JWT) arrives with the token lifecycle issue; this module
is where it plugs in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from keystead.secrets_util import random_token, sha256_hex
from keystead.store.base import AccessToken, Grant

if TYPE_CHECKING:
    from keystead.provider import Provider


@dataclass(frozen=True, slots=True)
class IssuedToken:
    value: str
    expires_in: int


async def issue_access_token(provider: Provider, grant: Grant, scope: str) -> IssuedToken:
    value = random_token()
    now = provider.now()
    ttl = provider.settings.access_token_ttl
    await provider.store.grants.add_access_token(
        AccessToken(
            token_hash=sha256_hex(value),
            grant_id=grant.grant_id,
            client_id=grant.client_id,
            sub=grant.sub,
            scope=scope,
            expires_at=now + ttl,
            created_at=now,
        )
    )
    return IssuedToken(value, ttl)


async def lookup_access_token(provider: Provider, value: str) -> AccessToken | None:
    """The token if it is known, unexpired and its grant is not revoked."""
    found = await provider.store.grants.get_access_token(sha256_hex(value))
    if found is None:
        return None
    token, grant = found
    if grant.revoked_at is not None or token.expires_at <= provider.now():
        return None
    return token
