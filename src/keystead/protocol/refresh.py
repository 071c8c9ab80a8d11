"""Refresh tokens (RFC 6749 §6): issued at the start of a family, rotated on every use."""

from __future__ import annotations

import hmac
from functools import lru_cache
from typing import TYPE_CHECKING

from keystead.protocol import dpop, mtls, scopes
from keystead.secrets_util import b64url, random_token, sha256_hex
from keystead.store.base import Client, Grant, RefreshToken

if TYPE_CHECKING:
    from keystead.jose.kek import KeyEncryptor
    from keystead.provider import Provider

SUCCESSOR_PURPOSE = "refresh-successor"


@lru_cache(maxsize=8)
def _successor_key(kek: KeyEncryptor) -> bytes:
    return kek.derive(SUCCESSOR_PURPOSE)


def successor_value(provider: Provider, value: str) -> str:
    """The value of the token that replaces ``value`` at its rotation: HMAC-SHA256 of it under
    a key derived from the KEK (256 bits, unpredictable without that key). Derived rather
    than drawn, so a repeated request in the grace window gets the same successor back
    without keeping the successor itself (not even encrypted): rotation writes one row and
    one hash, and nothing has to be forgotten afterwards."""
    mac = hmac.digest(_successor_key(provider.kek), value.encode(), "sha256")
    return b64url(mac).decode("ascii")


def should_issue(client: Client, scope: str) -> bool:
    """OIDC Core §11: with openid, only when offline_access was granted; plain OAuth clients
    get one when registered for the refresh_token grant."""
    if "refresh_token" not in client.grant_types:
        return False
    granted = scopes.parse(scope)
    return scopes.OFFLINE_ACCESS in granted or "openid" not in granted


def new_token(
    provider: Provider,
    grant: Grant,
    scope: str,
    now: int,
    *,
    expires_at: int | None = None,
    value: str | None = None,
) -> tuple[str, RefreshToken]:
    """A refresh token for ``grant``: a random value, or ``value`` (a rotation's successor)."""
    settings = provider.settings
    absolute = expires_at if expires_at is not None else now + settings.refresh_absolute_ttl
    if value is None:
        value = random_token()
    return value, RefreshToken(
        token_hash=sha256_hex(value),
        grant_id=grant.grant_id,
        client_id=grant.client_id,
        sub=grant.sub,
        scope=scope,
        created_at=now,
        expires_at=absolute,
        idle_expires_at=min(now + settings.refresh_idle_ttl, absolute),
        jkt=dpop.refresh_jkt(),  # RFC 9449 §5: a public client's refresh token is bound
        x5t_s256=mtls.refresh_x5t(),  # RFC 8705 §4: ... to its DPoP key or certificate
    )
