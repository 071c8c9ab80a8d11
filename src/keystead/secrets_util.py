"""Random values and their at-rest hashes.

Codes, tokens, session cookies and client secrets are 256-bit random values, so a plain
SHA-256 is enough to store them (no slow hash needed); only the hash is ever stored.
"""

from __future__ import annotations

import binascii
import hashlib
import hmac
import os
import secrets

_URLSAFE = bytes.maketrans(b"+/", b"-_")


def b64url(data: bytes) -> bytes:
    """base64url without padding (RFC 7515 §2, RFC 4648 §5): what
    ``base64.urlsafe_b64encode(data).rstrip(b"=")`` gives, without its two Python calls (a
    token request encodes a dozen values)."""
    return binascii.b2a_base64(data, newline=False).translate(_URLSAFE).rstrip(b"=")


def random_token(nbytes: int = 32) -> str:
    """A URL-safe random value with ``nbytes`` bytes (256 bits by default) of entropy: what
    ``secrets.token_urlsafe`` gives (the OS's random bytes, base64url without padding)."""
    raw = binascii.b2a_base64(os.urandom(nbytes), newline=False)  # b64url, written out
    return raw.translate(_URLSAFE).rstrip(b"=").decode("ascii")


def random_id(nbytes: int = 16) -> str:
    """A random identifier (client_id, sub): URL-safe, and never starting with "-", which a
    command line would take for an option (``keystead client delete -Ab3...``)."""
    while True:
        value = secrets.token_urlsafe(nbytes)
        if not value.startswith("-"):
            return value


def sha256_hex(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def same_text(presented: str, expected: str) -> bool:
    """Constant-time equality of two strings, whatever characters a client sent (compare_digest
    refuses str with non-ASCII characters: a hostile value must be a mismatch, not a 500)."""
    return hmac.compare_digest(
        presented.encode("utf-8", "surrogatepass"), expected.encode("utf-8", "surrogatepass")
    )


def matches_hash(value: str, expected_hash: str) -> bool:
    """Constant-time comparison of a presented value against a stored hash."""
    return hmac.compare_digest(sha256_hex(value), expected_hash)
