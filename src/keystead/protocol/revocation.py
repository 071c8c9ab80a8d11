"""Token revocation (RFC 7009)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from keystead.errors import OAuthError
from keystead.protocol import client_auth, dpop
from keystead.protocol.client_auth import authenticate_client
from keystead.protocol.origins import check_origin
from keystead.protocol.request import OAuthRequest
from keystead.protocol.tokens import ActiveToken, resolve_access_token
from keystead.secrets_util import sha256_hex
from keystead.store.base import AccessToken, DuplicateError

if TYPE_CHECKING:
    from keystead.provider import Provider

PARAMETERS = ("token", "token_type_hint", *client_auth.PARAMETERS)


def _not_yours() -> OAuthError:
    # RFC 7009 §2.1: a client may revoke only tokens issued to it.
    return OAuthError("token-not-yours", "This token was not issued to the requesting client.")


async def _revoke_refresh(provider: Provider, client_id: str, value: str) -> bool:
    found = await provider.store.grants.get_refresh_token(sha256_hex(value))
    if found is None:
        return False
    token, grant = found
    if token.client_id != client_id:
        raise _not_yours()
    # Revoking a refresh token revokes its grant: every refresh and access token of it.
    await provider.store.grants.revoke_grant(grant.grant_id, provider.now())
    provider.events.emit(
        "token.revoked", kind="refresh_token", client_id=client_id, grant_id=grant.grant_id
    )
    return True


async def _revoke_access(provider: Provider, client_id: str, value: str) -> bool:
    token = await resolve_access_token(provider, value)
    if token is None:
        return False
    if token.client_id != client_id:
        raise _not_yours()
    now = provider.now()
    if token.token_hash is not None and token.recorded:
        await provider.store.grants.revoke_access_token(token.token_hash, now)
    elif token.token_hash is not None and token.grant_id is not None:
        # A grant's JWT has no row until it is revoked: its revocation is that row (kept
        # until the token expires, then purged like any expired token).
        await _record_revoked_jwt(provider, token, now)
    # (a client_credentials JWT, never recorded, simply expires)
    provider.events.emit("token.revoked", kind="access_token", client_id=client_id)
    return True


async def _record_revoked_jwt(provider: Provider, token: ActiveToken, now: int) -> None:
    assert token.token_hash is not None and token.grant_id is not None
    record = AccessToken(
        token_hash=token.token_hash,
        grant_id=token.grant_id,
        client_id=token.client_id,
        sub=token.sub,
        scope=token.scope,
        expires_at=token.exp,
        created_at=token.iat,
        aud=token.aud,
        jti=token.jti,
        revoked_at=now,
        jkt=token.jkt,
        x5t_s256=token.x5t_s256,
    )
    try:
        await provider.store.grants.add_access_token(record)
    except DuplicateError:
        pass  # revoked at the same moment by another request: revoked either way
    except LookupError:
        pass  # its grant went away meanwhile: the token is inactive either way


async def revoke(req: OAuthRequest, provider: Provider) -> None:
    req.refuse_duplicates(PARAMETERS)
    client = await authenticate_client(req, provider, endpoint="/revoke")
    check_origin(req, client, provider)  # before revoking anything
    proof = req.headers.get("dpop")
    if proof is not None:  # RFC 9449: a proof sent here is checked like everywhere
        await dpop.verify(provider, proof, htm="POST", path="/revoke")
    value = req.require("token")
    # RFC 7009 §2.1: the hint only orders the lookups; an unknown hint is ignored.
    order = [_revoke_refresh, _revoke_access]
    if req.get("token_type_hint") == "access_token":
        order.reverse()
    for attempt in order:
        if await attempt(provider, client.client_id, value):
            return
    # RFC 7009 §2.2: an invalid or unknown token is not an error.
