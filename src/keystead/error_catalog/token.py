"""Error catalog rows: the token endpoint (grant types, client authentication, codes, PKCE,
resource indicators, refresh tokens), revocation and introspection, and browsers calling them
from another origin."""

from __future__ import annotations

from keystead.error_catalog import Row

ROWS: tuple[Row, ...] = (
    # --- token endpoint ---
    (
        "grant-type-unsupported",
        "unsupported_grant_type",
        400,
        "grant_type not supported",
        ("grant_type is unknown or not implemented.",),
        ("Use a grant type listed in grant_types_supported in discovery.",),
    ),
    (
        "grant-type-not-allowed",
        "unauthorized_client",
        400,
        "grant_type not allowed",
        ("The client is not registered for this grant type.",),
        ("Register the grant type with --grant-type.",),
    ),
    (
        "client-auth-missing",
        "invalid_client",
        401,
        "No client authentication",
        ("The request has neither an Authorization: Basic header nor client_id.",),
        ("Authenticate as the client with the method it is registered for.",),
    ),
    (
        "client-auth-multiple",
        "invalid_request",
        400,
        "More than one client auth method",
        ("The request authenticates with both HTTP Basic and client_secret in the body.",),
        ("Use exactly one method (RFC 6749 §2.3).",),
    ),
    (
        "client-auth-malformed",
        "invalid_client",
        401,
        "Malformed client authentication",
        ("The Authorization header is not valid HTTP Basic.",),
        ("Send Basic base64(urlencode(client_id) ':' urlencode(client_secret)).",),
    ),
    (
        "client-unknown",
        "invalid_client",
        401,
        "Client authentication failed",
        ("client_id is unknown to this server.",),
        ("Check the client_id; `keystead client list` shows the registered ones.",),
    ),
    (
        "client-auth-method-mismatch",
        "invalid_client",
        401,
        "Wrong client authentication method",
        ("The client authenticated with another method than it is registered for.",),
        ("Use the registered token_endpoint_auth_method (`keystead client show`).",),
    ),
    (
        "client-secret-invalid",
        "invalid_client",
        401,
        "Client authentication failed",
        ("The client secret is wrong, or was rotated.",),
        ("Use the secret printed when the client was created.",),
    ),
    (
        "code-unknown",
        "invalid_grant",
        400,
        "Unknown authorization code",
        ("The code is mistyped, truncated, or from another server.",),
        ("Send the code exactly as received on the redirect URI.",),
    ),
    (
        "code-expired",
        "invalid_grant",
        400,
        "Authorization code expired",
        ("The code was redeemed too late (codes live at most 60 seconds by default).",),
        ("Redeem the code immediately after the redirect.",),
    ),
    (
        "code-replayed",
        "invalid_grant",
        400,
        "Authorization code already used",
        ("The code was redeemed before: a retry, a double submit, or an attacker.",),
        (
            "Redeem each code once; tokens from the first redemption were revoked "
            "(RFC 6749 §4.1.2).",
        ),
    ),
    (
        "code-client-mismatch",
        "invalid_grant",
        400,
        "Code issued to another client",
        ("The code was issued to a different client_id.",),
        ("Redeem the code with the client that started the authorization.",),
    ),
    (
        "code-redirect-uri-mismatch",
        "invalid_grant",
        400,
        "redirect_uri differs",
        ("The token request's redirect_uri is not identical to the authorization request's.",),
        ("Send the same redirect_uri as in the authorization request (RFC 6749 §4.1.3).",),
    ),
    (
        "pkce-verifier-missing",
        "invalid_grant",
        400,
        "code_verifier is missing",
        ("The code was issued with a code_challenge, but no code_verifier was sent.",),
        ("Send the code_verifier that produced the code_challenge.",),
    ),
    (
        "pkce-verifier-mismatch",
        "invalid_grant",
        400,
        "code_verifier does not match",
        ("SHA-256 of the code_verifier does not equal the code_challenge.",),
        ("Send the verifier generated for this authorization request.",),
    ),
    (
        "pkce-downgrade",
        "invalid_grant",
        400,
        "Unexpected code_verifier",
        (
            "A code_verifier was sent for a code issued without a code_challenge "
            "(a PKCE downgrade attempt, RFC 9700 §2.1.1).",
        ),
        ("Send code_challenge in the authorization request, or no code_verifier.",),
    ),
    # --- APIs and resource indicators (RFC 8707) ---
    (
        "resource-invalid",
        "invalid_target",
        400,
        "Malformed resource",
        ("resource is not an absolute URI, or it has a fragment.",),
        ("Send the API's identifier exactly as registered (`keystead api list`).",),
    ),
    (
        "resource-unknown",
        "invalid_target",
        400,
        "Unknown resource",
        ("resource names no registered API.",),
        ("Register the API (`keystead api create --identifier ...`) or fix the URI.",),
    ),
    (
        "resource-not-granted",
        "invalid_target",
        400,
        "Resource not in the authorization",
        ("The token request names a resource the authorization request did not.",),
        ("Add it as resource= to the authorization request, or pick one it named.",),
    ),
    (
        "resource-ambiguous",
        "invalid_target",
        400,
        "Which API is this token for?",
        ("The authorization named several resources, or the scopes belong to several APIs.",),
        ("Send resource= with one API identifier: an access token is for one API.",),
    ),
    # --- refresh tokens (RFC 6749 §6, RFC 9700 §4.14) ---
    (
        "refresh-unknown",
        "invalid_grant",
        400,
        "Unknown refresh token",
        ("The refresh token is mistyped, truncated, or from another server.",),
        ("Send the refresh token exactly as received.",),
    ),
    (
        "refresh-client-mismatch",
        "invalid_grant",
        400,
        "Refresh token of another client",
        ("The refresh token was issued to a different client_id.",),
        ("Use the refresh token with the client it was issued to.",),
    ),
    (
        "refresh-revoked",
        "invalid_grant",
        400,
        "Refresh token revoked",
        ("The grant was revoked: by the user, by revocation, or after a detected reuse.",),
        ("Send the user through the authorization flow again.",),
    ),
    (
        "refresh-expired",
        "invalid_grant",
        400,
        "Refresh token expired",
        (
            "The refresh token was unused for longer than the idle lifetime, or the grant "
            "reached its absolute lifetime.",
        ),
        ("Send the user through the authorization flow again.",),
    ),
    (
        "refresh-reused",
        "invalid_grant",
        400,
        "Refresh token reused",
        (
            "A refresh token was used again after it had been rotated: a stolen token, or a "
            "client that does not store the new refresh token of each response.",
        ),
        (
            "Store the refresh_token of every token response and use only the newest; the whole "
            "grant was revoked (RFC 9700 §4.14), so sign the user in again.",
        ),
    ),
    (
        "scope-wider",
        "invalid_scope",
        400,
        "Scope wider than granted",
        ("The request asks for scopes that were not granted.",),
        ("Request a subset of the granted scope (RFC 6749 §6), or authorize again.",),
    ),
    # --- client credentials, revocation, introspection ---
    (
        "client-credentials-public",
        "unauthorized_client",
        400,
        "client_credentials needs a confidential client",
        ("A public client (no secret) asked for client_credentials.",),
        ("Create a confidential client for machine-to-machine calls.",),
    ),
    (
        "client-credentials-no-api",
        "invalid_target",
        400,
        "No API for this token",
        ("client_credentials tokens are for an API, and none follows from the request.",),
        (
            "Send resource= or a scope of an API the client may request, or give the client a "
            "default API.",
        ),
    ),
    (
        "token-not-yours",
        "unauthorized_client",
        400,
        "Token of another client",
        ("The token being revoked was issued to a different client.",),
        ("A client can revoke only its own tokens (RFC 7009 §2.1).",),
    ),
    # --- browsers calling from another origin (CORS) ---
    (
        "origin-not-allowed",
        "invalid_request",
        400,
        "Origin not allowed for this client",
        (
            "A browser called the token, UserInfo or revocation endpoint from an origin that "
            "is neither the origin of one of the client's redirect URIs nor one of its "
            "allowed_origins; the request was refused before it had any effect.",
        ),
        (
            "Call from the origin the client redirects to, or register the calling origin "
            "with `keystead client create --allowed-origin https://app.example.com`.",
        ),
    ),
    (
        "caller-unauthenticated",
        "invalid_client",
        401,
        "Authentication required",
        (
            "Introspection needs an authenticated client or API; none was presented or the "
            "credentials are wrong.",
        ),
        (
            "Authenticate with HTTP Basic as a confidential client or with the API's "
            "api_id and api_secret (RFC 7662 §2.1).",
        ),
    ),
    # --- device authorization grant (RFC 8628) ---
    (
        "device-authorization-pending",
        "authorization_pending",
        400,
        "The user has not answered yet",
        ("The user has not yet approved or denied the request at the verification URI.",),
        ("Keep polling at the interval given (RFC 8628 §3.5).",),
    ),
    (
        "device-slow-down",
        "slow_down",
        400,
        "Polling too fast",
        ("The device polled again before the interval had passed.",),
        ("Wait the interval between polls; it grew by 5 seconds (RFC 8628 §3.5).",),
    ),
    (
        "device-code-expired",
        "expired_token",
        400,
        "Device code expired",
        ("The user did not answer before the device code expired.",),
        ("Start again with a new device authorization request.",),
    ),
    (
        "device-access-denied",
        "access_denied",
        400,
        "The user denied the request",
        ("The user refused the device's request at the verification URI.",),
        ("Stop polling; ask the user to start again if that was a mistake.",),
    ),
    (
        "device-code-unknown",
        "invalid_grant",
        400,
        "Unknown device code",
        ("The device_code is mistyped, truncated, purged, or from another server.",),
        ("Send the device_code exactly as received from /device_authorization.",),
    ),
    (
        "device-code-client-mismatch",
        "invalid_grant",
        400,
        "Device code of another client",
        ("The device code was issued to another client.",),
        ("Poll with the client that made the device authorization request.",),
    ),
    (
        "device-code-used",
        "invalid_grant",
        400,
        "Device code already used",
        ("The device code was already exchanged for tokens; it is single use.",),
        ("Keep the tokens from the first exchange; start again for new ones.",),
    ),
)
