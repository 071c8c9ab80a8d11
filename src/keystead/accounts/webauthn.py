"""Passkeys (WebAuthn Level 2): a thin, typed layer over py_webauthn.

The library does the cryptography (attestation formats, COSE keys, signatures); this module
fixes keystead's choices (discoverable credentials, user verification, ES256/EdDSA/RS256, no
attestation) and checks the parts a user can get wrong — the challenge, the origin, the RP
ID, the UP/UV flags, the signature counter — itself, first, so every refusal is one
``PasskeyError`` whose message says what failed. No input string makes anything else escape.

The ceremony's challenge needs no table: ``accounts/passkey_challenges.py`` issues it, and
the options functions here take it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import parse_cbor
from webauthn.helpers.cose import COSEAlgorithmIdentifier
from webauthn.helpers.exceptions import InvalidBackupFlags
from webauthn.helpers.structs import (
    AttestationConveyancePreference,
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from keystead import jsonlimits

ALGORITHMS = [
    COSEAlgorithmIdentifier.ECDSA_SHA_256,  # ES256: every platform authenticator
    COSEAlgorithmIdentifier.EDDSA,
    COSEAlgorithmIdentifier.RSASSA_PKCS1_v1_5_SHA_256,  # RS256: Windows Hello
]
TIMEOUT_MS = 300_000  # the browser's prompt; the challenge itself lives 300 s too
MAX_RESPONSE = 64 * 1024  # characters of a credential's JSON (attestations are a few KB)
_FROM_URLSAFE = str.maketrans("-_", "+/")
_TRANSPORTS = {t.value for t in AuthenticatorTransport}

# Authenticator data flags (WebAuthn L2 §6.1).
_UP, _UV, _BE, _BS, _AT = 0x01, 0x04, 0x08, 0x10, 0x40

MALFORMED = "This passkey response is malformed (not the JSON a browser sends); start again."


class PasskeyError(Exception):
    """A passkey ceremony that failed; ``reason`` is written for the user, ``code`` for logs
    and tests (malformed, type, challenge, origin, cross-origin, rp-id, presence,
    verification, counter, signature, algorithm, attestation)."""

    def __init__(self, reason: str, code: str = "malformed") -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code


@dataclass(frozen=True, slots=True)
class RelyingParty:
    rp_id: str  # WebAuthn L2 §5.1.2: a registrable domain suffix of the origin's host
    origin: str  # scheme://host[:port], compared exactly with clientDataJSON.origin
    name: str


def relying_party(issuer: str, name: str = "keystead") -> RelyingParty:
    """The relying party of an issuer: its host is the RP ID, its scheme, host and port the
    origin (an issuer path such as /tenant is not part of either)."""
    parts = urlsplit(issuer)
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("http", "https") or not host:
        raise ValueError(f"the issuer {issuer!r} has no http(s) origin")
    netloc = f"[{host}]" if ":" in host else host
    if parts.port is not None:
        netloc += f":{parts.port}"
    return RelyingParty(rp_id=host, origin=f"{parts.scheme}://{netloc}", name=name)


@dataclass(frozen=True, slots=True)
class NewPasskey:
    credential_id: bytes
    public_key: bytes  # the COSE_Key, as the authenticator sent it
    sign_count: int
    backup_eligible: bool  # BE: a synced (multi-device) passkey
    backup_state: bool  # BS: currently backed up
    transports: tuple[str, ...]  # hints for allowCredentials later
    aaguid: str  # the authenticator model (all zeros when it does not say)
    user_verified: bool


@dataclass(frozen=True, slots=True)
class PasskeyUse:
    new_sign_count: int
    backup_state: bool
    user_verified: bool


def _descriptors(ids: Sequence[bytes]) -> list[PublicKeyCredentialDescriptor]:
    return [PublicKeyCredentialDescriptor(id=bytes(i)) for i in ids]


def registration_options(
    rp: RelyingParty,
    *,
    user_handle: bytes,
    username: str,
    display_name: str,
    exclude: Sequence[bytes],
    challenge: bytes,
) -> str:
    """The options JSON (script-safe) for ``navigator.credentials.create``: a discoverable
    credential (resident key required) with user verification required, no attestation, and
    the user's existing credentials excluded (WebAuthn L2 §5.4)."""
    options = generate_registration_options(
        rp_id=rp.rp_id,
        rp_name=rp.name,
        user_id=user_handle,
        user_name=username,
        user_display_name=display_name or username,
        challenge=challenge,
        timeout=TIMEOUT_MS,
        attestation=AttestationConveyancePreference.NONE,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED,
            user_verification=UserVerificationRequirement.REQUIRED,
        ),
        exclude_credentials=_descriptors(exclude),
        supported_pub_key_algs=ALGORITHMS,
    )
    return _script_safe(options_to_json(options))


def authentication_options(
    rp: RelyingParty,
    *,
    challenge: bytes,
    allow: Sequence[bytes] = (),
    user_verification: str,
) -> str:
    """The options JSON (script-safe) for ``navigator.credentials.get``: an empty ``allow``
    asks for a discoverable credential (passwordless, conditional UI); ``user_verification``
    is "required" for passwordless sign-in, "preferred" for a second factor."""
    options = generate_authentication_options(
        rp_id=rp.rp_id,
        challenge=challenge,
        timeout=TIMEOUT_MS,
        allow_credentials=_descriptors(allow),
        user_verification=UserVerificationRequirement(user_verification),
    )
    return _script_safe(options_to_json(options))


def _script_safe(json_text: str) -> str:
    """JSON that can sit inside ``<script type="application/json">`` as it is (a template
    writes it with ``|safe``; HTML escaping would corrupt it): no "<", ">" or "&" can end
    the element or start markup (a username of "</script>" stays a string)."""
    return json_text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _b64url_decode(value: object) -> bytes:
    if not isinstance(value, str) or not value.isascii() or "+" in value or "/" in value:
        raise PasskeyError(MALFORMED)
    try:  # strict: a character outside the base64url alphabet is an error, not skipped
        padded = value.translate(_FROM_URLSAFE) + "=" * (-len(value) % 4)
        return base64.b64decode(padded, validate=True)
    except (binascii.Error, ValueError):
        raise PasskeyError(MALFORMED) from None


def _parse(credential_json: str) -> dict[str, Any]:
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
    raw_id = _b64url_decode(value.get("rawId"))
    if not raw_id or _b64url_decode(value["id"]) != raw_id:
        raise PasskeyError(MALFORMED)
    return value


def credential_id_of(credential_json: str) -> bytes:
    """The credential ID a response claims (to find the stored passkey before verifying)."""
    return _b64url_decode(_parse(credential_json)["rawId"])


def user_handle_of(credential_json: str) -> bytes | None:
    """The user handle a discoverable credential returned (None when it sent none)."""
    handle = _parse(credential_json)["response"].get("userHandle")
    if handle is None or handle == "":
        return None
    return _b64url_decode(handle) or None


def _check_client_data(
    rp: RelyingParty, response: dict[str, Any], ceremony: str, challenge: bytes
) -> None:
    """WebAuthn L2 §7.1 steps 7-10 / §7.2 steps 11-14: type, challenge, origin."""
    raw = _b64url_decode(response.get("clientDataJSON"))
    try:
        client_data = jsonlimits.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise PasskeyError(MALFORMED) from None
    if not isinstance(client_data, dict):
        raise PasskeyError(MALFORMED)
    if client_data.get("type") != ceremony:
        step = "registration" if ceremony == "webauthn.create" else "sign-in"
        raise PasskeyError(f"This passkey response was not made for a {step}; start again.", "type")
    if not hmac.compare_digest(_b64url_decode(client_data.get("challenge")), challenge):
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


def _check_flags(rp: RelyingParty, auth_data: bytes, *, require_uv: bool) -> int:
    """WebAuthn L2 §7.1 steps 13-15 / §7.2 steps 15-17: rpIdHash, UP, UV. The flags byte."""
    if len(auth_data) < 37:
        raise PasskeyError(
            "This passkey response's authenticator data is malformed (tampered); start again.",
            "signature",
        )
    if not hmac.compare_digest(auth_data[:32], hashlib.sha256(rp.rp_id.encode()).digest()):
        raise PasskeyError(
            f"This passkey was made for another site (its RP ID is not {rp.rp_id}); "
            "it cannot be used here.",
            "rp-id",
        )
    flags = auth_data[32]
    if not flags & _UP:
        raise PasskeyError(
            "The authenticator did not confirm that you were present; try again.", "presence"
        )
    if require_uv and not flags & _UV:
        raise PasskeyError(
            "This site requires user verification (PIN or biometric) on your passkey, and "
            "the authenticator did not verify you; try again and unlock it.",
            "verification",
        )
    if flags & _BS and not flags & _BE:  # WebAuthn L2 §6.1.3: BS implies BE
        raise PasskeyError(
            "This passkey response's authenticator data is malformed (tampered); start again.",
            "signature",
        )
    return flags


def verify_registration(rp: RelyingParty, credential_json: str, challenge: bytes) -> NewPasskey:
    """A new passkey from a ``navigator.credentials.create`` response (WebAuthn L2 §7.1),
    made for ``challenge`` on this RP with user verification."""
    credential = _parse(credential_json)
    response = credential["response"]
    _check_client_data(rp, response, "webauthn.create", challenge)
    raw_auth_data = _auth_data_of(_b64url_decode(response.get("attestationObject")))
    flags = _check_flags(rp, raw_auth_data, require_uv=True)
    try:
        verified = verify_registration_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=rp.rp_id,
            expected_origin=rp.origin,
            require_user_verification=True,
            supported_pub_key_algs=ALGORITHMS,
        )
    except Exception as exc:
        if "alg" in str(exc):
            raise PasskeyError(
                "This passkey uses an algorithm this site does not accept "
                "(ES256, EdDSA or RS256); use another authenticator.",
                "algorithm",
            ) from None
        raise PasskeyError(
            "The authenticator's attestation could not be verified; start again.",
            "attestation",
        ) from None
    transports = response.get("transports")
    return NewPasskey(
        credential_id=verified.credential_id,
        public_key=verified.credential_public_key,
        sign_count=verified.sign_count,
        backup_eligible=bool(flags & _BE),
        backup_state=bool(flags & _BS),
        transports=tuple(
            sorted({t for t in transports if t in _TRANSPORTS})
            if isinstance(transports, list)
            else ()
        ),
        aaguid=verified.aaguid,
        user_verified=verified.user_verified,
    )


def _auth_data_of(attestation_object: bytes) -> bytes:
    """The raw authData of an attestation object (WebAuthn L2 §6.5: a CBOR map with "fmt",
    "attStmt" and "authData"), which must carry attested credential data (AT)."""
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
    if not isinstance(raw, bytes) or len(raw) < 37 or not raw[32] & _AT or none_with_statement:
        raise PasskeyError(
            "This passkey response's attestation is malformed (tampered); start again.",
            "attestation",
        )
    return raw


def verify_authentication(
    rp: RelyingParty,
    credential_json: str,
    challenge: bytes,
    *,
    public_key: bytes,
    sign_count: int,
    require_user_verification: bool,
) -> PasskeyUse:
    """One use of a stored passkey (WebAuthn L2 §7.2), made for ``challenge`` on this RP.
    The caller has looked the credential up by ``credential_id_of`` (and, for a
    discoverable credential, checked ``user_handle_of`` against its owner)."""
    credential = _parse(credential_json)
    response = credential["response"]
    _check_client_data(rp, response, "webauthn.get", challenge)
    raw_auth_data = _b64url_decode(response.get("authenticatorData"))
    flags = _check_flags(rp, raw_auth_data, require_uv=require_user_verification)
    new_count = int.from_bytes(raw_auth_data[33:37], "big")
    # WebAuthn L2 §7.2 step 21: a counter that does not grow (either one non-zero) signals a
    # cloned authenticator; keystead refuses it (py_webauthn refuses it too).
    if (new_count or sign_count) and new_count <= sign_count:
        raise PasskeyError(
            f"This passkey's signature counter went backwards ({new_count} after "
            f"{sign_count}): it may have been copied (a cloned authenticator), so it is "
            "refused. Remove it and register a new one.",
            "counter",
        )
    try:
        verified = verify_authentication_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=rp.rp_id,
            expected_origin=rp.origin,
            credential_public_key=public_key,
            credential_current_sign_count=sign_count,
            require_user_verification=require_user_verification,
        )
    except InvalidBackupFlags:
        raise PasskeyError(
            "This passkey response's authenticator data is malformed (tampered); start again.",
            "signature",
        ) from None
    except Exception:  # bad signature, authData that does not parse, a broken stored key
        raise PasskeyError(
            "This passkey response's signature does not match (tampered authenticator data "
            "or a bad signature); start again.",
            "signature",
        ) from None
    return PasskeyUse(
        new_sign_count=verified.new_sign_count,
        backup_state=bool(flags & _BS),
        user_verified=verified.user_verified,
    )
