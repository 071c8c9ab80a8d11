"""The state of one login/consent interaction, carried in the page as a signed (HS256 JWS)
value: the original authorization parameters, what their validation derived from them (so a
later step need not validate them again; protocol/authorization_request.py), when the
interaction started, the CSRF token it is bound to, and (for consent) the session that saw the
page. Nothing is stored server-side; the signature makes all of it tamper-proof.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import OctKey

from keystead.errors import OAuthError


@dataclass(frozen=True, slots=True)
class Interaction:
    pairs: tuple[tuple[str, str], ...]  # the authorization request's parameters
    started_at: int
    csrf: str
    sid: str | None = None
    validated: dict[str, Any] | None = None  # protocol.authorization_request.carried()
    # What the state is for: "authorize" (the login and consent pages) or "logout" (the
    # logout confirmation). A state is refused by the other kind of step.
    purpose: str = "authorize"
    # A sign-in waiting for its second factor: whose, and the methods already passed (no
    # session exists until the factor is given).
    pending_sub: str | None = None
    pending_amr: tuple[str, ...] = ()


class InteractionSigner:
    def __init__(self, key: bytes, ttl: int) -> None:
        self._key = OctKey.import_key(key)
        self._ttl = ttl

    def dump(self, interaction: Interaction) -> str:
        payload = {
            "p": [list(pair) for pair in interaction.pairs],
            "iat": interaction.started_at,
            "csrf": interaction.csrf,
            "sid": interaction.sid,
            "u": interaction.purpose,
        }
        if interaction.validated is not None:
            payload["v"] = interaction.validated
        if interaction.pending_sub is not None:
            payload["ps"] = interaction.pending_sub
            payload["pa"] = list(interaction.pending_amr)
        data = json.dumps(payload, separators=(",", ":")).encode()
        return jws.serialize_compact({"alg": "HS256"}, data, self._key)

    def load(self, token: str, now: int, purpose: str = "authorize") -> Interaction:
        """The interaction of a state signed here, unexpired and made for ``purpose``. A state
        without a purpose (signed before purposes existed) is an authorization's."""
        try:
            obj = jws.deserialize_compact(token, self._key, algorithms=["HS256"])
            payload = json.loads(obj.payload)
            validated = payload.get("v")
            if validated is not None and not isinstance(validated, dict):
                raise TypeError("v is not an object")
            interaction = Interaction(
                pairs=tuple((str(k), str(v)) for k, v in payload["p"]),
                started_at=int(payload["iat"]),
                csrf=str(payload["csrf"]),
                sid=payload.get("sid"),
                validated=validated,
                purpose=str(payload.get("u", "authorize")),
                pending_sub=None if payload.get("ps") is None else str(payload["ps"]),
                pending_amr=tuple(str(m) for m in payload.get("pa", ())),
            )
            if interaction.purpose != purpose:
                raise ValueError(f"a {interaction.purpose} state sent to a {purpose} step")
        except (JoseError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise OAuthError(
                "interaction-invalid",
                "The sign-in form was altered or is not from this server.",
                debug=repr(exc),
            ) from exc
        if now - interaction.started_at > self._ttl:
            raise OAuthError(
                "interaction-invalid",
                f"The sign-in page expired after {self._ttl // 60} minutes.",
            )
        return interaction
