"""A software authenticator for tests: real WebAuthn L2 responses built by hand with
`cryptography` and `cbor2` (an ES256 key, authenticator data, client data), in the JSON a
browser's PublicKeyCredential.toJSON() gives. Each field can be overridden to make a response
that a relying party must refuse."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import struct
from dataclasses import dataclass, field
from typing import Any

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

UP, UV, BE, BS, AT = 0x01, 0x04, 0x08, 0x10, 0x40
AAGUID = bytes.fromhex("6d44ba9bf6ec2e49b9300c8fe920cb73")


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def cose_es256(public_key: ec.EllipticCurvePublicKey) -> bytes:
    """RFC 9053 §7.1.1: an EC2 COSE_Key (kty 2, alg -7, crv P-256)."""
    numbers = public_key.public_numbers()
    return cbor2.dumps(
        {
            1: 2,
            3: -7,
            -1: 1,
            -2: numbers.x.to_bytes(32, "big"),
            -3: numbers.y.to_bytes(32, "big"),
        }
    )


@dataclass
class SoftAuthenticator:
    rp_id: str
    origin: str
    key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    credential_id: bytes = field(default_factory=lambda: os.urandom(32))
    user_handle: bytes = b"user-handle-1"
    counter: int = 0

    @property
    def public_key(self) -> bytes:
        return cose_es256(self.key.public_key())

    def client_data(self, kind: str, challenge: bytes, **overrides: Any) -> bytes:
        data = {
            "type": kind,
            "challenge": b64u(challenge),
            "origin": self.origin,
            "crossOrigin": False,
        }
        data.update(overrides)
        return json.dumps(data, separators=(",", ":")).encode()

    def auth_data(
        self, *, flags: int, counter: int, rp_id: str | None = None, attested: bool = False
    ) -> bytes:
        """WebAuthn L2 §6.1: rpIdHash (32) | flags (1) | signCount (4, big-endian)
        [| attested credential data: AAGUID (16) | L (2) | credentialId (L) | COSE key]."""
        head = hashlib.sha256((rp_id or self.rp_id).encode()).digest()
        head += bytes([flags | (AT if attested else 0)]) + struct.pack(">I", counter)
        if not attested:
            return head
        cred = AAGUID + struct.pack(">H", len(self.credential_id)) + self.credential_id
        return head + cred + self.public_key

    def register(
        self,
        challenge: bytes,
        *,
        flags: int = UP | UV | BE | BS,
        rp_id: str | None = None,
        client_data: bytes | None = None,
        auth_data: bytes | None = None,
        **client_overrides: Any,
    ) -> str:
        """The JSON of a navigator.credentials.create() result, attestation "none"."""
        cdj = client_data or self.client_data("webauthn.create", challenge, **client_overrides)
        ad = auth_data or self.auth_data(
            flags=flags, counter=self.counter, rp_id=rp_id, attested=True
        )
        att = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": ad})
        return json.dumps(
            {
                "id": b64u(self.credential_id),
                "rawId": b64u(self.credential_id),
                "type": "public-key",
                "authenticatorAttachment": "platform",
                "clientExtensionResults": {},
                "response": {
                    "clientDataJSON": b64u(cdj),
                    "attestationObject": b64u(att),
                    "transports": ["internal", "hybrid", "carrier-pigeon"],
                },
            }
        )

    def assert_(
        self,
        challenge: bytes,
        *,
        flags: int = UP | UV | BE | BS,
        counter: int | None = None,
        rp_id: str | None = None,
        client_data: bytes | None = None,
        auth_data: bytes | None = None,
        signed_auth_data: bytes | None = None,
        signer: ec.EllipticCurvePrivateKey | None = None,
        **client_overrides: Any,
    ) -> str:
        """The JSON of a navigator.credentials.get() result: an ES256 signature over
        authenticatorData || SHA-256(clientDataJSON) (WebAuthn L2 §6.3.3 step 11).
        ``signed_auth_data`` signs other bytes than the ones sent (tampering)."""
        if counter is None:
            self.counter += 1
            counter = self.counter
        cdj = client_data or self.client_data("webauthn.get", challenge, **client_overrides)
        ad = auth_data or self.auth_data(flags=flags, counter=counter, rp_id=rp_id)
        to_sign = (signed_auth_data or ad) + hashlib.sha256(cdj).digest()
        signature = (signer or self.key).sign(to_sign, ec.ECDSA(hashes.SHA256()))
        return json.dumps(
            {
                "id": b64u(self.credential_id),
                "rawId": b64u(self.credential_id),
                "type": "public-key",
                "authenticatorAttachment": "platform",
                "clientExtensionResults": {},
                "response": {
                    "clientDataJSON": b64u(cdj),
                    "authenticatorData": b64u(ad),
                    "signature": b64u(signature),
                    "userHandle": b64u(self.user_handle),
                },
            }
        )
