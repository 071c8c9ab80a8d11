"""RFC 5849 §3.4: the signature base string and the signature methods.

Pure functions of plain values: the percent-encoding of §3.6, the base string URI of
§3.4.1.2, the parameter normalisation of §3.4.1.3.2, and HMAC-SHA1 (§3.4.2), HMAC-SHA256 (the
same construction with SHA-256, as oauthlib and most providers spell it), RSA-SHA1 (§3.4.3,
``cryptography``'s RSASSA-PKCS1-v1_5) and PLAINTEXT (§3.4.4). No home-made crypto.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable
from urllib.parse import quote, urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.serialization import load_pem_public_key

HMAC_SHA1 = "HMAC-SHA1"
HMAC_SHA256 = "HMAC-SHA256"
RSA_SHA1 = "RSA-SHA1"
PLAINTEXT = "PLAINTEXT"
METHODS = (HMAC_SHA1, HMAC_SHA256, RSA_SHA1, PLAINTEXT)

_DEFAULT_PORTS = {"http": 80, "https": 443}


def encode(value: str) -> str:
    """RFC 5849 §3.6: UTF-8, then every octet but the unreserved ALPHA / DIGIT / "-" / "." /
    "_" / "~" as %XX with upper-case hex digits."""
    return quote(value.encode("utf-8"), safe="-._~")


def base_string_uri(url: str) -> str:
    """RFC 5849 §3.4.1.2: scheme and host in lower case, the port only when it is not the
    scheme's default, the path (at least "/"), no query and no fragment."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if ":" in host:  # an IPv6 literal keeps its brackets
        host = f"[{host}]"
    port = parts.port
    authority = host if port is None or port == _DEFAULT_PORTS.get(scheme) else f"{host}:{port}"
    return f"{scheme}://{authority}{parts.path or '/'}"


def normalize_parameters(params: Iterable[tuple[str, str]]) -> str:
    """RFC 5849 §3.4.1.3.2: encode each name and value, sort by name then by value (equal
    names sorted by value), join "name=value" pairs with "&". ``oauth_signature`` is left
    out (§3.4.1.3.1); a caller leaves ``realm`` out already (header parameters only)."""
    encoded = sorted(
        (encode(name), encode(value)) for name, value in params if name != "oauth_signature"
    )
    return "&".join(f"{name}={value}" for name, value in encoded)


def base_string(method: str, url: str, params: Iterable[tuple[str, str]]) -> str:
    """RFC 5849 §3.4.1.1: METHOD & encode(base string URI) & encode(normalised parameters)."""
    return "&".join(
        (
            encode(method.upper()),
            encode(base_string_uri(url)),
            encode(normalize_parameters(params)),
        )
    )


def _key(client_secret: str, token_secret: str) -> str:
    """RFC 5849 §3.4.2 / §3.4.4: encode(client secret) "&" encode(token secret)."""
    return f"{encode(client_secret)}&{encode(token_secret)}"


def hmac_signature(method: str, base: str, client_secret: str, token_secret: str) -> str:
    """RFC 5849 §3.4.2: base64 of the HMAC over the base string (SHA-1, or SHA-256)."""
    digest = hashlib.sha256 if method == HMAC_SHA256 else hashlib.sha1
    mac = hmac.new(_key(client_secret, token_secret).encode("ascii"), base.encode(), digest)
    return base64.b64encode(mac.digest()).decode("ascii")


def plaintext_signature(client_secret: str, token_secret: str) -> str:
    """RFC 5849 §3.4.4: the key itself (only ever over TLS)."""
    return _key(client_secret, token_secret)


def load_rsa_public_key(pem: str) -> rsa.RSAPublicKey:
    """A PEM public key (SubjectPublicKeyInfo), RSA of at least 2048 bits; ValueError else."""
    key = load_pem_public_key(pem.encode("ascii"))
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError("the key is not an RSA public key")
    if key.key_size < 2048:
        raise ValueError(f"the RSA key has {key.key_size} bits; at least 2048 are needed")
    return key


def verify_rsa_sha1(base: str, signature: str, public_key: rsa.RSAPublicKey) -> bool:
    """RFC 5849 §3.4.3: RSASSA-PKCS1-v1_5 (RFC 3447 §8.2) with SHA-1 over the base string."""
    try:
        raw = base64.b64decode(signature.encode("ascii"), validate=True)
        public_key.verify(raw, base.encode(), padding.PKCS1v15(), hashes.SHA1())  # noqa: S303
    except (InvalidSignature, ValueError, UnicodeEncodeError):
        return False
    return True


def verify(
    method: str,
    base: str,
    signature: str,
    *,
    client_secret: str | None,
    token_secret: str,
    rsa_public_key: rsa.RSAPublicKey | None = None,
) -> bool:
    """Whether ``signature`` (percent-decoded) is right for ``method`` over ``base``; a
    method whose key the consumer lacks never verifies."""
    if method == RSA_SHA1:
        return rsa_public_key is not None and verify_rsa_sha1(base, signature, rsa_public_key)
    if client_secret is None:
        return False
    if method == PLAINTEXT:
        expected = plaintext_signature(client_secret, token_secret)
    elif method in (HMAC_SHA1, HMAC_SHA256):
        expected = hmac_signature(method, base, client_secret, token_secret)
    else:
        return False
    return hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace"))
