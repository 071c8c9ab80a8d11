"""Passkeys (WebAuthn Level 2): a thin, typed layer over py_webauthn.

The library does the cryptography (attestation formats, COSE keys, signatures); this module
fixes keystead's choices (discoverable credentials, user verification, ES256/EdDSA/RS256, no
attestation) and checks the parts a user can get wrong — the challenge, the origin, the RP
ID, the UP/UV flags, the signature counter — itself, first, so every refusal is one
``PasskeyError`` whose message says what failed. No input string makes anything else escape.

The response's shape, client data and flags are read in ``accounts/webauthn_response.py``.
The ceremony's challenge needs no table: ``accounts/passkey_challenges.py`` issues it, and
the options functions here take it.
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from keystead.accounts.webauthn_response import (
    BE,
    BS,
    MALFORMED,
    PasskeyError,
    RelyingParty,
    auth_data_of,
    b64url_decode,
    check_client_data,
    check_flags,
    parse,
)

if TYPE_CHECKING:
    from webauthn.helpers.cose import COSEAlgorithmIdentifier
    from webauthn.helpers.structs import PublicKeyCredentialDescriptor

# py_webauthn (with pyOpenSSL and pyasn1 under it: ~16 MB per process) is imported by the
# functions that use it, on the first passkey ceremony, not by every worker at start-up.

__all__ = [
    "NewPasskey",
    "PasskeyError",
    "PasskeyUse",
    "RelyingParty",
    "authentication_options",
    "credential_id_of",
    "registration_options",
    "relying_party",
    "user_handle_of",
    "verify_authentication",
    "verify_registration",
]

ALGORITHM_IDS = (
    -7,  # ES256: every platform authenticator
    -8,  # EdDSA
    -257,  # RS256: Windows Hello
)
TIMEOUT_MS = 300_000  # the browser's prompt; the challenge itself lives 300 s too
# WebAuthn L2 §5.8.4 AuthenticatorTransport (py_webauthn's enum has the same values).
_TRANSPORTS = frozenset({"usb", "nfc", "ble", "internal", "hybrid", "cable", "smart-card"})


def _algorithms() -> list[COSEAlgorithmIdentifier]:
    from webauthn.helpers.cose import COSEAlgorithmIdentifier

    return [COSEAlgorithmIdentifier(a) for a in ALGORITHM_IDS]


MAX_CREDENTIAL_ID = 1023  # bytes (WebAuthn L3 §7.1 step 23)


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
    from webauthn.helpers.structs import PublicKeyCredentialDescriptor

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
    from webauthn import generate_registration_options, options_to_json
    from webauthn.helpers.structs import (
        AttestationConveyancePreference,
        AuthenticatorSelectionCriteria,
        ResidentKeyRequirement,
        UserVerificationRequirement,
    )

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
        supported_pub_key_algs=_algorithms(),
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
    from webauthn import generate_authentication_options, options_to_json
    from webauthn.helpers.structs import UserVerificationRequirement

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


def credential_id_of(credential_json: str) -> bytes:
    """The credential ID a response claims (to find the stored passkey before verifying)."""
    return b64url_decode(parse(credential_json)["rawId"])


def user_handle_of(credential_json: str) -> bytes | None:
    """The user handle a discoverable credential returned (None when it sent none)."""
    handle = parse(credential_json)["response"].get("userHandle")
    if handle is None or handle == "":
        return None
    return b64url_decode(handle) or None


def verify_registration(rp: RelyingParty, credential_json: str, challenge: bytes) -> NewPasskey:
    """A new passkey from a ``navigator.credentials.create`` response (WebAuthn L2 §7.1),
    made for ``challenge`` on this RP with user verification."""
    credential = parse(credential_json)
    response = credential["response"]
    check_client_data(rp, response, "webauthn.create", challenge)
    raw_auth_data = auth_data_of(b64url_decode(response.get("attestationObject")))
    flags = check_flags(rp, raw_auth_data, require_uv=True)
    from webauthn import verify_registration_response

    try:
        verified = verify_registration_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=rp.rp_id,
            expected_origin=rp.origin,
            require_user_verification=True,
            supported_pub_key_algs=_algorithms(),
        )
    except Exception as exc:
        if str(exc).startswith("Unsupported credential public key alg"):
            raise PasskeyError(
                "This passkey uses an algorithm this site does not accept "
                "(ES256, EdDSA or RS256); use another authenticator.",
                "algorithm",
            ) from None
        raise PasskeyError(
            "The authenticator's attestation could not be verified; start again.",
            "attestation",
        ) from None
    # The ID the authenticator attested is the one the browser reported (WebAuthn L2 §5.1:
    # rawId), and not longer than 1023 bytes: it is looked up by rawId later.
    if verified.credential_id != b64url_decode(credential["rawId"]):
        raise PasskeyError(MALFORMED)
    if len(verified.credential_id) > MAX_CREDENTIAL_ID:
        raise PasskeyError(
            "This authenticator's credential ID is longer than 1023 bytes; use another one.",
            "attestation",
        )
    transports = response.get("transports")
    return NewPasskey(
        credential_id=verified.credential_id,
        public_key=verified.credential_public_key,
        sign_count=verified.sign_count,
        backup_eligible=bool(flags & BE),
        backup_state=bool(flags & BS),
        transports=tuple(
            sorted({t for t in transports if isinstance(t, str) and t in _TRANSPORTS})
            if isinstance(transports, list)
            else ()
        ),
        aaguid=verified.aaguid,
        user_verified=verified.user_verified,
    )


def verify_authentication(
    rp: RelyingParty,
    credential_json: str,
    challenge: bytes,
    *,
    public_key: bytes,
    sign_count: int,
    require_user_verification: bool,
    owner_handle: bytes | None = None,
    user_identified: bool = False,
) -> PasskeyUse:
    """One use of a stored passkey (WebAuthn L2 §7.2), made for ``challenge`` on this RP.
    The caller has looked the credential up by ``credential_id_of``. With ``owner_handle``
    (the user handle of the account that owns it) §7.2 step 6 is checked here: a userHandle
    in the response must be the owner's, and when the user was not identified before the
    ceremony (passwordless, ``user_identified=False``) it must be there."""
    credential = parse(credential_json)
    response = credential["response"]
    if owner_handle is not None:
        handle = user_handle_of(credential_json)
        if (handle is None and not user_identified) or (
            handle is not None and not hmac.compare_digest(handle, owner_handle)
        ):
            raise PasskeyError(
                "This passkey does not belong to the account it is registered to; "
                "sign in another way.",
                "user-handle",
            )
    check_client_data(rp, response, "webauthn.get", challenge)
    raw_auth_data = b64url_decode(response.get("authenticatorData"))
    flags = check_flags(rp, raw_auth_data, require_uv=require_user_verification)
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
    from webauthn import verify_authentication_response

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
    except Exception:  # bad signature, authData that does not parse, a broken stored key
        raise PasskeyError(
            "This passkey response's signature does not match (tampered authenticator data "
            "or a bad signature); start again.",
            "signature",
        ) from None
    return PasskeyUse(
        new_sign_count=verified.new_sign_count,
        backup_state=bool(flags & BS),
        user_verified=verified.user_verified,
    )
