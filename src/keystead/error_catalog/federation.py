"""Error catalog rows: signing in with an upstream identity provider (issue 22, federation/).

Raised as ``federation.UpstreamError(catalog_id, detail)``: the detail says what exactly the
upstream did (for the operator: logged and kept for ``keystead explain``), the user sees the
plain words of the row.
"""

from __future__ import annotations

from keystead.error_catalog import Row

_TRY_AGAIN = "Try again in a moment, or sign in another way."
_OTHER_WAY = "Sign in another way, or tell the people who run this service."

ROWS: tuple[Row, ...] = (
    (
        "connection-unknown",
        "invalid_request",
        404,
        "No such upstream identity provider",
        ("The sign-in names a connection (a path or idp_hint=NAME) that does not exist.",),
        ("List the connections with `keystead connection list` and use one of their names.",),
        ("This way of signing in does not exist.", "Go back and choose another way to sign in."),
    ),
    (
        "connection-disabled",
        "access_denied",
        403,
        "The upstream identity provider is disabled",
        ("An operator disabled the connection (`keystead connection update NAME --disable`).",),
        ("Enable it with `keystead connection update NAME --enable`, or use another one.",),
        ("This way of signing in is switched off.", _OTHER_WAY),
    ),
    (
        "upstream-unreachable",
        "temporarily_unavailable",
        503,
        "The upstream identity provider cannot be reached",
        (
            "Its discovery document, JWKS, token or userinfo endpoint timed out, refused the "
            "connection, answered 5xx, or is an address the SSRF guard refuses.",
        ),
        (
            "Check the connection's issuer URL and that keystead can reach it (https; "
            "KEYSTEAD_ALLOW_PRIVATE_NETWORK_FETCH=true for an http issuer on a private "
            "network in development).",
        ),
        ("The service you chose to sign in with is not answering.", _TRY_AGAIN),
    ),
    (
        "upstream-discovery-invalid",
        "server_error",
        502,
        "The upstream's discovery document is not usable",
        (
            "The OpenID Provider Configuration at the issuer is not JSON, names another "
            "issuer (OIDC Discovery §4.3), or lacks the authorization, token or JWKS endpoint.",
        ),
        ("Check the connection's issuer: it must be exactly the upstream's `issuer` value.",),
        ("The service you chose to sign in with is not set up correctly.", _OTHER_WAY),
    ),
    (
        "upstream-error-response",
        "access_denied",
        403,
        "The upstream identity provider refused the sign-in",
        (
            "The upstream redirected back with error=... (the user cancelled, or the upstream "
            "refused keystead's request: an unknown client_id, a redirect URI it does not "
            "know, a scope it does not offer).",
        ),
        (
            "Read the error and error_description in the detail; register the connection's "
            "redirect_uri (`keystead connection show NAME`) at the upstream.",
        ),
        ("Signing in with the other service did not complete.", "Try again if you cancelled."),
    ),
    (
        "upstream-callback-invalid",
        "access_denied",
        403,
        "The upstream's answer does not belong to this sign-in",
        (
            "The redirect back from the upstream has no state or another browser's (RFC 6749 "
            "§10.12: a forged or replayed answer), names another issuer (RFC 9207: a mix-up), "
            "or carries neither a code nor an error.",
        ),
        (
            "Start signing in again from the application, in one browser tab; nothing to "
            "change if it was an attack.",
        ),
        ("This sign-in could not be completed safely.", "Start signing in again."),
    ),
    (
        "upstream-token-error",
        "server_error",
        502,
        "The upstream's token endpoint refused the code",
        (
            "The token request failed: invalid_client (a wrong client secret or "
            "authentication method), invalid_grant (an expired or replayed code, a wrong "
            "redirect_uri or code_verifier), or a response without an access token.",
        ),
        (
            "Check the connection's client_id, client secret and --auth-method against the "
            "upstream's registration of keystead.",
        ),
        ("The service you chose to sign in with did not confirm who you are.", _TRY_AGAIN),
    ),
    (
        "upstream-id-token-invalid",
        "server_error",
        502,
        "The upstream's ID token is not valid",
        (
            "The ID token's signature does not verify with the upstream's JWKS, or its alg is "
            "none or HS*, or its iss, aud, azp, exp or iat is wrong (OIDC Core §3.1.3.7), or "
            "its at_hash does not match the access token (§3.1.3.8); the detail says which.",
        ),
        (
            "Check the connection's issuer and client_id, the clocks of both servers, and "
            "that the upstream publishes its signing keys at its jwks_uri.",
        ),
        ("The service you chose to sign in with sent an answer we cannot trust.", _OTHER_WAY),
    ),
    (
        "upstream-nonce-mismatch",
        "access_denied",
        403,
        "The upstream's ID token is for another sign-in",
        (
            "The ID token's nonce is missing or not the one keystead sent (OIDC Core §3.1.3.7 "
            "step 11): a replayed or injected response.",
        ),
        ("Start signing in again from the application; nothing to change if it was an attack.",),
        ("This sign-in could not be completed safely.", "Start signing in again."),
    ),
    (
        "upstream-userinfo-invalid",
        "server_error",
        502,
        "The upstream's UserInfo answer is not valid",
        (
            "The UserInfo response is not a JSON object, or its sub differs from the ID "
            "token's (OIDC Core §5.3.2), or GitHub's /user has no id.",
        ),
        ("Check the upstream's UserInfo endpoint; the detail says what was wrong.",),
        ("The service you chose to sign in with sent an answer we cannot trust.", _OTHER_WAY),
    ),
)
