"""`keystead inspect <jwt>`: decode a token, verify it against the issuer's keys, and explain
each claim and each failed check in words."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from keystead.jose import jwt
from keystead.jose.keys import KeyRing

CLAIM_MEANINGS = {
    "iss": "issuer: who created and signed the token",
    "sub": "subject: the stable, opaque id of the user (or client)",
    "aud": "audience: who the token is meant for (a client_id or an API)",
    "exp": "expiry: not valid at or after this time",
    "iat": "issued at",
    "nbf": "not valid before this time",
    "auth_time": "when the user last logged in",
    "nonce": "the value the client sent in its authorization request (replay protection)",
    "at_hash": "half of the SHA hash of the access token issued alongside",
    "c_hash": "half of the SHA hash of the authorization code issued alongside",
    "sid": "the SSO session id",
    "amr": "how the user authenticated (pwd = password)",
    "acr": "authentication context class",
    "azp": "authorized party: the client the token was issued to",
    "scope": "the granted scopes",
    "client_id": "the client the token was issued to",
    "jti": "unique token id",
}
TIME_CLAIMS = ("exp", "iat", "nbf", "auth_time")
CLOCK_SKEW = 60


@dataclass
class Check:
    name: str
    ok: bool
    detail: str


@dataclass
class Inspection:
    header: dict[str, Any] = field(default_factory=dict)
    claims: dict[str, Any] = field(default_factory=dict)
    explanations: list[tuple[str, str]] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)


def _b64json(part: str) -> dict[str, Any]:
    padded = part + "=" * (-len(part) % 4)
    value = json.loads(base64.urlsafe_b64decode(padded))
    if not isinstance(value, dict):
        raise ValueError("not a JSON object")
    return value


def _when(ts: Any, now: int) -> str:
    if not isinstance(ts, int | float):
        return f"{ts!r} (not a number)"
    moment = datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    delta = int(ts) - now
    rel = f"in {delta} s" if delta > 0 else f"{-delta} s ago"
    return f"{moment} ({rel})"


def _explain(claims: dict[str, Any], now: int) -> list[tuple[str, str]]:
    out = []
    for name, value in claims.items():
        meaning = CLAIM_MEANINGS.get(name, "custom claim")
        shown = _when(value, now) if name in TIME_CLAIMS else json.dumps(value)
        out.append((name, f"{shown} — {meaning}"))
    return out


def inspect_token(
    token: str, keyring: KeyRing, *, issuer: str, now: int, audience: str | None = None
) -> Inspection:
    result = Inspection()
    parts = token.strip().split(".")
    if len(parts) != 3:
        detail = f"a JWS has 3 dot-separated parts; this has {len(parts)}"
        if len(parts) == 5:
            detail += " (it is an encrypted JWE, which keystead cannot read without the key)"
        result.checks.append(Check("format", False, detail))
        return result
    try:
        result.header, result.claims = _b64json(parts[0]), _b64json(parts[1])
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        result.checks.append(Check("format", False, f"header or payload is not JSON: {exc}"))
        return result
    result.checks.append(Check("format", True, "compact JWS with JSON header and claims"))
    result.explanations = _explain(result.claims, now)

    kid = result.header.get("kid")
    if kid is None or keyring.verification_key(str(kid)) is None:
        known = ", ".join(k["kid"] for k in keyring.jwks(now)["keys"])
        result.checks.append(
            Check(
                "kid",
                False,
                f"kid {kid!r} is not one of this issuer's keys (published: {known}); the token was "
                "signed by another server or with a key that has been removed",
            )
        )
    else:
        result.checks.append(Check("kid", True, f"kid {kid} is one of this issuer's keys"))
        try:
            jwt.verify(token.strip(), keyring)
            result.checks.append(Check("signature", True, f"valid {result.header.get('alg')}"))
        except jwt.JoseError as exc:
            result.checks.append(Check("signature", False, str(exc)))

    claims = result.claims
    iss = claims.get("iss")
    result.checks.append(
        Check(
            "iss",
            iss == issuer,
            "matches this issuer" if iss == issuer else f"is {iss!r}, this issuer is {issuer!r}",
        )
    )
    exp = claims.get("exp")
    if not isinstance(exp, int | float):
        result.checks.append(Check("exp", False, "missing or not a number"))
    elif exp <= now:
        result.checks.append(Check("exp", False, f"expired {now - int(exp)} s ago"))
    else:
        result.checks.append(Check("exp", True, f"valid for {int(exp) - now} s more"))
    for name in ("nbf", "iat"):
        value = claims.get(name)
        if isinstance(value, int | float) and value > now + CLOCK_SKEW:
            result.checks.append(
                Check(name, False, f"{int(value) - now} s in the future: check the clocks")
            )
    if audience is not None:
        aud = claims.get("aud")
        auds = aud if isinstance(aud, list) else [aud]
        result.checks.append(
            Check(
                "aud",
                audience in auds,
                f"contains {audience}"
                if audience in auds
                else f"is {aud!r}, expected it to contain {audience!r}",
            )
        )
    return result
