"""PKCE (RFC 7636) — S256 only (RFC 9700 §2.1.1)."""

from __future__ import annotations

import hashlib
import hmac
import re

from keystead.errors import OAuthError
from keystead.secrets_util import b64url

METHODS_SUPPORTED = ("S256",)
# RFC 7636 §4.1: 43..128 characters of [A-Z] / [a-z] / [0-9] / "-" / "." / "_" / "~"
_VERIFIER = re.compile(r"[A-Za-z0-9\-._~]{43,128}")
# S256 challenges are BASE64URL(SHA256(verifier)): exactly 43 characters, no padding.
_CHALLENGE = re.compile(r"[A-Za-z0-9\-_]{43}")


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return b64url(digest).decode("ascii")


def check_challenge(challenge: str | None, method: str | None, required: bool) -> None:
    """Validate the authorization request's PKCE parameters."""
    if challenge is None:
        if method is not None:
            raise OAuthError(
                "request-invalid-parameter",
                "code_challenge_method was sent without code_challenge; send both.",
            )
        if required:
            raise OAuthError(
                "pkce-required",
                "This client must use PKCE: send code_challenge (BASE64URL of the SHA-256 of "
                "a random code_verifier) and code_challenge_method=S256.",
            )
        return
    if method is None:
        # RFC 7636 §4.3: an absent method means plain, which keystead refuses.
        raise OAuthError(
            "pkce-method-unsupported",
            "code_challenge_method is missing, so it defaults to plain, which is not "
            "supported; send code_challenge_method=S256.",
        )
    if method not in METHODS_SUPPORTED:
        raise OAuthError(
            "pkce-method-unsupported",
            f"code_challenge_method {method} is not supported; send code_challenge_method=S256.",
        )
    if not _CHALLENGE.fullmatch(challenge):
        raise OAuthError(
            "request-invalid-parameter",
            "code_challenge must be 43 characters of base64url (the unpadded SHA-256 of the "
            "code_verifier).",
        )


def check_verifier(challenge: str | None, verifier: str | None) -> None:
    """Token endpoint (RFC 7636 §4.6)."""
    if challenge is None:
        if verifier is not None:
            # RFC 9700 §2.1.1: refuse a code_verifier for a code issued without a challenge.
            raise OAuthError(
                "pkce-downgrade",
                "code_verifier was sent, but the authorization request had no code_challenge.",
            )
        return
    if verifier is None:
        raise OAuthError(
            "pkce-verifier-missing",
            "code_verifier is required: the authorization request sent a code_challenge.",
        )
    if not _VERIFIER.fullmatch(verifier):
        raise OAuthError(
            "pkce-verifier-mismatch",
            "code_verifier must be 43 to 128 characters from A-Z a-z 0-9 - . _ ~ (RFC 7636 §4.1).",
        )
    if not hmac.compare_digest(s256(verifier), challenge):
        raise OAuthError(
            "pkce-verifier-mismatch",
            "code_verifier does not match the code_challenge of the authorization request.",
        )
