"""Sign and verify compact JWS/JWTs with the key ring, and the OIDC hash claims.

``sign`` is the one way keystead signs a JWT (access tokens, ID tokens, introspection
responses): it picks the signer, ``fast_jws`` for ES256 and joserfc for every other alg.
``verify`` checks the signature only — which key (by ``kid``), which ``alg`` — and leaves
claim validation (iss, aud, exp ...) to the caller, which knows what the token is for.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

from joserfc import jwt as _jwt
from joserfc.errors import JoseError as _JoserfcError
from joserfc.jwa import EdDSAAlgorithm
from joserfc.jws import JWSRegistry, extract_compact, validate_compact

from keystead.jose import fast_jws
from keystead.jose.keys import SUPPORTED_ALGS, KeyRing
from keystead.secrets_util import b64url

__all__ = ["JoseError", "sign", "verify", "hash_claim"]


class JoseError(Exception):
    """A token that cannot be trusted: malformed, unknown kid, alg not allowed, bad signature."""


class _EdDSA(EdDSAAlgorithm):
    # joserfc warns on every use of "EdDSA" because RFC 9864 deprecates the polymorphic name in
    # favour of "Ed25519". OpenID Connect deployments still use "EdDSA", and every OKP key we
    # hold is Ed25519 (keys.py), so the ambiguity RFC 9864 removes cannot arise here.
    # (An empty string is falsy: joserfc's JWSRegistry.get_alg then emits no warning.)
    security_warning = ""


class _Registry(JWSRegistry):
    # A class-level copy: registering here does not touch joserfc's global registry.
    algorithms = {**JWSRegistry.algorithms, "EdDSA": _EdDSA()}


@functools.lru_cache(maxsize=64)
def _registry(allowed: tuple[str, ...]) -> JWSRegistry:
    # An explicit allow-list: never "none", never an alg the caller did not ask for.
    return _Registry(algorithms=[a for a in allowed if a != "none"])


def sign(
    claims: Mapping[str, Any],
    keyring: KeyRing,
    alg: str,
    *,
    now: int,
    typ: str | None = None,
) -> str:
    """A compact JWS of ``claims`` with header ``{"alg", "kid"[, "typ"]}``, signed with the
    key that is active for ``alg`` at ``now`` (KeyError if there is none)."""
    kid, key, p256 = keyring.signer(alg, now)
    if p256 is not None:  # ES256, the hot path of JWTs: a direct ECDSA signer (fast_jws.py)
        payload = claims if isinstance(claims, dict) else dict(claims)
        return fast_jws.sign_p256(payload, p256, kid, typ)
    header: dict[str, Any] = {"alg": alg, "kid": kid}
    if typ is not None:
        header["typ"] = typ
    return _jwt.encode(header, dict(claims), key, registry=_registry((alg,)), default_type=None)


def verify(
    token: str, keyring: KeyRing, *, algs: Sequence[str] | None = None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(header, claims)`` of a compact JWS signed by a key of ``keyring``.

    Checks only the signature: the ``kid`` must name a loaded key, the ``alg`` must be in
    ``algs`` (default: ``SUPPORTED_ALGS``) and be that key's alg. Raises JoseError.
    """
    allowed = tuple(SUPPORTED_ALGS if algs is None else algs)
    registry = _registry(allowed)
    try:
        obj = extract_compact(token.encode("utf-8"), registry=registry)
    except (_JoserfcError, ValueError, TypeError, AttributeError) as exc:
        raise JoseError(f"malformed JWS: {exc}") from None
    header = obj.headers()
    if not isinstance(header, dict):
        raise JoseError("malformed JWS: the header is not a JSON object")
    alg, kid = header.get("alg"), header.get("kid")
    if not isinstance(alg, str) or alg == "none" or alg not in allowed:
        raise JoseError(f"alg {alg!r} not allowed (allowed: {', '.join(allowed) or 'none'})")
    if header.get("b64") is False:
        raise JoseError("malformed JWS: unencoded payload (RFC 7797) not accepted")
    if not isinstance(kid, str) or not kid:
        raise JoseError("malformed JWS: no kid in the header")
    key = keyring.verification_key(kid)
    if key is None:
        raise JoseError(f"unknown kid {kid!r}")
    if key.alg != alg:
        # RFC 8725 §3.1: a key is used with its one algorithm only.
        raise JoseError(f"alg {alg!r} does not match key {kid!r} (which is {key.alg})")
    try:
        valid = validate_compact(obj, key, registry=registry)
    except (_JoserfcError, ValueError, TypeError) as exc:
        raise JoseError(f"invalid JWS: {exc}") from None
    if not valid:
        raise JoseError(f"bad signature (kid {kid!r}, alg {alg})")
    try:
        claims = json.loads(obj.payload)
    except ValueError:
        raise JoseError("malformed JWS: the payload is not JSON") from None
    if not isinstance(claims, dict):
        raise JoseError("malformed JWS: the payload is not a JSON object")
    return dict(header), claims


def _hash_name(alg: str) -> str:
    if alg in ("EdDSA", "Ed25519"):
        return "sha512"  # OIDC Core errata / FAPI: Ed25519 pairs with SHA-512
    for bits in ("256", "384", "512"):
        if alg.endswith(bits) and alg[:2] in ("RS", "PS", "ES", "HS"):
            return f"sha{bits}"
    raise ValueError(f"no hash claim rule for alg {alg!r}")


@functools.lru_cache(maxsize=16)
def _hash_of(alg: str) -> Any:
    return getattr(hashlib, _hash_name(alg))  # the constructor: hashlib.sha256 ...


def hash_claim(value: str, alg: str) -> str:
    """``at_hash`` / ``c_hash`` / ``s_hash`` of ``value`` for a token signed with ``alg``.

    OIDC Core §3.1.3.6 / §3.3.2.11: base64url of the left-most half of the hash of the ASCII
    octets of the value, with the hash of the JWS alg.
    """
    digest = _hash_of(alg)(value.encode("ascii")).digest()
    return b64url(digest[: len(digest) // 2]).decode("ascii")
