"""A compact-JWS ES256 signer built directly on `cryptography`; ``jwt.sign`` calls it for
every ES256 token (``sign_p256``, with the key ring's checked P-256 key; do not call it from
elsewhere: the choice of signer lives in ``jwt.sign``).

The one measured exception to "no hand-written JOSE" (issue 8): joserfc's generic pipeline
costs more per token than the ECDSA signature itself on the client_credentials hot path.
This module only *signs* ES256 compact JWS (RFC 7515 §7.1, RFC 7518 §3.4: the signature is
R || S, each 32 bytes big-endian); every run of the test suite verifies its output with
joserfc and with Authlib. Everything else — verification included — goes through joserfc.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from keystead.jsonlimits import dumps_compact
from keystead.secrets_util import b64url

_ECDSA_SHA256 = ec.ECDSA(hashes.SHA256())


@lru_cache(maxsize=64)
def _header(kid: str, typ: str | None) -> bytes:
    header: dict[str, str] = {"alg": "ES256", "kid": kid}
    if typ:
        header["typ"] = typ
    return b64url(dumps_compact(header).encode())


def sign_es256(
    claims: dict[str, Any], key: ec.EllipticCurvePrivateKey, kid: str, typ: str | None = None
) -> str:
    if not isinstance(key.curve, ec.SECP256R1):
        raise ValueError("ES256 needs a P-256 key")
    return sign_p256(claims, key, kid, typ)


def sign_p256(
    claims: dict[str, Any], key: ec.EllipticCurvePrivateKey, kid: str, typ: str | None = None
) -> str:
    """``sign_es256`` for a key known to be P-256 (the key ring checks each key once)."""
    payload = b64url(dumps_compact(claims).encode())
    signing_input = _header(kid, typ) + b"." + payload
    r, s = decode_dss_signature(key.sign(signing_input, _ECDSA_SHA256))
    signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    return (signing_input + b"." + b64url(signature)).decode("ascii")
