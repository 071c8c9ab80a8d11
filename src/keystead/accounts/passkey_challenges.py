"""WebAuthn challenges without a table (WebAuthn L2 §13.4.3: random, at least 16 bytes, used
once, short-lived).

A challenge is 32 random bytes. Its state travels to the browser and back inside the page as
a compact HS256 JWS (joserfc, as web/interaction.py signs the interaction state), bound to a
purpose ("register" or "login") and, when the user is known (registration, a second factor),
to the user's ``sub``; it expires after ``ttl`` seconds. Single use is enforced when it is
consumed, through the MarkerStore: ``add`` succeeds for exactly one caller, across processes.

The key should be one of its own, e.g. ``provider.kek.derive("passkey-challenge")``; the
``typ`` header keeps a challenge state from passing for any other signed value regardless.
"""

from __future__ import annotations

import base64
import json
import os
from typing import Literal

from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import OctKey

from keystead.accounts.webauthn import PasskeyError
from keystead.secrets_util import b64url, same_text, sha256_hex
from keystead.store.base import MarkerStore

Purpose = Literal["register", "login"]
PURPOSES = ("register", "login")
TYP = "keystead-passkey-challenge"
MAX_TOKEN = 1024  # characters; a state signed here is about 200
_MARKER_PREFIX = "passkey-challenge:"


class Challenges:
    def __init__(self, key: bytes, ttl: int = 300) -> None:
        self._key = OctKey.import_key(key)
        self._ttl = ttl

    def issue(self, purpose: Purpose, sub: str | None, now: int) -> tuple[str, bytes]:
        """(state token for the page, the challenge for the options JSON)."""
        if purpose not in PURPOSES:
            raise ValueError(f"unknown passkey purpose {purpose!r}")
        challenge = os.urandom(32)
        payload = {
            "c": b64url(challenge).decode("ascii"),
            "u": purpose,
            "sub": sub,
            "exp": now + self._ttl,
        }
        data = json.dumps(payload, separators=(",", ":")).encode()
        return jws.serialize_compact({"alg": "HS256", "typ": TYP}, data, self._key), challenge

    def _load(self, token: str) -> tuple[bytes, str, str | None, int]:
        if not isinstance(token, str) or not token.isascii() or len(token) > MAX_TOKEN:
            raise ValueError("not a state token")
        obj = jws.deserialize_compact(token, self._key, algorithms=["HS256"])
        if obj.protected.get("typ") != TYP:
            raise ValueError("not a passkey challenge state")
        payload = json.loads(obj.payload)
        sub = payload["sub"]
        if sub is not None and not isinstance(sub, str):
            raise TypeError("sub")
        challenge = payload["c"]
        if not isinstance(challenge, str):
            raise TypeError("c")
        raw = base64.urlsafe_b64decode(challenge + "=" * (-len(challenge) % 4))
        if len(raw) != 32:
            raise ValueError("challenge length")
        return raw, str(payload["u"]), sub, int(payload["exp"])

    async def consume(
        self, markers: MarkerStore, token: str, purpose: Purpose, sub: str | None, now: int
    ) -> bytes:
        """The challenge of a state issued here for ``purpose`` and ``sub``, unexpired and
        not consumed before; it can never be consumed again, even by another process."""
        try:
            challenge, got_purpose, got_sub, expires_at = self._load(token)
        except (JoseError, ValueError, KeyError, TypeError, AttributeError):
            raise PasskeyError(
                "This passkey request was altered or is not from this server; start again.",
                "state",
            ) from None
        if got_purpose != purpose:
            raise PasskeyError(
                f"This passkey request was made for {_WORDS.get(got_purpose, 'another step')}, "
                f"not {_WORDS[purpose]}; start again.",
                "state",
            )
        if (got_sub is None) != (sub is None) or (
            got_sub is not None and sub is not None and not same_text(got_sub, sub)
        ):
            raise PasskeyError(
                "This passkey request was made for another account; start again.", "state"
            )
        if now >= expires_at:
            raise PasskeyError(
                f"This passkey request expired after {self._ttl // 60} minutes; start again.",
                "expired",
            )
        # WebAuthn L2 §13.4.3: a challenge is used once. The marker lives as long as the
        # state could still be accepted.
        key = _MARKER_PREFIX + sha256_hex(b64url(challenge).decode("ascii"))
        if not await markers.add(key, expires_at, now):
            raise PasskeyError("This passkey request was already used; start again.", "replayed")
        return challenge


_WORDS = {"register": "adding a passkey", "login": "signing in"}
