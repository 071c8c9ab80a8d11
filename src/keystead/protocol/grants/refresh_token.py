"""The refresh_token grant (RFC 6749 §6) with rotation and reuse detection (RFC 9700 §4.14).

Every use rotates the token. A rotated token presented again within the grace window (lost
response, two tabs) gets the same successor back with a fresh access token; after the window
it is a reuse, and the whole grant family is revoked.

One order on every path: read and check the token (a reuse is refused here, before anything
is issued), issue the response, then one write that stores its access tokens — with the
rotation, or on their own when the response hands back the successor of the grace window.
Losing a race for the rotation means re-reading the winner's and deciding again: within the
window it is the grace path, after it a reuse.
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from keystead.errors import OAuthError
from keystead.protocol import dpop, mtls, rar, rar_tokens, refresh, scopes
from keystead.protocol.grants.common import token_response
from keystead.protocol.request import OAuthRequest
from keystead.secrets_util import sha256_hex
from keystead.store.base import AccessToken, Client, Grant, RefreshToken

if TYPE_CHECKING:
    from keystead.provider import Provider

GRANT_TYPE = "refresh_token"
PARAMETERS = ("refresh_token", "scope", "resource", rar.PARAMETER)


async def _load(provider: Provider, token_hash: str) -> tuple[RefreshToken, Grant]:
    found = await provider.store.grants.get_refresh_token(token_hash)
    if found is None:
        raise OAuthError("refresh-unknown", "The refresh token is unknown.")
    return found


def _check(token: RefreshToken, grant: Grant, client: Client, now: int) -> None:
    if token.client_id != client.client_id:
        raise OAuthError(
            "refresh-client-mismatch", "The refresh token was issued to another client."
        )
    if grant.revoked_at is not None:
        raise OAuthError("refresh-revoked", "The grant of this refresh token was revoked.")
    if token.expires_at <= now or (token.rotated_at is None and token.idle_expires_at <= now):
        raise OAuthError(
            "refresh-expired",
            "The refresh token expired (idle or absolute lifetime); authorize again.",
        )


def _in_grace(provider: Provider, token: RefreshToken, now: int) -> bool:
    """A rotated token whose successor may be handed out again (lost response, two tabs)."""
    return (
        token.rotated_at is not None
        and now - token.rotated_at <= provider.settings.refresh_grace
        and bool(token.successor_hash)
    )


def _successor_again(provider: Provider, value: str, token: RefreshToken) -> str:
    """The successor of a token rotated within the grace window, derived again from the
    presented value and checked against the stored hash."""
    if token.successor_enc:  # rotated before successors were derived (an upgrade's window)
        return provider.kek.decrypt(token.successor_enc, token.token_hash.encode()).decode()
    successor = refresh.successor_value(provider, value)
    if not hmac.compare_digest(sha256_hex(successor), token.successor_hash or ""):
        # The key changed since the rotation (a new KEYSTEAD_SECRET_KEY): the successor
        # cannot be given again.
        raise OAuthError(
            "refresh-expired",
            "The refresh token was already rotated and its successor cannot be given again; "
            "authorize again.",
        )
    return successor


async def _reused(provider: Provider, token: RefreshToken, grant: Grant, now: int) -> OAuthError:
    # RFC 9700 §4.14.2: a rotated refresh token used again revokes the whole grant family.
    await provider.store.grants.revoke_grant(grant.grant_id, now)
    provider.events.emit("refresh.reused", client_id=token.client_id, grant_id=grant.grant_id)
    return OAuthError(
        "refresh-reused",
        "The refresh token was already used; the grant has been revoked (RFC 9700 §4.14). "
        "Always keep the newest refresh token from each response.",
    )


async def _store(
    provider: Provider,
    value: str,
    token_hash: str,
    token: RefreshToken,
    grant: Grant,
    now: int,
    access_tokens: Sequence[AccessToken],
) -> str:
    """Store the response's access tokens in one write and return the refresh token to send:
    a new successor (written with the rotation), or the grace window's one again."""
    grants = provider.store.grants
    if token.rotated_at is None:
        fresh, successor = refresh.new_token(
            provider,
            grant,
            token.scope,
            now,
            expires_at=token.expires_at,
            value=refresh.successor_value(provider, value),
        )
        if await grants.rotate_refresh_token(token_hash, successor, None, now, access_tokens):
            return fresh
        token, grant = await _load(provider, token_hash)  # lost a race: read the winner's
        if not _in_grace(provider, token, now):
            raise await _reused(provider, token, grant, now)
    successor_value = _successor_again(provider, value, token)
    for record in access_tokens:
        await grants.add_access_token(record)
    return successor_value


async def handle(req: OAuthRequest, client: Client, provider: Provider) -> dict[str, Any]:
    value = req.require("refresh_token")
    token_hash = sha256_hex(value)
    now = provider.now()
    token, grant = await _load(provider, token_hash)
    _check(token, grant, client, now)
    dpop.check_bound(token.jkt, "refresh token")  # RFC 9449 §5
    mtls.check_refresh(token.x5t_s256, req)  # RFC 8705 §4
    # RFC 6749 §6: a narrower scope applies to the new access token; wider is refused.
    granted = scopes.parse(token.scope)
    requested = scopes.parse(req.get("scope")) or granted
    wider = [s for s in requested if s not in granted]
    if wider:
        raise OAuthError(
            "scope-wider",
            f"scope {' '.join(wider)} was not granted; request a subset of: {token.scope}.",
        )
    if token.rotated_at is not None and not _in_grace(provider, token, now):
        raise await _reused(provider, token, grant, now)
    asked = req.get(rar.PARAMETER)  # RFC 9396 §6.2: a subset of the granted details
    details = (
        None
        if asked is None
        else await rar_tokens.narrow(provider, asked, rar.granted(grant.claims))
    )
    issued = await token_response(
        provider,
        client,
        grant,
        requested,
        resource=req.get("resource"),
        nonce=None,
        details=details,
    )
    # The refresh token keeps its full scope.
    issued.body["refresh_token"] = await _store(
        provider, value, token_hash, token, grant, now, issued.access_tokens
    )
    return issued.body
