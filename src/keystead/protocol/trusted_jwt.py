"""JWTs of trusted outside issuers: the assertion of the JWT bearer grant (RFC 7523 §2.1,
§3) and ``jwt`` subject or actor tokens of token exchange (RFC 8693 §3).

One path for both: find the issuer by ``iss`` (never trust an unknown one), check that this
client may present its JWTs, verify the signature with the issuer's keys (asymmetric algs
only: no ``none``, no HMAC), then the claims, then map the subject to a local user by the
issuer's rule. Every refusal is ``invalid_grant`` with a catalog row naming the rule; the
description starts with the parameter at fault (``assertion``, ``subject_token`` ...).

Subject mappings (``TrustedIssuer.subject_mapping``):
- ``sub``: the subject is a keystead user's sub;
- ``username``: a keystead username;
- ``email``: the one local user with this verified email, and only if the JWT says
  ``email_verified`` or the issuer is marked as verifying emails;
- ``none``: the subject as is (service identities, no local user). It is refused when it
  could be mistaken for one of keystead's own subjects: a local user's sub, or a ``client:``
  subject of client_credentials tokens.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from keystead.errors import OAuthError
from keystead.jose.client_keys import (
    ASYMMETRIC_ALGS,
    ClientKey,
    InvalidJwks,
    UnknownKid,
    parse_jwks,
    peek,
    verify_with_jwks,
)
from keystead.jose.jwt import JoseError
from keystead.net.fetch import FetchError
from keystead.secrets_util import sha256_hex
from keystead.store.base import Client, User
from keystead.store.trusted_issuers import TrustedIssuer

if TYPE_CHECKING:
    from keystead.provider import Provider

JWKS_CACHE_PREFIX = "trusted-issuer:"  # services/trusted_issuers.py forgets by this key
MAX_JTI = 256
CLIENT_SUB_PREFIX = "client:"  # client_credentials subjects (grants/client_credentials.py)


class ForeignJwt(NamedTuple):
    """A verified JWT of a trusted issuer and the local subject it maps to."""

    issuer: TrustedIssuer
    claims: dict[str, Any]
    sub: str  # the sub of the tokens keystead issues for it


async def _keys(provider: Provider, issuer: TrustedIssuer, *, refresh: bool) -> list[ClientKey]:
    if issuer.jwks is not None:
        try:
            return parse_jwks(issuer.jwks, strict=False)
        except InvalidJwks as exc:
            raise OAuthError("trusted-jwt-keys", f"The issuer's registered jwks: {exc}") from None
    assert issuer.jwks_uri is not None  # one of the two (services/trusted_issuers.py)
    try:
        return await provider.client_jwks.keys(
            JWKS_CACHE_PREFIX + issuer.issuer_id, issuer.jwks_uri, refresh=refresh
        )
    except FetchError as exc:
        raise OAuthError("trusted-jwt-keys", f"The issuer's jwks_uri: {exc}") from None


async def _verify_signature(
    provider: Provider, issuer: TrustedIssuer, token: str, alg: str, what: str
) -> dict[str, Any]:
    keys = await _keys(provider, issuer, refresh=False)
    try:
        try:
            return verify_with_jwks(token, keys, (alg,))
        except UnknownKid:
            if issuer.jwks_uri is None:
                raise
            # The issuer may have rotated its keys: refetch (rate-limited by the cache).
            keys = await _keys(provider, issuer, refresh=True)
            return verify_with_jwks(token, keys, (alg,))
    except JoseError as exc:
        raise OAuthError(
            "trusted-jwt-signature",
            f"{what}: the signature does not verify with the keys of {issuer.issuer}: {exc}.",
        ) from None


def _number(claims: dict[str, Any], name: str, what: str) -> int | None:
    value = claims.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise OAuthError("trusted-jwt-claims", f"{what}: {name} is not a number.")
    return int(value)


def _check_times(provider: Provider, claims: dict[str, Any], what: str, *, max_age: bool) -> int:
    """exp (required), nbf, iat with the configured leeway; returns exp."""
    now, leeway = provider.now(), provider.settings.jwt_grant_leeway
    exp = _number(claims, "exp", what)
    if exp is None:  # RFC 7523 §3 item 4: exp is required
        raise OAuthError("trusted-jwt-expired", f"{what}: the JWT has no exp.")
    if exp <= now - leeway:
        raise OAuthError("trusted-jwt-expired", f"{what}: the JWT has expired.")
    nbf = _number(claims, "nbf", what)  # RFC 7523 §3 item 5
    if nbf is not None and nbf > now + leeway:
        raise OAuthError("trusted-jwt-not-yet-valid", f"{what}: the JWT is not valid yet (nbf).")
    iat = _number(claims, "iat", what)  # RFC 7523 §3 item 6
    if iat is not None and iat > now + leeway:
        raise OAuthError("trusted-jwt-not-yet-valid", f"{what}: the JWT's iat is in the future.")
    oldest = now - provider.settings.jwt_grant_max_age - leeway
    if max_age and iat is not None and iat < oldest:
        raise OAuthError(
            "trusted-jwt-expired",
            f"{what}: the JWT was issued {now - iat} s ago; at most "
            f"{provider.settings.jwt_grant_max_age} s are accepted.",
        )
    return exp


def _check_audience(provider: Provider, claims: dict[str, Any], what: str) -> None:
    # RFC 7523 §3 item 3: the JWT names this authorization server as (one of) its audience.
    settings = provider.settings
    ours = {settings.issuer, settings.url("/token")}
    aud = claims.get("aud")
    audiences = aud if isinstance(aud, list) else [aud]
    if not any(isinstance(a, str) and a in ours for a in audiences):
        raise OAuthError(
            "trusted-jwt-audience",
            f"{what}: "
            + f"aud must contain {settings.issuer} or {settings.url('/token')}; it is {aud!r}.",
        )


async def _mapped_sub(
    provider: Provider, issuer: TrustedIssuer, claims: dict[str, Any], what: str
) -> str:
    # RFC 7523 §3 item 2: a subject is required.
    subject = claims.get(issuer.subject_claim)
    if not isinstance(subject, str) or not subject or not isinstance(claims.get("sub"), str):
        raise OAuthError(
            "trusted-jwt-subject",
            f"{what}: the JWT needs sub and {issuer.subject_claim} as non-empty strings.",
        )
    users = provider.store.users
    mapping = issuer.subject_mapping
    user = None
    if mapping == "sub":
        user = await users.get(subject)
    elif mapping == "username":
        user = await users.get_by_username(subject)
    elif mapping == "email":
        if claims.get("email_verified") is not True and not issuer.verifies_email:
            raise OAuthError(
                "trusted-jwt-subject-unmapped",
                f"{what}: "
                + "the email is not verified (no email_verified: true) and the issuer is not "
                "marked as verifying emails.",
            )
        matches: Sequence[User] = await users.get_by_email(subject)
        found = [u for u in matches if u.email_verified]
        user = found[0] if len(found) == 1 else None
    else:  # "none": the subject as is, unless it could pass for one of keystead's own
        if subject.startswith(CLIENT_SUB_PREFIX) or await users.get(subject) is not None:
            raise OAuthError(
                "trusted-jwt-subject-unmapped",
                f"{what}: "
                + "the subject collides with a keystead subject; it cannot be used as is.",
            )
        return subject
    if user is None:
        raise OAuthError(
            "trusted-jwt-subject-unmapped",
            f"{what}: "
            + f"no local user matches the subject by {mapping} (issuer {issuer.issuer}).",
        )
    if user.disabled_at is not None:  # a disabled account gets no tokens
        raise OAuthError(
            "trusted-jwt-subject-unmapped",
            f"{what}: the local user the subject names is disabled (keystead user enable).",
        )
    return user.sub


async def _issuer_for(
    provider: Provider, client: Client, token: str, what: str
) -> tuple[TrustedIssuer, str]:
    try:
        header, unverified = peek(token)
    except (JoseError, RecursionError) as exc:
        raise OAuthError("trusted-jwt-malformed", f"{what}: not a signed JWT ({exc}).") from None
    alg = header.get("alg")
    if not isinstance(alg, str) or alg not in ASYMMETRIC_ALGS:
        raise OAuthError(
            "trusted-jwt-alg",
            f"{what}: alg {alg!r} is not accepted; use one of {', '.join(ASYMMETRIC_ALGS)}.",
        )
    iss = unverified.get("iss")  # RFC 7523 §3 item 1
    issuer = (
        await provider.store.trusted_issuers.get_by_issuer(iss) if isinstance(iss, str) else None
    )
    if issuer is None:
        raise OAuthError(
            "trusted-jwt-issuer-unknown", f"{what}: iss {iss!r} is not a trusted issuer."
        )
    if client.client_id not in issuer.allowed_client_ids:
        raise OAuthError(
            "trusted-jwt-client-not-allowed",
            f"{what}: client {client.client_id} may not present JWTs of {issuer.issuer}.",
        )
    return issuer, alg


async def verify(
    provider: Provider, client: Client, token: str, what: str, *, assertion: bool
) -> ForeignJwt:
    """A JWT of a trusted issuer, verified and mapped. ``assertion``: a JWT bearer grant
    (RFC 7523 §3), whose iat must be recent and whose jti is single use."""
    issuer, alg = await _issuer_for(provider, client, token, what)
    claims = await _verify_signature(provider, issuer, token, alg, what)
    if claims.get("iss") != issuer.issuer:
        raise OAuthError("trusted-jwt-issuer-unknown", f"{what}: iss changed under the signature.")
    _check_audience(provider, claims, what)
    exp = _check_times(provider, claims, what, max_age=assertion)
    sub = await _mapped_sub(provider, issuer, claims, what)
    if assertion:
        jti = claims.get("jti")
        if not isinstance(jti, str) or not jti or len(jti) > MAX_JTI:
            raise OAuthError(
                "trusted-jwt-claims",
                f"{what}: the JWT needs a jti of 1 to {MAX_JTI} characters.",
            )
        # RFC 7523 §3 item 7: one use per jti, remembered until the JWT expires.
        key = "jwt-grant:" + sha256_hex(f"{issuer.issuer}\x00{jti}")
        leeway = provider.settings.jwt_grant_leeway
        if not await provider.store.markers.add(key, exp + leeway, provider.now()):
            raise OAuthError("trusted-jwt-replayed", f"{what}: this jti was already used.")
    return ForeignJwt(issuer, claims, sub)
