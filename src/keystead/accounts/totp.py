"""Time-based one-time passwords (RFC 6238 over RFC 4226's HOTP): SHA-1, 6 digits, 30-second
steps — what every authenticator app expects — and the enrolment's otpauth URI and QR code.

Secrets are 160 random bits (RFC 4226 §4 R6 recommends 160), shown to the user in base32 and
stored only encrypted under the key-encryption key (``seal``/``unseal``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import struct
from urllib.parse import quote, urlencode

from keystead.jose.kek import KeyEncryptor

DIGITS = 6
PERIOD = 30
SKEW = 1  # steps either side of now: a phone clock 30 s off still works (RFC 6238 §5.2)
SECRET_BYTES = 20
_AAD = b"keystead totp secret v1"


def new_secret() -> str:
    return base64.b32encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii").rstrip("=")


def normalize_secret(text: str) -> str:
    """A base32 secret as an app or another provider shows it (spaces, lower case, padding
    allowed) in canonical form; ValueError if it is not base32 or too short (< 80 bits)."""
    cleaned = "".join(text.split()).upper().rstrip("=")
    try:
        raw = base64.b32decode(cleaned + "=" * (-len(cleaned) % 8))
    except (binascii.Error, ValueError) as exc:
        raise ValueError("the secret is not base32 (letters A-Z and digits 2-7)") from exc
    if len(raw) < 10:  # RFC 4226 §4 R6: at least 128 bits recommended, 80 the floor here
        raise ValueError("the secret is shorter than 80 bits")
    return cleaned


def _key(secret: str) -> bytes:
    return base64.b32decode(secret + "=" * (-len(secret) % 8))


def code_at(secret: str, step: int) -> str:
    """HOTP (RFC 4226 §5.3) of counter ``step``: HMAC-SHA-1, dynamic truncation, 6 digits."""
    digest = hmac.new(_key(secret), struct.pack(">Q", step), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(value % 10**DIGITS).zfill(DIGITS)


def step_of(now: int) -> int:
    return now // PERIOD  # RFC 6238 §4.2: T0 = 0, X = 30


def clean_code(text: str) -> str:
    """What the user typed, without the spaces and dashes apps show inside codes."""
    return "".join(ch for ch in text if ch not in " -\u00a0\t")


def matching_step(secret: str, code: str, now: int) -> int | None:
    """The time step whose code ``code`` is (now ±SKEW), or None. Every candidate is
    compared, in constant time, so timing says nothing about which step matched."""
    code = clean_code(code)
    if len(code) != DIGITS or not code.isascii() or not code.isdigit():
        return None
    current = step_of(now)
    found = None
    for step in range(current - SKEW, current + SKEW + 1):
        if hmac.compare_digest(code_at(secret, step), code):
            found = step
    return found


def provisioning_uri(secret: str, account: str, issuer_label: str) -> str:
    """The otpauth:// URI of Google Authenticator's Key Uri Format, which apps scan."""
    label = quote(f"{issuer_label}:{account}", safe="@:")
    query = urlencode(
        {
            "secret": secret,
            "issuer": issuer_label,
            "algorithm": "SHA1",
            "digits": DIGITS,
            "period": PERIOD,
        },
        quote_via=quote,
    )
    return f"otpauth://totp/{label}?{query}"


def qr_data_uri(uri: str) -> str:
    """The QR code of ``uri`` as an inline SVG data URI (the pages' CSP allows data: images;
    nothing is fetched from elsewhere)."""
    import segno  # on the enrolment page only, not by every worker at start-up

    return str(segno.make(uri, error="m").svg_data_uri(scale=4, border=2))


def seal(kek: KeyEncryptor, sub: str, secret: str) -> str:
    """The secret encrypted at rest, bound to its user (a row copied to another user fails)."""
    return kek.encrypt(secret.encode("ascii"), _AAD + b"|" + sub.encode())


def unseal(kek: KeyEncryptor, sub: str, secret_enc: str) -> str:
    return kek.decrypt(secret_enc, _AAD + b"|" + sub.encode()).decode("ascii")
