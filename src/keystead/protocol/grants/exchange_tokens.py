"""The subject and actor tokens of a token exchange (RFC 8693 §2.1, token types of §3), each
validated by the party that issued it:

- ``access_token``: keystead's own, opaque or JWT, through the same code introspection uses
  (active: known, unexpired, not revoked, nor its grant). An actor's access token must have
  been issued to the client making the request: the actor is that client, or acts through it.
- ``refresh_token``: keystead's own, active and issued to this client (a refresh token is
  bound to its client, RFC 6749 §6); subject only.
- ``id_token``: keystead's own, by signature and ``iss``, unexpired, for this client (``aud``).
- ``jwt``: a trusted issuer's JWT, for a client it allows (protocol/trusted_jwt.py); a JWT
  whose iss is keystead's is taken as keystead's access token.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

from keystead.errors import OAuthError
from keystead.jose import jwt
from keystead.jose.client_keys import peek
from keystead.protocol import pairwise, scopes, trusted_jwt
from keystead.protocol.tokens import AT_JWT_TYP, exchange_act, resolve_access_token
from keystead.secrets_util import sha256_hex
from keystead.store.base import Client

if TYPE_CHECKING:
    from keystead.provider import Provider

PREFIX = "urn:ietf:params:oauth:token-type:"
ACCESS_TOKEN = PREFIX + "access_token"
REFRESH_TOKEN = PREFIX + "refresh_token"
ID_TOKEN = PREFIX + "id_token"
JWT = PREFIX + "jwt"
SUBJECT_TYPES = (ACCESS_TOKEN, REFRESH_TOKEN, ID_TOKEN, JWT)
ACTOR_TYPES = (ACCESS_TOKEN, ID_TOKEN, JWT)


class Party(NamedTuple):
    """Who a subject or actor token names."""

    sub: str
    scope: tuple[str, ...] | None  # None: the token carries no scope (ID token, some JWTs)
    act: dict[str, Any] | None  # the token's own act (an exchanged token)
    client_id: str | None  # keystead's tokens: the client they were issued to
    iss: str | None  # an outside issuer's JWT: its iss


def _invalid(role: str, why: str) -> OAuthError:
    if role == "subject_token":
        return OAuthError("token-exchange-subject-invalid", f"subject_token: {why}")
    return OAuthError("token-exchange-actor-invalid", f"actor_token: {why}")


async def _access_token(provider: Provider, value: str, role: str) -> Party:
    token = await resolve_access_token(provider, value)
    if token is None:
        raise _invalid(
            role, "not an active access token of this server (unknown, expired or revoked)."
        )
    return Party(token.sub, scopes.parse(token.scope), token.act, token.client_id, None)


async def _refresh_token(provider: Provider, client: Client, value: str, role: str) -> Party:
    found = await provider.store.grants.get_refresh_token(sha256_hex(value))
    now = provider.now()
    if found is not None:
        token, grant = found
        if (
            grant.revoked_at is None
            and token.rotated_at is None
            and token.expires_at > now
            and token.idle_expires_at > now
        ):
            if token.client_id != client.client_id:  # RFC 6749 §6: bound to its client
                raise _invalid(role, "the refresh token was issued to another client.")
            act = exchange_act(grant.claims)
            return Party(token.sub, scopes.parse(token.scope), act, token.client_id, None)
    raise _invalid(role, "not an active refresh token of this server.")


async def _id_token(provider: Provider, client: Client, value: str, role: str) -> Party:
    try:
        header, claims = jwt.verify(value, await provider.keyring())
    except jwt.JoseError as exc:
        raise _invalid(role, f"not an ID token signed by this server ({exc}).") from None
    exp = claims.get("exp")
    aud = claims.get("aud")
    audiences = aud if isinstance(aud, list) else [aud]
    if header.get("typ") not in (None, "JWT") or claims.get("iss") != provider.settings.issuer:
        raise _invalid(role, "not an ID token of this server.")
    if not isinstance(exp, int) or exp <= provider.now():
        raise _invalid(role, "the ID token has expired.")
    if client.client_id not in audiences:
        raise _invalid(role, "the ID token was issued to another client (aud).")
    sub = claims.get("sub")
    if not isinstance(sub, str):
        raise _invalid(role, "the ID token has no sub.")
    if pairwise.is_pairwise(client):
        # OIDC Core §8: its sub is this client's pairwise value, not the user's.
        raise OAuthError(
            "pairwise-id-token-exchange",
            f"{role}: an ID token of a pairwise client names the user by a pairwise sub; "
            "exchange the client's access token instead.",
        )
    return Party(sub, None, None, client.client_id, None)


async def _jwt(provider: Provider, client: Client, value: str, role: str) -> Party:
    try:
        header, unverified = peek(value)
    except (jwt.JoseError, RecursionError):
        header, unverified = {}, {}
    if unverified.get("iss") == provider.settings.issuer:
        if header.get("typ") != AT_JWT_TYP:
            raise _invalid(role, "a JWT of this server must be one of its access tokens.")
        return await _access_token(provider, value, role)
    found = await trusted_jwt.verify(provider, client, value, role, assertion=False)
    scope = found.claims.get("scope")
    act = found.claims.get("act")
    # A subject mapped to a local user is a keystead subject; one used as is ("none") is the
    # issuer's, and act names that issuer next to it (RFC 8693 §4.1: sub in the iss's context).
    foreign = found.issuer.subject_mapping == "none"
    return Party(
        found.sub,
        scopes.parse(scope) if isinstance(scope, str) else None,
        act if isinstance(act, dict) else None,
        None,
        found.issuer.issuer if foreign else None,
    )


async def party(
    provider: Provider, client: Client, value: str, token_type: str, role: str
) -> Party:
    """The party a subject_token or actor_token (``role``) of ``token_type`` names."""
    allowed = SUBJECT_TYPES if role == "subject_token" else ACTOR_TYPES
    if token_type not in allowed:
        raise OAuthError(
            "token-exchange-token-type",
            f"{role}_type {token_type} is not supported; use one of {', '.join(allowed)}.",
        )
    if token_type == ACCESS_TOKEN:
        found = await _access_token(provider, value, role)
    elif token_type == REFRESH_TOKEN:
        found = await _refresh_token(provider, client, value, role)
    elif token_type == ID_TOKEN:
        found = await _id_token(provider, client, value, role)
    else:
        found = await _jwt(provider, client, value, role)
    if role == "actor_token" and found.client_id not in (None, client.client_id):
        raise OAuthError(
            "token-exchange-actor-client",
            "actor_token: the access token was issued to another client; the actor is the "
            "client making the request (or acts through it).",
        )
    return found
