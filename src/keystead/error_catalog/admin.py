"""Error catalog rows: the admin API."""

from __future__ import annotations

from keystead.error_catalog import Row

ROWS: tuple[Row, ...] = (
    # --- admin API ---
    (
        "admin-client-credentials-required",
        "insufficient_scope",
        403,
        "Admin API needs a client's own token",
        (
            "The access token was issued to a user (authorization code); the admin API only "
            "accepts client_credentials tokens with the keystead:admin scope.",
        ),
        (
            "Obtain a token with grant_type=client_credentials and scope=keystead:admin as a "
            "client allowed that scope.",
        ),
    ),
    (
        "admin-body-invalid",
        "invalid_request",
        422,
        "Invalid request body",
        ("The JSON body is malformed, misses a field, or a field has an invalid value.",),
        ("Fix the fields listed in errors[] (see /admin/api/openapi.json).",),
    ),
    (
        "admin-not-found",
        "invalid_request",
        404,
        "No such resource",
        ("The id in the URL names no client, API, user or key.",),
        ("List the collection to find the id.",),
    ),
    (
        "admin-conflict",
        "invalid_request",
        409,
        "Conflicts with the current state",
        (
            "The name or identifier is taken, or the change would break something that must "
            "stay (the reserved admin API, the only active signing key of an alg).",
        ),
        ("Choose another name, or change the other resource first.",),
    ),
)
