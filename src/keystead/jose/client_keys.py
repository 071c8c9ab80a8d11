"""Keys of clients, and verifying the JWTs clients sign with them (RFC 7523 client assertions).

A client's JWK Set (registered inline as ``jwks`` or published at ``jwks_uri``) holds public
keys only; ``client_secret_jwt`` assertions are verified with the client secret as an HMAC key
(OIDC Core §9). Like ``jwt.verify``, the functions here check signatures only; the caller
validates the claims.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from typing import Any

from joserfc.errors import JoseError as _JoserfcError
from joserfc.jwk import ECKey, OctKey, OKPKey, RSAKey, import_key
from joserfc.jws import extract_compact, validate_compact

from keystead import jsonlimits
from keystead.jose.jwt import JoseError, _registry

__all__ = [
    "ASYMMETRIC_ALGS",
    "HMAC_ALGS",
    "ClientKey",
    "InvalidJwks",
    "UnknownKid",
    "parse_jwks",
    "peek",
    "verify_hmac",
    "verify_with_jwks",
]

ClientKey = RSAKey | ECKey | OKPKey

HMAC_ALGS: tuple[str, ...] = ("HS256",)
ASYMMETRIC_ALGS: tuple[str, ...] = ("RS256", "PS256", "ES256", "EdDSA")
MAX_KEYS = 20
MIN_RSA_BITS = 2048
_PRIVATE_MEMBERS = ("d", "p", "q", "dp", "dq", "qi", "oth", "k")


class InvalidJwks(ValueError):
    """A JWK Set a client may not use; the message says what to change."""


class UnknownKid(JoseError):
    """The assertion names a kid the client's JWK Set does not have (yet): refetch it."""


def _kind(key: ClientKey) -> str:
    """Which of our algs a key can verify: "RSA", "P-256" or "Ed25519"."""
    if isinstance(key, RSAKey):
        return "RSA"
    return str(key.as_dict(private=False).get("crv"))


_ALG_KIND = {"RS256": "RSA", "PS256": "RSA", "ES256": "P-256", "EdDSA": "Ed25519"}


def parse_jwks(jwks: Any, *, strict: bool) -> list[ClientKey]:
    """The usable public signing keys of a client's JWK Set (RFC 7517 §5).

    Private key material is always refused. ``strict`` (keys registered inline) also refuses
    keys keystead cannot use; otherwise (a fetched ``jwks_uri``) they are skipped, since a
    client may publish encryption keys or other curves next to its signing keys.
    """
    if not isinstance(jwks, Mapping) or not isinstance(jwks.get("keys"), list):
        raise InvalidJwks('jwks must be a JWK Set: a JSON object {"keys": [...]}.')
    raw_keys = jwks["keys"]
    if len(raw_keys) > MAX_KEYS:
        raise InvalidJwks(f"jwks has {len(raw_keys)} keys; at most {MAX_KEYS} are accepted.")
    keys: list[ClientKey] = []
    encryption_only = 0  # "use": "enc" keys are for encrypted responses (jose/jwe.py)
    for index, raw in enumerate(raw_keys):
        where = f"jwks key {index}"
        if not isinstance(raw, Mapping):
            raise InvalidJwks(f"{where} is not a JSON object.")
        if any(member in raw for member in _PRIVATE_MEMBERS):
            # RFC 7517 §4 / OIDC Registration §2: jwks holds the client's PUBLIC keys.
            raise InvalidJwks(
                f"{where} contains private or symmetric key material; register public keys only."
            )
        if raw.get("use") == "enc":
            encryption_only += 1
            continue
        try:
            key = import_key(dict(raw))
        except (_JoserfcError, ValueError, TypeError, KeyError) as exc:
            if strict:
                raise InvalidJwks(f"{where} is not a valid JWK: {exc}") from None
            continue
        problem = _unusable(key, raw)
        if problem is not None:
            if strict:
                raise InvalidJwks(f"{where} {problem}")
            continue
        assert isinstance(key, (RSAKey, ECKey, OKPKey))
        keys.append(key)
    if strict and not keys and not encryption_only:
        raise InvalidJwks("jwks has no keys; register at least one public signing key.")
    return keys


def _unusable(key: object, raw: Mapping[str, Any]) -> str | None:
    if not isinstance(key, (RSAKey, ECKey, OKPKey)):
        return f"has kty {raw.get('kty')!r}; use RSA, EC (P-256) or OKP (Ed25519)."
    if raw.get("use") not in (None, "sig"):
        return f"has use {raw.get('use')!r}; signing keys have use 'sig' (or none)."
    kind = _kind(key)
    if kind not in _ALG_KIND.values():
        return f"has curve {kind}; supported: P-256 (ES256) and Ed25519 (EdDSA)."
    if isinstance(key, RSAKey):
        n = str(key.as_dict(private=False)["n"])
        bits = int.from_bytes(base64.urlsafe_b64decode(n + "=" * (-len(n) % 4))).bit_length()
        if bits < MIN_RSA_BITS:
            return f"is an RSA key of {bits} bits; at least {MIN_RSA_BITS} are required."
    alg = raw.get("alg")
    if alg is not None and alg not in ASYMMETRIC_ALGS:
        return f"has alg {alg!r}; supported: {', '.join(ASYMMETRIC_ALGS)}."
    if alg is not None and _ALG_KIND[alg] != kind:
        return f"has alg {alg!r}, which does not fit its key type."
    return None


def peek(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The header and claims of a compact JWS WITHOUT verifying it (to find the client)."""
    parts = token.split(".")
    if len(parts) != 3:
        raise JoseError("malformed JWT: expected three base64url parts")
    try:
        obj = extract_compact(token.encode("ascii"))
        claims = jsonlimits.loads(obj.payload)  # a client's JSON: its nesting bounded
    except (_JoserfcError, ValueError, TypeError, AttributeError, UnicodeError) as exc:
        raise JoseError(f"malformed JWT: {exc}") from None
    header = obj.headers()
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise JoseError("malformed JWT: the header and payload must be JSON objects")
    return dict(header), claims


def _verify(token: str, key: ClientKey | OctKey, alg: str) -> dict[str, Any]:
    registry = _registry((alg,))
    try:
        obj = extract_compact(token.encode("ascii"), registry=registry)
        valid = validate_compact(obj, key, registry=registry)
    except (_JoserfcError, ValueError, TypeError, AttributeError, UnicodeError) as exc:
        raise JoseError(f"invalid JWS: {exc}") from None
    if not valid:
        raise JoseError(f"bad signature (alg {alg})")
    claims = jsonlimits.loads(obj.payload)  # peek() parsed it already: within the bound
    if not isinstance(claims, dict):
        raise JoseError("malformed JWT: the payload is not a JSON object")
    return claims


def _checked_alg(header: Mapping[str, Any], allowed: Sequence[str]) -> str:
    alg = header.get("alg")
    if not isinstance(alg, str) or alg == "none" or alg not in allowed:
        raise JoseError(f"alg {alg!r} not allowed (allowed: {', '.join(allowed) or 'none'})")
    if header.get("b64") is False or "crit" in header:
        raise JoseError("JWS header parameters b64/crit are not accepted")
    return alg


def verify_hmac(token: str, secret: str, algs: Sequence[str] = HMAC_ALGS) -> dict[str, Any]:
    """Claims of a JWS MACed with ``secret`` (``client_secret_jwt``, OIDC Core §9)."""
    header, _ = peek(token)
    alg = _checked_alg(header, algs)
    return _verify(token, OctKey.import_key(secret), alg)


def verify_with_jwks(
    token: str, keys: Sequence[ClientKey], algs: Sequence[str] = ASYMMETRIC_ALGS
) -> dict[str, Any]:
    """Claims of a JWS signed by one of ``keys`` (``private_key_jwt``).

    With a ``kid`` in the header only that key is tried (UnknownKid if absent); without one,
    every key that fits the alg is tried.
    """
    header, _ = peek(token)
    alg = _checked_alg(header, algs)
    kid = header.get("kid")
    fitting = [k for k in keys if _kind(k) == _ALG_KIND[alg] and k.get("alg") in (None, alg)]
    if kid is not None:
        if not isinstance(kid, str):
            raise JoseError("malformed JWS: kid must be a string")
        fitting = [k for k in fitting if k.kid == kid]
        if not fitting:
            raise UnknownKid(f"no {alg} key with kid {kid!r} in the client's JWK Set")
    if not fitting:
        raise UnknownKid(f"no {alg} key in the client's JWK Set")
    error: JoseError | None = None
    for key in fitting:
        try:
            return _verify(token, key, alg)
        except JoseError as exc:
            error = exc
    assert error is not None
    raise error
