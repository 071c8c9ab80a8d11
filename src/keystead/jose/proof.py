"""Reading and verifying DPoP proofs (RFC 9449 §4.2) with joserfc.

A proof carries its public key in the protected header: an RSA ``jwk`` alone passes the
512-byte header bound joserfc applies by default, so proofs are parsed with a registry
allowing a header of a few KB (the whole proof stays bounded by the caller).
"""

from __future__ import annotations

import functools
from typing import Any

from joserfc.errors import JoseError as _JoserfcError
from joserfc.jws import extract_compact, validate_compact

from keystead import jsonlimits
from keystead.jose.client_keys import ClientKey
from keystead.jose.jwt import JoseError, _Registry

MAX_HEADER = 4096  # bytes of the decoded protected header (an RSA-4096 jwk fits)


@functools.lru_cache(maxsize=16)
def _registry(alg: str | None) -> _Registry:
    registry = _Registry(algorithms=None if alg is None else [alg])
    registry.max_header_length = MAX_HEADER
    return registry


def peek(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The header and claims of a proof, NOT verified (to find its key and alg)."""
    if token.count(".") != 2:
        raise JoseError("malformed JWT: expected three base64url parts")
    try:
        obj = extract_compact(token.encode("ascii"), registry=_registry(None))
        claims = jsonlimits.loads(obj.payload)
    except (_JoserfcError, ValueError, TypeError, AttributeError, UnicodeError) as exc:
        raise JoseError(f"malformed JWT: {exc}") from None
    header = obj.headers()
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise JoseError("malformed JWT: the header and payload must be JSON objects")
    return dict(header), claims


def verify(token: str, key: ClientKey, alg: str) -> None:
    """Raise JoseError unless ``token`` is signed by ``key`` with ``alg``."""
    registry = _registry(alg)
    try:
        obj = extract_compact(token.encode("ascii"), registry=registry)
        valid = validate_compact(obj, key, registry=registry)
    except (_JoserfcError, ValueError, TypeError, AttributeError, UnicodeError) as exc:
        raise JoseError(f"invalid JWS: {exc}") from None
    if not valid:
        raise JoseError(f"bad signature (alg {alg})")
