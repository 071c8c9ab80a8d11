"""Validating an upstream's ID token as its relying party (OIDC Core §3.1.3.7): the signature
with a key of the upstream's JWKS (never ``none``, never an HMAC), then iss, aud, azp, exp,
iat and nonce, each refusal with its own detail."""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from typing import Any

from keystead.federation.upstream import UpstreamError
from keystead.jose.client_keys import (
    ASYMMETRIC_ALGS,
    ClientKey,
    UnknownKid,
    peek,
    verify_with_jwks,
)
from keystead.jose.jwt import JoseError, hash_claim

SKEW = 60  # seconds of clock difference allowed on exp and iat


def signing_alg(token: str) -> str:
    """The header's alg if keystead verifies it; UpstreamError otherwise (and for a token
    that is not a JWS)."""
    try:
        header, _ = peek(token)
    except JoseError as exc:
        raise UpstreamError(
            "upstream-id-token-invalid", f"the ID token is not a signed JWT: {exc}"
        ) from None
    alg = header.get("alg")
    # OIDC Core §3.1.3.7 step 7 / RFC 8725 §3.1: the alg is the upstream's signing alg; an
    # unsigned token, or an HMAC one (keyed with a secret the client knows too), is refused.
    if not isinstance(alg, str) or alg == "none" or alg.upper().startswith("HS"):
        raise UpstreamError(
            "upstream-id-token-invalid", f"the ID token's alg {alg!r} is not accepted (none/HS*)."
        )
    if alg not in ASYMMETRIC_ALGS:
        raise UpstreamError(
            "upstream-id-token-invalid",
            f"the ID token's alg {alg!r} is not supported ({', '.join(ASYMMETRIC_ALGS)}).",
        )
    return alg


def verify_signature(token: str, keys: Sequence[ClientKey]) -> dict[str, Any]:
    """The claims if one of ``keys`` signed the token. Raises UnknownKid (refetch the JWKS)
    or UpstreamError."""
    signing_alg(token)
    try:
        return verify_with_jwks(token, keys)
    except UnknownKid:
        raise
    except JoseError as exc:
        raise UpstreamError(
            "upstream-id-token-invalid", f"the ID token's signature does not verify: {exc}"
        ) from None


def check_claims(
    claims: dict[str, Any], *, issuer: str, client_id: str, nonce: str, now: int
) -> dict[str, Any]:
    """OIDC Core §3.1.3.7 steps 2-11 on verified claims."""
    # Step 2: iss MUST exactly match the issuer of the discovery document.
    if claims.get("iss") != issuer:
        raise UpstreamError(
            "upstream-id-token-invalid",
            f"the ID token's iss {claims.get('iss')!r} is not {issuer!r}.",
        )
    # Step 3: aud MUST contain our client_id.
    aud = claims.get("aud")
    audiences = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else []
    if client_id not in audiences:
        raise UpstreamError(
            "upstream-id-token-invalid",
            f"the ID token's aud {aud!r} does not contain the client_id {client_id!r}.",
        )
    # Steps 4-5: with several audiences azp must be present; when present it MUST be us.
    azp = claims.get("azp")
    if len(audiences) > 1 and azp is None:
        raise UpstreamError(
            "upstream-id-token-invalid", "the ID token has several audiences and no azp."
        )
    if azp is not None and azp != client_id:
        raise UpstreamError(
            "upstream-id-token-invalid", f"the ID token's azp {azp!r} is not {client_id!r}."
        )
    # Step 9: the current time MUST be before exp.
    exp = claims.get("exp")
    if not isinstance(exp, int | float) or isinstance(exp, bool):
        raise UpstreamError("upstream-id-token-invalid", "the ID token has no numeric exp.")
    if now >= exp + SKEW:
        raise UpstreamError(
            "upstream-id-token-invalid", f"the ID token expired {int(now - exp)} s ago (exp)."
        )
    # Step 10: iat, and not issued in the future.
    iat = claims.get("iat")
    if not isinstance(iat, int | float) or isinstance(iat, bool):
        raise UpstreamError("upstream-id-token-invalid", "the ID token has no numeric iat.")
    if iat > now + SKEW:
        raise UpstreamError(
            "upstream-id-token-invalid", f"the ID token's iat is {int(iat - now)} s in the future."
        )
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub:
        raise UpstreamError("upstream-id-token-invalid", "the ID token has no sub.")
    # Step 11: the nonce MUST be the one sent in the authentication request.
    got = claims.get("nonce")
    if not isinstance(got, str) or not hmac.compare_digest(got.encode(), nonce.encode()):
        raise UpstreamError(
            "upstream-nonce-mismatch",
            "the ID token has no nonce" if got is None else "the ID token's nonce is not ours",
        )
    return claims


def check_at_hash(claims: dict[str, Any], access_token: str, alg: str) -> None:
    """OIDC Core §3.1.3.8: an at_hash, when present, binds the ID token to the access token
    it came with (a substituted access token would read someone else's UserInfo)."""
    at_hash = claims.get("at_hash")
    if at_hash is None:
        return
    try:
        expected = hash_claim(access_token, alg)
    except (ValueError, UnicodeError):
        raise UpstreamError(
            "upstream-id-token-invalid", "the access token cannot be checked against at_hash."
        ) from None
    if not isinstance(at_hash, str) or not hmac.compare_digest(at_hash, expected):
        raise UpstreamError(
            "upstream-id-token-invalid", "the ID token's at_hash does not match the access token."
        )
