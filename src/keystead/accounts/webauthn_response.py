"""Reading a browser's WebAuthn response (WebAuthn L2 §5.1, §7.1, §7.2), before
py_webauthn verifies it: the JSON's shape, strict base64url, the client data (type,
challenge, origin) and the authenticator data's rpIdHash and flags — each refusal one
``PasskeyError`` in words a user can act on. accounts/webauthn.py is the public face.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from dataclasses import dataclass
from typing import Any

from keystead import jsonlimits

MAX_RESPONSE = 64 * 1024  # characters of a credential's JSON (attestations are a few KB)
_FROM_URLSAFE = str.maketrans("-_", "+/")
# Authenticator data flags (WebAuthn L2 §6.1).
UP, UV, BE, BS, AT = 0x01, 0x04, 0x08, 0x10, 0x40

MALFORMED = "This passkey response is malformed (not the JSON a browser sends); start again."
TAMPERED = "This passkey response's authenticator data is malformed (tampered); start again."


class PasskeyError(Exception):
    """A passkey ceremony that failed; ``reason`` is written for the user (safe to show:
    it holds no secret), ``code`` for logs and tests: malformed, type, challenge, origin,
    cross-origin, rp-id, presence, verification, counter, signature, algorithm,
    attestation, user-handle; for challenge states (passkey_challenges.py) state, expired,
    replayed."""

    def __init__(self, reason: str, code: str = "malformed") -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code


@dataclass(frozen=True, slots=True)
class RelyingParty:
    rp_id: str  # WebAuthn L2 §5.1.2: a registrable domain suffix of the origin's host
    origin: str  # scheme://host[:port], compared exactly with clientDataJSON.origin
    name: str


def b64url_decode(value: object) -> bytes:
    if not isinstance(value, str) or not value.isascii() or "+" in value or "/" in value:
        raise PasskeyError(MALFORMED)
    try:  # strict: a character outside the base64url alphabet is an error, not skipped
        padded = value.translate(_FROM_URLSAFE) + "=" * (-len(value) % 4)
        return base64.b64decode(padded, validate=True)
    except (binascii.Error, ValueError):
        raise PasskeyError(MALFORMED) from None


def parse(credential_json: str) -> dict[str, Any]:
    """The credential as a dict, its shape checked: ``id`` equal to ``rawId``, type
    "public-key", a ``response`` object."""
    if not isinstance(credential_json, str) or len(credential_json) > MAX_RESPONSE:
        raise PasskeyError(MALFORMED)
    try:
        value = jsonlimits.loads(credential_json)
    except ValueError:
        raise PasskeyError(MALFORMED) from None
    if (
        not isinstance(value, dict)
        or value.get("type") != "public-key"
        or not isinstance(value.get("response"), dict)
        or not isinstance(value.get("id"), str)
    ):
        raise PasskeyError(MALFORMED)
    raw_id = b64url_decode(value.get("rawId"))
    if not raw_id or b64url_decode(value["id"]) != raw_id:
        raise PasskeyError(MALFORMED)
    return value


def check_client_data(
    rp: RelyingParty, response: dict[str, Any], ceremony: str, challenge: bytes
) -> None:
    """WebAuthn L2 §7.1 steps 7-10 / §7.2 steps 11-14: type, challenge, origin."""
    raw = b64url_decode(response.get("clientDataJSON"))
    try:
        client_data = jsonlimits.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise PasskeyError(MALFORMED) from None
    if not isinstance(client_data, dict):
        raise PasskeyError(MALFORMED)
    if client_data.get("type") != ceremony:
        step = "registration" if ceremony == "webauthn.create" else "sign-in"
        raise PasskeyError(f"This passkey response was not made for a {step}; start again.", "type")
    if not hmac.compare_digest(b64url_decode(client_data.get("challenge")), challenge):
        raise PasskeyError(
            "This passkey response was made for another challenge; start again.", "challenge"
        )
    origin = client_data.get("origin")
    if not isinstance(origin, str) or origin != rp.origin:
        shown = origin[:80] if isinstance(origin, str) else "none"
        raise PasskeyError(
            f"This passkey response was made for another site (origin {shown}), "
            f"not {rp.origin}; use this site's own page.",
            "origin",
        )
    # keystead's pages refuse framing (frame-ancestors 'none'): a ceremony in a frame of
    # another site is not one of ours (WebAuthn L2 §7.1 step 9, crossOrigin).
    if client_data.get("crossOrigin") is True:
        raise PasskeyError(
            "This passkey response was made inside a frame of another site; "
            "use this site's own page.",
            "cross-origin",
        )


def check_flags(rp: RelyingParty, auth_data: bytes, *, require_uv: bool) -> int:
    """WebAuthn L2 §7.1 steps 13-15 / §7.2 steps 15-17: rpIdHash, UP, UV. The flags byte."""
    if len(auth_data) < 37:
        raise PasskeyError(TAMPERED, "signature")
    if not hmac.compare_digest(auth_data[:32], hashlib.sha256(rp.rp_id.encode()).digest()):
        raise PasskeyError(
            f"This passkey was made for another site (its RP ID is not {rp.rp_id}); "
            "it cannot be used here.",
            "rp-id",
        )
    flags = auth_data[32]
    if not flags & UP:
        raise PasskeyError(
            "The authenticator did not confirm that you were present; try again.", "presence"
        )
    if require_uv and not flags & UV:
        raise PasskeyError(
            "This site requires user verification (PIN or biometric) on your passkey, and "
            "the authenticator did not verify you; try again and unlock it.",
            "verification",
        )
    if flags & BS and not flags & BE:  # WebAuthn L2 §6.1.3: BS implies BE
        raise PasskeyError(TAMPERED, "signature")
    return flags


def auth_data_of(attestation_object: bytes) -> bytes:
    """The raw authData of an attestation object (WebAuthn L2 §6.5: a CBOR map with "fmt",
    "attStmt" and "authData"), which must carry attested credential data (AT)."""
    from webauthn.helpers import parse_cbor  # py_webauthn: on the first registration only

    try:
        decoded = parse_cbor(attestation_object)
    except Exception:  # hostile bytes: whatever cbor2 raises
        decoded = None
    raw = decoded.get("authData") if isinstance(decoded, dict) else None
    # WebAuthn L2 §8.7: the "none" format's attStmt is an empty map (py_webauthn only
    # looks at the fields it knows).
    none_with_statement = (
        isinstance(decoded, dict)
        and decoded.get("fmt") == "none"
        and (decoded.get("attStmt") != {})
    )
    if not isinstance(raw, bytes) or len(raw) < 37 or not raw[32] & AT or none_with_statement:
        raise PasskeyError(
            "This passkey response's attestation is malformed (tampered); start again.",
            "attestation",
        )
    return raw
