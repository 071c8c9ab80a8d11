"""Encrypting to a client's public keys (RFC 7516 JWE, RFC 7518 §4.3, §4.6, §5; OIDC Core
§10.2): ID tokens and UserInfo responses for clients that registered
``*_encrypted_response_alg``. joserfc does the cryptography; this module chooses the key.

Key management algs: RSA-OAEP-256 (an RSA key of 2048 bits or more), ECDH-ES and
ECDH-ES+A256KW (an EC P-256/P-384/P-521 or OKP X25519 key). Content encryption:
A128CBC-HS256 (OIDC Registration §2's default) and A256GCM.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

from joserfc import jwe
from joserfc.errors import JoseError as _JoserfcError
from joserfc.jwk import ECKey, OKPKey, RSAKey, import_key

from keystead.jose.client_keys import MAX_KEYS, MIN_RSA_BITS, ClientKey, InvalidJwks

__all__ = [
    "DEFAULT_ENC",
    "ENC_ALGS",
    "ENC_ENCS",
    "encrypt",
    "encryption_keys",
    "key_for",
]

ENC_ALGS: tuple[str, ...] = ("RSA-OAEP-256", "ECDH-ES", "ECDH-ES+A256KW")
ENC_ENCS: tuple[str, ...] = ("A128CBC-HS256", "A256GCM")
DEFAULT_ENC = "A128CBC-HS256"  # OIDC Registration §2: the default when only alg is given
_EC_CURVES = ("P-256", "P-384", "P-521")
_PRIVATE_MEMBERS = ("d", "p", "q", "dp", "dq", "qi", "oth", "k")


def _rsa_bits(key: RSAKey) -> int:
    n = str(key.as_dict(private=False)["n"])
    return int.from_bytes(base64.urlsafe_b64decode(n + "=" * (-len(n) % 4))).bit_length()


def _fits(key: ClientKey, alg: str) -> bool:
    if alg == "RSA-OAEP-256":
        return isinstance(key, RSAKey) and _rsa_bits(key) >= MIN_RSA_BITS
    crv = key.as_dict(private=False).get("crv")
    if isinstance(key, ECKey):
        return crv in _EC_CURVES
    return isinstance(key, OKPKey) and crv == "X25519"


def encryption_keys(jwks: Any) -> list[ClientKey]:
    """The keys of a JWK Set that can receive an encrypted response: use "enc" or none, no
    private material. Keys of other kinds are skipped (a set also holds signing keys)."""
    if not isinstance(jwks, Mapping) or not isinstance(jwks.get("keys"), list):
        raise InvalidJwks('jwks must be a JWK Set: a JSON object {"keys": [...]}.')
    keys: list[ClientKey] = []
    for raw in jwks["keys"][:MAX_KEYS]:
        if not isinstance(raw, Mapping) or raw.get("use") not in (None, "enc"):
            continue
        if any(member in raw for member in _PRIVATE_MEMBERS):
            continue
        try:
            key = import_key(dict(raw))
        except (_JoserfcError, ValueError, TypeError, KeyError):
            continue
        if isinstance(key, (RSAKey, ECKey, OKPKey)):
            keys.append(key)
    return keys


def key_for(keys: list[ClientKey], alg: str) -> ClientKey | None:
    """The key to encrypt with for ``alg``: one that declares it first, then one that declares
    use "enc", then any that fits (RFC 7517 §4.2, §4.4)."""
    fitting = [k for k in keys if _fits(k, alg) and k.get("alg") in (None, alg)]
    fitting.sort(key=lambda k: (k.get("alg") != alg, k.get("use") != "enc"))
    return fitting[0] if fitting else None


def encrypt(
    plaintext: bytes | str, key: ClientKey, alg: str, enc: str, *, cty: str | None = None
) -> str:
    """A compact JWE; ``cty`` "JWT" for a nested (signed, then encrypted) JWT (RFC 7519 §5.2)."""
    header: dict[str, Any] = {"alg": alg, "enc": enc}
    if cty is not None:
        header["cty"] = cty
    kid = key.get("kid")
    if kid:
        header["kid"] = kid
    return jwe.encrypt_compact(header, plaintext, key, algorithms=[alg, enc])
