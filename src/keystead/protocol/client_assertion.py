"""JWT client assertions: ``client_secret_jwt`` and ``private_key_jwt`` (RFC 7523 §2.2 and §3,
OIDC Core §9).

The assertion is verified (signature with the client's secret or public key, then the claims),
and only then its ``jti`` is recorded, atomically and across processes, for as long as the
assertion is valid: a second use is refused (RFC 7523 §3 item 7).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from keystead.errors import OAuthError
from keystead.jose.client_keys import (
    ASYMMETRIC_ALGS,
    HMAC_ALGS,
    ClientKey,
    InvalidJwks,
    UnknownKid,
    parse_jwks,
    peek,
    verify_hmac,
    verify_with_jwks,
)
from keystead.jose.jwt import JoseError
from keystead.net.fetch import FetchError
from keystead.protocol import fapi
from keystead.secrets_util import sha256_hex
from keystead.store.base import Client

if TYPE_CHECKING:
    from keystead.jose.kek import KeyEncryptor
    from keystead.provider import Provider

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
MAX_LIFETIME = 300  # exp at most 5 minutes ahead: bounds the replay cache and the damage
LEEWAY = 30  # clock skew allowed on exp, nbf and iat
MAX_JTI = 256
_SECRET_AAD = b"client_secret:"


class AssertionContext(NamedTuple):
    provider: Provider
    audiences: frozenset[str]  # the values aud may take at this endpoint


def method_of(assertion: str) -> tuple[str, str | None]:
    """(the auth method the assertion is for, the client_id it names), from the unverified
    JWT: an HMAC alg means client_secret_jwt, anything else private_key_jwt."""
    try:
        header, claims = peek(assertion)
    except JoseError as exc:
        raise OAuthError(
            "client-assertion-malformed", f"client_assertion: {str(exc).rstrip('.')}."
        ) from None
    except RecursionError:  # JSON nested past the interpreter's stack (peek's json.loads)
        raise OAuthError(
            "client-assertion-malformed", "client_assertion: the JSON nests too deeply."
        ) from None
    alg = header.get("alg")
    method = (
        "client_secret_jwt"
        if isinstance(alg, str) and alg.startswith("HS")
        else ("private_key_jwt")
    )
    named = claims.get("sub", claims.get("iss"))
    return method, named if isinstance(named, str) and named else None


# --- client_secret_jwt: the secret is needed in clear, so it is kept encrypted at rest ---


def seal_secret(kek: KeyEncryptor, client_id: str, secret: str) -> str:
    """The client secret encrypted with the KEK, bound to the client_id."""
    return kek.encrypt(secret.encode("utf-8"), _SECRET_AAD + client_id.encode("utf-8"))


def open_secret(kek: KeyEncryptor, client: Client) -> str | None:
    sealed = client.extra.get("client_secret_enc")
    if not isinstance(sealed, str):
        return None
    aad = _SECRET_AAD + client.client_id.encode("utf-8")
    return kek.decrypt(sealed, aad).decode("utf-8")


def _allowed_algs(client: Client, method_algs: Sequence[str], assertion: str) -> str:
    registered = client.extra.get("token_endpoint_auth_signing_alg")
    allowed = [registered] if isinstance(registered, str) else list(method_algs)
    header, _ = peek(assertion)
    alg = header.get("alg")
    if not isinstance(alg, str) or alg not in allowed:
        raise OAuthError(
            "client-assertion-alg",
            f"The client assertion is signed with alg {alg!r}; this client's "
            f"{client.token_endpoint_auth_method} assertions must use {' or '.join(allowed)}.",
        )
    return alg


async def check_client_secret_jwt(client: Client, assertion: str, ctx: AssertionContext) -> None:
    alg = _allowed_algs(client, HMAC_ALGS, assertion)
    try:
        secret = open_secret(ctx.provider.kek, client)
    except ValueError as exc:
        raise OAuthError(
            "client-assertion-signature",
            "The client's secret cannot be read on this server; rotate it.",
            debug=str(exc),
        ) from None
    if secret is None:
        raise OAuthError(
            "client-assertion-signature",
            "This client has no secret for client_secret_jwt; re-register it (or rotate the "
            "secret) to get one.",
        )
    try:
        claims = verify_hmac(assertion, secret, (alg,))
    except JoseError as exc:
        raise OAuthError(
            "client-assertion-signature",
            "The client assertion's MAC does not verify with the client_secret.",
            debug=str(exc),
        ) from None
    await _check_claims(client, claims, ctx)


# --- private_key_jwt: the client's public keys, inline or from jwks_uri ---


async def _keys(client: Client, provider: Provider, *, refresh: bool) -> list[ClientKey]:
    inline = client.extra.get("jwks")
    if inline is not None:
        try:
            return parse_jwks(inline, strict=False)
        except InvalidJwks as exc:
            raise OAuthError("client-jwks-unavailable", f"The registered jwks: {exc}") from None
    uri = client.extra.get("jwks_uri")
    if not isinstance(uri, str):
        raise OAuthError(
            "client-jwks-unavailable",
            "This private_key_jwt client registered neither jwks nor jwks_uri.",
        )
    try:
        return await provider.client_jwks.keys(client.client_id, uri, refresh=refresh)
    except FetchError as exc:
        raise OAuthError("client-jwks-unavailable", f"The client's jwks_uri: {exc}") from None


client_keys = _keys  # also the keys of self_signed_tls_client_auth (protocol/mtls.py)


async def check_private_key_jwt(client: Client, assertion: str, ctx: AssertionContext) -> None:
    alg = _allowed_algs(client, ASYMMETRIC_ALGS, assertion)
    keys = await _keys(client, ctx.provider, refresh=False)
    try:
        try:
            claims = verify_with_jwks(assertion, keys, (alg,))
        except UnknownKid:
            if "jwks_uri" not in client.extra:
                raise
            # The client may have rotated its keys: refetch (rate-limited by the cache).
            keys = await _keys(client, ctx.provider, refresh=True)
            claims = verify_with_jwks(assertion, keys, (alg,))
    except JoseError as exc:
        raise OAuthError(
            "client-assertion-signature",
            f"The client assertion does not verify with the client's registered keys: {exc}.",
        ) from None
    await _check_claims(client, claims, ctx)


# --- the claims, RFC 7523 §3 ---


def _int_claim(claims: dict[str, Any], name: str) -> int | None:
    value = claims.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise OAuthError(
            "client-assertion-claims", f"The client assertion's {name} is not a number."
        )
    return int(value)


async def _check_claims(client: Client, claims: dict[str, Any], ctx: AssertionContext) -> None:
    client_id = client.client_id
    # RFC 7523 §3 items 1-2: iss and sub are the client_id (OIDC Core §9).
    for name in ("iss", "sub"):
        if claims.get(name) != client_id:
            raise OAuthError(
                "client-assertion-claims",
                f"The client assertion's {name} must be the client_id {client_id}.",
            )
    # RFC 7523 §3 item 3: the authorization server must be the audience; one string.
    aud = claims.get("aud")
    audiences = fapi.assertion_audiences(client, ctx.audiences, ctx.provider.settings.issuer)
    if not isinstance(aud, str) or aud not in audiences:
        raise OAuthError(
            "client-assertion-audience",
            "The client assertion's aud must be one string: "
            f"{' or '.join(sorted(audiences))}; it is {aud!r}"
            + (
                " (FAPI 2.0 Security Profile §5.3.2.1: only the issuer identifier)."
                if fapi.is_fapi2(client)
                else "."
            ),
        )
    now = ctx.provider.now()
    # RFC 7523 §3 item 4: exp is required; keystead also caps how far ahead it may be.
    exp = _int_claim(claims, "exp")
    if exp is None:
        raise OAuthError("client-assertion-lifetime", "The client assertion has no exp.")
    if exp <= now - LEEWAY:
        raise OAuthError("client-assertion-lifetime", "The client assertion has expired.")
    if exp > now + MAX_LIFETIME + LEEWAY:
        raise OAuthError(
            "client-assertion-lifetime",
            f"The client assertion's exp is {exp - now} s ahead; at most {MAX_LIFETIME} s "
            "are accepted.",
        )
    nbf = _int_claim(claims, "nbf")  # item 5
    if nbf is not None and nbf > now + LEEWAY:
        raise OAuthError("client-assertion-claims", "The client assertion is not valid yet (nbf).")
    iat = _int_claim(claims, "iat")  # item 6
    if iat is not None and iat > now + LEEWAY:
        raise OAuthError("client-assertion-claims", "The client assertion's iat is in the future.")
    jti = claims.get("jti")
    if not isinstance(jti, str) or not jti or len(jti) > MAX_JTI:
        raise OAuthError(
            "client-assertion-claims",
            f"The client assertion needs a jti: a unique string of 1 to {MAX_JTI} characters.",
        )
    # RFC 7523 §3 item 7 / OIDC Core §9: one use per jti, for as long as the JWT is valid.
    key = "jti:" + sha256_hex(f"{client_id}\x00{jti}")
    if not await ctx.provider.store.markers.add(key, exp + LEEWAY, now):
        ctx.provider.events.emit("client_assertion.replayed", client_id=client_id)
        raise OAuthError(
            "client-assertion-replayed",
            "This client assertion (its jti) was already used; sign a new one per request.",
        )
