"""The refresh_token grant (RFC 6749 §6) with rotation and reuse detection (RFC 9700 §4.14).

Every use rotates the token. A rotated token presented again within the grace window (lost
response, two tabs) gets the same successor back with a fresh access token; after the window
it is a reuse, and the whole grant family is revoked.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from keystead.errors import OAuthError
from keystead.protocol import refresh, scopes
from keystead.protocol.grants.common import token_response
from keystead.protocol.request import OAuthRequest
from keystead.secrets_util import sha256_hex
from keystead.store.base import AccessToken, Client, Grant, RefreshToken

if TYPE_CHECKING:
    from keystead.provider import Provider

GRANT_TYPE = "refresh_token"
PARAMETERS = ("refresh_token", "scope", "resource")


async def _load(provider: Provider, token_hash: str) -> tuple[RefreshToken, Grant]:
    found = await provider.store.grants.get_refresh_token(token_hash)
    if found is None:
        raise OAuthError("refresh-unknown", "The refresh token is unknown.")
    return found


async def _rotate(
    provider: Provider,
    token_hash: str,
    now: int,
    token: RefreshToken,
    grant: Grant,
    issued: list[AccessToken],
) -> str:
    """The successor's value: a new one, or within the grace window the same one again.
    ``issued``: the records of the access tokens of this response, stored with the rotation
    (one transaction) or, on the grace path, on their own."""
    if token.rotated_at is None:
        value, successor = refresh.new_token(
            provider, grant, token.scope, now, expires_at=token.expires_at
        )
        sealed = provider.kek.encrypt(value.encode(), token_hash.encode())
        grants = provider.store.grants
        if await grants.rotate_refresh_token(token_hash, successor, sealed, now, issued):
            return value
        token, grant = await _load(provider, token_hash)  # lost a race: read the winner's
    assert token.rotated_at is not None
    if now - token.rotated_at <= provider.settings.refresh_grace and token.successor_enc:
        for record in issued:
            await provider.store.grants.add_access_token(record)
        return provider.kek.decrypt(token.successor_enc, token_hash.encode()).decode()
    await provider.store.grants.revoke_grant(grant.grant_id, now)
    provider.events.emit("refresh.reused", client_id=token.client_id, grant_id=grant.grant_id)
    raise OAuthError(
        "refresh-reused",
        "The refresh token was already used; the grant has been revoked (RFC 9700 §4.14). "
        "Always keep the newest refresh token from each response.",
    )


async def handle(req: OAuthRequest, client: Client, provider: Provider) -> dict[str, Any]:
    value = req.require("refresh_token")
    token_hash = sha256_hex(value)
    now = provider.now()
    token, grant = await _load(provider, token_hash)
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
    # RFC 6749 §6: a narrower scope applies to the new access token; wider is refused.
    granted = scopes.parse(token.scope)
    requested = scopes.parse(req.get("scope")) or granted
    wider = [s for s in requested if s not in granted]
    if wider:
        raise OAuthError(
            "scope-wider",
            f"scope {' '.join(wider)} was not granted; request a subset of: {token.scope}.",
        )
    resource = req.get("resource")
    if token.rotated_at is not None:  # the grace window, or a reuse: decided before issuing
        successor = await _rotate(provider, token_hash, now, token, grant, [])
        body = await token_response(
            provider, client, grant, requested, resource=resource, nonce=None
        )
    else:  # the usual case: the new tokens' records are written with the rotation
        issued: list[AccessToken] = []
        body = await token_response(
            provider, client, grant, requested, resource=resource, nonce=None, deferred=issued
        )
        successor = await _rotate(provider, token_hash, now, token, grant, issued)
    body["refresh_token"] = successor  # the refresh token keeps its full scope
    return body
