"""A virtual WebAuthn authenticator in a real Chromium, through the DevTools protocol
(https://chromedevtools.github.io/devtools-protocol/tot/WebAuthn/), for the passkey browser
tests: a platform authenticator (CTAP2, internal transport) that holds discoverable
credentials, verifies its user (as a PIN or biometric would) and answers every prompt at
once. Launch Chromium as tests/e2e/browser.py says; a missing Chromium fails, never skips.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

from playwright.sync_api import CDPSession, Page


@dataclass(frozen=True)
class VirtualAuthenticator:
    session: CDPSession
    authenticator_id: str


@dataclass(frozen=True)
class VirtualCredential:
    credential_id: bytes
    rp_id: str
    user_handle: bytes | None
    sign_count: int
    is_resident: bool


def add_virtual_authenticator(
    page: Page, *, user_verified: bool = True, resident_key: bool = True
) -> VirtualAuthenticator:
    """Attach a virtual platform authenticator to ``page``'s target; it lives as long as
    the page's CDP session (keep the returned object)."""
    session = page.context.new_cdp_session(page)
    session.send("WebAuthn.enable", {"enableUI": False})
    result = session.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "ctap2Version": "ctap2_1",
                "transport": "internal",
                "hasResidentKey": resident_key,
                "hasUserVerification": True,
                "isUserVerified": user_verified,
                "automaticPresenceSimulation": True,
            }
        },
    )
    return VirtualAuthenticator(session, str(result["authenticatorId"]))


def _b64(value: str) -> bytes:
    return base64.b64decode(value + "=" * (-len(value) % 4))  # CDP sends standard base64


def credentials(authenticator: VirtualAuthenticator) -> list[VirtualCredential]:
    """The credentials the authenticator holds (WebAuthn.getCredentials)."""
    result: dict[str, Any] = authenticator.session.send(
        "WebAuthn.getCredentials", {"authenticatorId": authenticator.authenticator_id}
    )
    return [
        VirtualCredential(
            credential_id=_b64(c["credentialId"]),
            rp_id=c.get("rpId", ""),
            user_handle=_b64(c["userHandle"]) if c.get("userHandle") else None,
            sign_count=int(c.get("signCount", 0)),
            is_resident=bool(c.get("isResidentCredential")),
        )
        for c in result["credentials"]
    ]


def set_user_verified(authenticator: VirtualAuthenticator, verified: bool) -> None:
    """Make the next ceremonies succeed or fail user verification (a wrong PIN)."""
    authenticator.session.send(
        "WebAuthn.setUserVerified",
        {"authenticatorId": authenticator.authenticator_id, "isUserVerified": verified},
    )


def remove_virtual_authenticator(authenticator: VirtualAuthenticator) -> None:
    authenticator.session.send(
        "WebAuthn.removeVirtualAuthenticator",
        {"authenticatorId": authenticator.authenticator_id},
    )
