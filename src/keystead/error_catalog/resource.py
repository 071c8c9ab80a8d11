"""Error catalog rows: bearer access tokens at protected resources (RFC 6750)."""

from __future__ import annotations

from keystead.error_catalog import Row

ROWS: tuple[Row, ...] = (
    # --- protected resources (RFC 6750) ---
    (
        "token-missing",
        "invalid_request",
        401,
        "No access token",
        ("The request has no Authorization: Bearer header.",),
        ("Send Authorization: Bearer <access_token>.",),
    ),
    (
        "token-invalid",
        "invalid_token",
        401,
        "Invalid access token",
        ("The access token is unknown, expired or revoked.",),
        ("Obtain a new access token.",),
    ),
    (
        "token-insufficient-scope",
        "insufficient_scope",
        403,
        "Insufficient scope",
        ("The access token lacks a scope this endpoint needs.",),
        ("Request the scope named in error_description.",),
    ),
)
