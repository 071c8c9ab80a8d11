"""JWT-Secured Authorization Requests (RFC 9101): a request object by value (``request``) or
by reference (``request_uri``), verified with the client's keys, whose claims become the
authorization request's parameters.

RFC 9101 §6.3: only the request object's parameters are used; those sent outside it are
ignored, except ``client_id``, which must match. Signed with the client's asymmetric keys
(jwks / jwks_uri, as for private_key_jwt); ``alg: none`` only for a client that registered
``request_object_signing_alg: none``. Encrypted request objects (JWE) are not supported.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

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
from keystead.net.fetch import FetchError, SafeFetcher
from keystead.protocol import fapi
from keystead.protocol.request import OAuthRequest, from_pairs
from keystead.store.base import Client

if TYPE_CHECKING:
    from keystead.provider import Provider

SIGNING_ALGS: tuple[str, ...] = (*ASYMMETRIC_ALGS, "none")  # none: only when registered
LEEWAY = 30  # clock skew allowed on exp and nbf
ALG = "request_object_signing_alg"  # client metadata (OIDC Registration §2), in Client.extra
REQUEST_URIS = "request_uris"
# JWT claims of the object that are not authorization request parameters.
_JWT_CLAIMS = frozenset({"iss", "aud", "exp", "nbf", "iat", "jti", "sub"})
_REPEATABLE = frozenset({"resource"})  # RFC 8707: a JSON array of values in the object


async def _keys(client: Client, provider: Provider, *, refresh: bool) -> list[ClientKey]:
    inline = client.extra.get("jwks")
    if inline is not None:
        try:
            return parse_jwks(inline, strict=False)
        except InvalidJwks as exc:
            raise OAuthError(
                "request-object-keys",
                f"The request object cannot be checked: the registered jwks: {exc}",
            ) from None
    uri = client.extra.get("jwks_uri")
    if not isinstance(uri, str):
        raise OAuthError(
            "request-object-keys",
            "The request object cannot be checked: the client registered neither jwks nor "
            "jwks_uri.",
        )
    try:
        return await provider.client_jwks.keys(client.client_id, uri, refresh=refresh)
    except FetchError as exc:
        raise OAuthError(
            "request-object-keys", f"The request object cannot be checked: the jwks_uri: {exc}"
        ) from None


def _header_and_claims(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    if token.count(".") == 4:
        raise OAuthError(
            "request-object-malformed",
            "The request object is encrypted (JWE); only signed ones are read.",
        )
    try:
        return peek(token)
    except JoseError as exc:
        raise OAuthError(
            "request-object-malformed", f"The request object is not a JWT: {exc}."
        ) from None
    except RecursionError:
        raise OAuthError(
            "request-object-malformed", "The request object nests its JSON too deeply."
        ) from None


async def _verify(client: Client, token: str, provider: Provider) -> dict[str, Any]:
    header, claims = _header_and_claims(token)
    alg = header.get("alg")
    registered = client.extra.get(ALG)
    if alg == "none":
        # RFC 9101 §10.2 / OIDC Registration §2: unsigned only if the client registered none.
        if registered != "none":
            raise OAuthError(
                "request-object-alg",
                "The request object is unsigned (alg none), but this client did not register "
                "request_object_signing_alg none; sign it with the client's key.",
            )
        if not token.endswith("."):
            raise OAuthError(
                "request-object-malformed", "The request object has alg none and a signature."
            )
        return claims
    default = fapi.SIGNING_ALGS if fapi.is_fapi2(client) else ASYMMETRIC_ALGS  # FAPI 2.0 §5.4.1
    allowed = [registered] if isinstance(registered, str) else list(default)
    if not isinstance(alg, str) or alg not in allowed:
        raise OAuthError(
            "request-object-alg",
            f"The request object is signed with alg {alg!r}; this client's request objects "
            f"must use {' or '.join(allowed)} (request_object_signing_alg).",
        )
    keys = await _keys(client, provider, refresh=False)
    try:
        try:
            return verify_with_jwks(token, keys, (alg,))
        except UnknownKid:
            if "jwks_uri" not in client.extra:
                raise
            keys = await _keys(client, provider, refresh=True)  # the client may have rotated
            return verify_with_jwks(token, keys, (alg,))
    except JoseError as exc:
        raise OAuthError(
            "request-object-signature",
            "The request object's signature does not verify with the client's registered "
            f"keys: {exc}.",
        ) from None


def _number(claims: dict[str, Any], name: str) -> int | None:
    value = claims.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise OAuthError(
            "request-object-claims", f"The request object claim {name} is not a number."
        )
    return int(value)


def _check_claims(client: Client, claims: dict[str, Any], provider: Provider) -> None:
    client_id = client.client_id
    # RFC 9101 §4: iss is the client_id and aud the authorization server, when present.
    if "iss" in claims and claims["iss"] != client_id:
        raise OAuthError(
            "request-object-claims",
            f"The request object claim iss must be the client_id {client_id}.",
        )
    aud = claims.get("aud")
    issuer = provider.settings.issuer
    if aud is not None and aud != issuer and not (isinstance(aud, list) and issuer in aud):
        raise OAuthError(
            "request-object-claims", f"The request object claim aud must be the issuer {issuer}."
        )
    # RFC 9101 §6.3: a client_id inside must be the one outside.
    if "client_id" in claims and claims["client_id"] != client_id:
        raise OAuthError(
            "request-object-claims",
            f"The request object client_id {claims['client_id']!r} is not {client_id}.",
        )
    # RFC 9101 §4: request and request_uri must not be inside a request object.
    for name in ("request", "request_uri"):
        if name in claims:
            raise OAuthError(
                "request-object-claims",
                f"The request object contains {name}, which RFC 9101 §4 forbids.",
            )
    now = provider.now()
    exp, nbf = _number(claims, "exp"), _number(claims, "nbf")
    if exp is not None and exp <= now - LEEWAY:
        raise OAuthError(
            "request-object-lifetime", f"The request object expired {now - exp} s ago (exp)."
        )
    if nbf is not None and nbf > now + LEEWAY:
        raise OAuthError(
            "request-object-lifetime",
            f"The request object is not valid for {nbf - now} s yet (nbf).",
        )


def _pairs(claims: dict[str, Any], client_id: str) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = [("client_id", client_id)]
    for name, value in claims.items():
        if name in _JWT_CLAIMS or name == "client_id" or value is None:
            continue
        if isinstance(value, str):
            pairs.append((name, value))
        elif isinstance(value, bool):
            pairs.append((name, "true" if value else "false"))
        elif isinstance(value, int | float):
            pairs.append((name, str(value)))
        elif isinstance(value, dict) or (
            name == "authorization_details" and isinstance(value, list)
        ):
            # OIDC Core §6.1: claims as a JSON object; RFC 9396 §3: details as a JSON array
            pairs.append((name, json.dumps(value, separators=(",", ":"))))
        elif (
            name in _REPEATABLE
            and isinstance(value, list)
            and all(isinstance(v, str) for v in value)
        ):
            pairs.extend((name, v) for v in value)
        else:
            raise OAuthError(
                "request-object-claims",
                f"The request object parameter {name} has a value of a wrong type.",
            )
    return pairs


async def from_object(
    req: OAuthRequest, client: Client, token: str, provider: Provider
) -> OAuthRequest:
    """The request the object carries (verified), in place of ``req``'s parameters."""
    claims = await _verify(client, token, provider)
    _check_claims(client, claims, provider)
    provider.events.emit("request_object.accepted", client_id=client.client_id)
    return from_pairs(
        req.method,
        _pairs(claims, client.client_id),
        authorization=req.authorization,
        remote_addr=req.remote_addr,
        headers=req.headers,
    )


def expires_in(token: str, now: int) -> int | None:
    """Seconds until the (already verified) request object's exp; None without one."""
    exp = peek(token)[1].get("exp")
    return int(exp) - now if isinstance(exp, int | float) and not isinstance(exp, bool) else None


async def fetch(client: Client, uri: str, provider: Provider) -> str:
    """RFC 9101 §5.2: the request object at a registered ``request_uri``."""
    registered = client.extra.get(REQUEST_URIS) or []
    # RFC 9101 §10.4.1: fetch only URLs the client registered (no SSRF through request_uri).
    if uri not in registered:
        raise OAuthError(
            "request-uri-not-registered",
            "request_uri is not one of this client's registered request_uris; register it "
            "or send the request object by value.",
        )
    settings = provider.settings
    fetcher = SafeFetcher(
        allow_private=settings.allow_private_network_fetch, max_bytes=settings.request_uri_max_bytes
    )
    try:
        body = await fetcher.get_bytes(uri, "application/oauth-authz-req+jwt, application/jwt")
        return body.decode("ascii").strip()
    except FetchError as exc:
        raise OAuthError("request-uri-fetch", f"request_uri could not be fetched: {exc}") from None
    except UnicodeDecodeError:
        raise OAuthError("request-uri-fetch", "request_uri did not return a JWT.") from None
