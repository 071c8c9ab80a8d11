"""Who a CIBA request is for (CIBA Core 1.0 §7.1): exactly one of ``login_hint``,
``id_token_hint`` and ``login_hint_token`` names the user, resolved when the request is made.

- ``login_hint``: a local user's username, or the email address exactly one user has
  verified (an unverified address could be anyone's: it never names a user).
- ``id_token_hint``: an ID token keystead issued to this client; an expired one is accepted
  (as OIDC Core §3.1.2.1 says for the authorization endpoint): it only names the user, who
  still has to approve.
- ``login_hint_token``: a JWT the client signs with one of its registered keys (``jwks`` or
  ``jwks_uri``, asymmetric algs as for private_key_jwt), with ``iss`` = the client_id,
  ``aud`` = the issuer, ``exp`` (required; past it: ``expired_login_hint_token``) and
  ``sub_id``, an RFC 9493 subject identifier of format ``email`` (a verified address) or
  ``iss_sub`` (``iss`` = this issuer, ``sub`` = the user's sub).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from keystead.errors import OAuthError
from keystead.jose.client_keys import (
    ClientKey,
    InvalidJwks,
    UnknownKid,
    parse_jwks,
    verify_with_jwks,
)
from keystead.jose.jwt import JoseError
from keystead.net.fetch import FetchError
from keystead.protocol import pairwise
from keystead.protocol.id_token import hint_claims
from keystead.store.base import Client, User

if TYPE_CHECKING:
    from keystead.provider import Provider

HINTS = ("login_hint", "id_token_hint", "login_hint_token")
LEEWAY = 30  # seconds of clock skew allowed on exp
MAX_HINT = 4096  # characters: a hint is a name or a small JWT


def _unknown(what: str) -> OAuthError:
    return OAuthError("ciba-unknown-user", f"{what} names no user of this server.")


async def _by_email(provider: Provider, email: str, what: str) -> User:
    # UserStore.get_by_email is annotated with a name its own ``list`` method shadows.
    found: Sequence[User] = await provider.store.users.get_by_email(email)
    verified = [u for u in found if u.email_verified]
    if len(verified) != 1:
        raise _unknown(what)
    return verified[0]


async def _login_hint(provider: Provider, hint: str) -> User:
    user = await provider.store.users.get_by_username(hint)
    if user is not None:
        return user
    if "@" in hint:
        return await _by_email(provider, hint, "login_hint")
    raise _unknown("login_hint")


async def _id_token_hint(provider: Provider, client: Client, hint: str) -> User:
    claims = await hint_claims(provider, hint)
    aud = claims.get("aud")
    audiences = [aud] if isinstance(aud, str) else list(aud) if isinstance(aud, list) else []
    # CIBA §7.1: "an ID Token previously issued to the Client".
    if client.client_id not in audiences:
        raise OAuthError("ciba-id-token-hint-client", "id_token_hint was issued to another client.")
    if pairwise.is_pairwise(client):
        # OIDC Core §8: the hint's sub is this client's pairwise value; with no session to
        # compare it with, keystead cannot name the user (protocol/pairwise.py).
        raise OAuthError(
            "ciba-unknown-user",
            "id_token_hint of a pairwise client cannot name the user here; send login_hint.",
        )
    sub = claims.get("sub")
    user = await provider.store.users.get(sub) if isinstance(sub, str) else None
    if user is None:
        raise _unknown("id_token_hint")
    return user


def _bad_token(why: str) -> OAuthError:
    return OAuthError("ciba-login-hint-token-invalid", f"login_hint_token: {why}")


async def _client_keys(provider: Provider, client: Client, *, refresh: bool) -> list[ClientKey]:
    inline = client.extra.get("jwks")
    try:
        if inline is not None:
            return parse_jwks(inline, strict=False)
        uri = client.extra.get("jwks_uri")
        if isinstance(uri, str):
            return await provider.client_jwks.keys(client.client_id, uri, refresh=refresh)
    except (InvalidJwks, FetchError) as exc:
        raise _bad_token(f"the client's keys are unusable: {exc}") from None
    raise _bad_token("the client registered no keys (jwks or jwks_uri) to verify it with.")


async def _verified(provider: Provider, client: Client, token: str) -> dict[str, Any]:
    try:
        try:
            keys = await _client_keys(provider, client, refresh=False)
            return verify_with_jwks(token, keys)
        except UnknownKid:
            if "jwks_uri" not in client.extra:
                raise
            keys = await _client_keys(provider, client, refresh=True)  # rotated keys
            return verify_with_jwks(token, keys)
    except JoseError as exc:
        raise _bad_token(f"it does not verify with the client's registered keys: {exc}.") from None


async def _login_hint_token(provider: Provider, client: Client, token: str) -> User:
    claims = await _verified(provider, client, token)
    if claims.get("iss") != client.client_id:
        raise _bad_token("its iss must be the client_id.")
    aud = claims.get("aud")
    issuer = provider.settings.issuer
    if aud != issuer and not (isinstance(aud, list) and issuer in aud):
        raise _bad_token(f"its aud must be {issuer}.")
    exp = claims.get("exp")
    if isinstance(exp, bool) or not isinstance(exp, int | float):
        raise _bad_token("it has no exp.")
    if exp <= provider.now() - LEEWAY:
        raise OAuthError("ciba-login-hint-token-expired", "login_hint_token has expired.")
    sub_id = claims.get("sub_id")
    if not isinstance(sub_id, dict):
        raise _bad_token("it has no sub_id (an RFC 9493 subject identifier).")
    fmt = sub_id.get("format")
    if fmt == "email" and isinstance(sub_id.get("email"), str):
        return await _by_email(provider, sub_id["email"], "login_hint_token")
    if fmt == "iss_sub" and isinstance(sub_id.get("sub"), str):
        if sub_id.get("iss") != issuer:
            raise _unknown("login_hint_token (iss_sub of another issuer)")
        user = await provider.store.users.get(sub_id["sub"])
        if user is None:
            raise _unknown("login_hint_token")
        return user
    raise _bad_token("sub_id must have format email (with email) or iss_sub (with iss, sub).")


async def resolve_user(provider: Provider, client: Client, hints: dict[str, str]) -> User:
    """The user the request's one hint names. ``hints``: the hints present, by name."""
    # CIBA §7.1: one (and only one) of the hints is REQUIRED.
    if len(hints) != 1:
        raise OAuthError(
            "ciba-hint-count",
            "Send exactly one of login_hint, id_token_hint and login_hint_token; "
            f"got {', '.join(sorted(hints)) or 'none'}.",
        )
    ((name, value),) = hints.items()
    if len(value) > MAX_HINT:
        raise _unknown(name)
    if name == "login_hint":
        user = await _login_hint(provider, value)
    elif name == "id_token_hint":
        user = await _id_token_hint(provider, client, value)
    else:
        user = await _login_hint_token(provider, client, value)
    if user.disabled_at is not None:  # a disabled account is no user to authenticate
        raise _unknown(name)
    return user
