"""The device authorization endpoint (RFC 8628 §3.1-3.2): a client on a device without a
browser gets a device code to poll with and a short user code the user enters at
``/device``. Only SHA-256 hashes of both codes are stored."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any

from keystead.errors import OAuthError
from keystead.protocol import client_auth, rar, rar_tokens, scopes
from keystead.protocol.client_auth import authenticate_client
from keystead.protocol.request import OAuthRequest
from keystead.secrets_util import random_token, sha256_hex
from keystead.store.base import DuplicateError
from keystead.store.device_codes import DeviceCode

if TYPE_CHECKING:
    from keystead.provider import Provider

GRANT_TYPE = "urn:ietf:params:oauth:grant-type:device_code"
PATH = "/device_authorization"
VERIFICATION_PATH = "/device"
EXPIRES_IN = 600
INTERVAL = 5
# RFC 8628 §6.1: consonants only (no vowels: no words), no look-alikes; 20^8 ≈ 2^34.6.
USER_CODE_ALPHABET = "BCDFGHJKLMNPQRSTVWXZ"
USER_CODE_LENGTH = 8
PARAMETERS = (*client_auth.PARAMETERS, "scope", rar.PARAMETER)


def new_user_code() -> str:
    """Eight characters from the alphabet, shown as XXXX-XXXX."""
    chars = "".join(secrets.choice(USER_CODE_ALPHABET) for _ in range(USER_CODE_LENGTH))
    return f"{chars[:4]}-{chars[4:]}"


def normalize_user_code(entered: str) -> str | None:
    """The canonical form of what a user typed (any case, with or without the dash, spaces
    ignored), or None when it cannot be a user code (RFC 8628 §6.1: be forgiving)."""
    chars = "".join(c for c in entered.upper() if c not in " -")
    if len(chars) != USER_CODE_LENGTH or any(c not in USER_CODE_ALPHABET for c in chars):
        return None
    return f"{chars[:4]}-{chars[4:]}"


def user_code_hash(user_code: str) -> str:
    return sha256_hex(user_code)


async def device_authorization(req: OAuthRequest, provider: Provider) -> dict[str, Any]:
    req.refuse_duplicates(PARAMETERS)
    # RFC 8628 §3.1: client authentication as at the token endpoint; public clients send
    # their client_id.
    client = await authenticate_client(req, provider, endpoint=PATH)
    if GRANT_TYPE not in client.grant_types:
        raise OAuthError(
            "grant-type-not-allowed",
            f"This client is not registered for grant_type {GRANT_TYPE}; its grant types are: "
            f"{', '.join(client.grant_types) or 'none'}.",
        )
    requested = scopes.parse(req.get("scope"))
    granted = tuple(s for s in scopes.allowed(requested, client.scope) if not scopes.is_reserved(s))
    if requested and not granted:
        raise OAuthError(
            "scope-invalid",
            f"None of the requested scopes ({' '.join(requested)}) may be granted to this "
            f"client; it may request: {client.scope or 'nothing'}.",
        )
    # RFC 9396: checked as at /authorize, shown on /device, carried into the tokens.
    details = await rar_tokens.for_request(provider, req.get(rar.PARAMETER))
    now = provider.now()
    device_code = random_token()
    for _ in range(5):  # a user code collision is rare (2^34 codes) but possible
        user_code = new_user_code()
        record = DeviceCode(
            sha256_hex(device_code),
            user_code_hash(user_code),
            client.client_id,
            scopes.join(granted),
            now,
            now + EXPIRES_IN,
            INTERVAL,
            authorization_details=details,
        )
        try:
            await provider.store.device_codes.add(record)
            break
        except DuplicateError:
            continue
    else:
        raise RuntimeError("no free user code after 5 tries")
    provider.events.emit("device.authorization", client_id=client.client_id)
    verification_uri = provider.settings.issuer.rstrip("/") + VERIFICATION_PATH
    return {
        "device_code": device_code,
        "user_code": user_code,
        "verification_uri": verification_uri,
        "verification_uri_complete": f"{verification_uri}?user_code={user_code}",
        "expires_in": EXPIRES_IN,
        "interval": INTERVAL,
    }
