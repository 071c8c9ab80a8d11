"""Error catalog rows: the authorization endpoint (before and after the redirect URI is
trusted), OpenID Connect request parameters (OIDC Core §3) and RP-Initiated Logout."""

from __future__ import annotations

from keystead.error_catalog import Row

ROWS: tuple[Row, ...] = (
    # --- authorization endpoint: before the redirect URI is trusted (error page) ---
    (
        "authorize-client-unknown",
        "invalid_request",
        400,
        "Unknown client",
        ("client_id is misspelled, or the client was deleted or registered on another server.",),
        ("Use the client_id printed by `keystead client create` (see `keystead client list`).",),
        (
            "The application you came from is not registered here.",
            "Go back to the application and tell its owner; there is nothing you can fix yourself.",
        ),
    ),
    (
        "redirect-uri-missing",
        "invalid_request",
        400,
        "redirect_uri is missing",
        ("The authorization request does not name a redirect_uri.",),
        ("Send redirect_uri, exactly as registered for the client.",),
    ),
    (
        "redirect-uri-mismatch",
        "invalid_request",
        400,
        "redirect_uri is not registered",
        (
            "The redirect_uri differs from every registered one: scheme, host, port, path, "
            "trailing slash or query.",
        ),
        (
            "Register the exact URI (`keystead client create --redirect-uri ...`) or send one "
            "of the registered URIs byte for byte (RFC 9700 §2.1: exact matching).",
        ),
        (
            "The application asked to send you back to an address it has not registered.",
            "For your safety you were not sent there. Tell the application's owner; "
            "there is nothing you can fix yourself.",
        ),
    ),
    # --- authorization endpoint: redirected back to the client ---
    (
        "response-type-unsupported",
        "unsupported_response_type",
        400,
        "response_type not supported",
        ("The response_type is unknown or not implemented by this server.",),
        ("Use a response_type listed in response_types_supported in discovery.",),
    ),
    (
        "response-type-not-allowed",
        "unauthorized_client",
        400,
        "response_type not allowed for this client",
        ("The client is not registered for this response_type.",),
        ("Register it with --response-type, or use one of the client's response types.",),
    ),
    (
        "response-mode-unsupported",
        "invalid_request",
        400,
        "response_mode not supported",
        ("The response_mode is unknown or not allowed with this response_type.",),
        ("Use one of response_modes_supported in discovery.",),
    ),
    (
        "pkce-required",
        "invalid_request",
        400,
        "PKCE is required",
        ("The request has no code_challenge; keystead requires PKCE (RFC 9700 §2.1.1).",),
        (
            "Send code_challenge=BASE64URL(SHA256(code_verifier)) and "
            "code_challenge_method=S256; most client libraries have a PKCE switch.",
        ),
    ),
    (
        "pkce-method-unsupported",
        "invalid_request",
        400,
        "code_challenge_method not supported",
        ("code_challenge_method is plain or missing (it defaults to plain).",),
        ("Send code_challenge_method=S256.",),
    ),
    (
        "scope-invalid",
        "invalid_scope",
        400,
        "No usable scope",
        ("None of the requested scopes may be granted to this client.",),
        ("Request scopes the client is registered for (`keystead client show`).",),
    ),
    (
        "prompt-invalid",
        "invalid_request",
        400,
        "Invalid prompt",
        ("prompt=none was combined with another value, or an unknown value was sent.",),
        ("Send prompt=none alone, or any of login, consent, select_account.",),
    ),
    (
        "login-required",
        "login_required",
        400,
        "The user must log in",
        ("prompt=none was sent but the user has no valid session.",),
        ("Retry without prompt=none so the user can log in.",),
    ),
    (
        "interaction-required",
        "interaction_required",
        400,
        "The user must add a second factor",
        (
            "prompt=none was sent but the session's authentication is weaker than acr_values, "
            "an essential acr claim or the client's require_mfa asks for.",
        ),
        ("Retry without prompt=none so the user can complete the missing factor.",),
    ),
    (
        "mfa-unavailable",
        "access_denied",
        400,
        "The required second factor is not set up",
        (
            "The client requires a second factor (require_mfa or an essential acr) that the "
            "user has not set up: no authenticator app, passkey or recovery code fits.",
        ),
        ("The user sets one up on the account page (/account), then signs in again.",),
        (
            "This application requires a second sign-in factor you have not set up yet.",
            "Set up an authenticator app or a passkey on your account page, then try again.",
        ),
    ),
    (
        "consent-required",
        "consent_required",
        400,
        "The user must consent",
        ("prompt=none was sent but the user has not approved these scopes for this client.",),
        ("Retry without prompt=none so the user sees the consent page.",),
    ),
    (
        "access-denied",
        "access_denied",
        400,
        "The user denied the request",
        ("The user pressed Deny on the consent page.",),
        ("Nothing to fix: show the user a way to try again.",),
    ),
    # --- OpenID Connect request parameters (OIDC Core §3) ---
    (
        "nonce-required",
        "invalid_request",
        400,
        "nonce is required",
        (
            "The response type returns an ID token from the authorization endpoint, and the "
            "request has no nonce.",
        ),
        (
            "Send nonce= with a fresh random value and compare it with the ID token's nonce "
            "(OIDC Core §3.2.2.1).",
        ),
    ),
    (
        "openid-required",
        "invalid_request",
        400,
        "scope openid is required",
        ("The response type returns an ID token but scope does not include openid.",),
        ("Add openid to scope.",),
    ),
    (
        "claims-malformed",
        "invalid_request",
        400,
        "Malformed claims parameter",
        ("The claims parameter is not the JSON object OIDC Core §5.5 defines.",),
        (
            'Send {"userinfo": {"name": null}, "id_token": {"auth_time": '
            '{"essential": true}}}-style JSON, URL-encoded.',
        ),
    ),
    (
        "id-token-hint-invalid",
        "invalid_request",
        400,
        "Invalid id_token_hint",
        (
            "id_token_hint is not an ID token this server signed (wrong issuer, unknown key, "
            "or altered).",
        ),
        ("Send an ID token keystead issued to your client (expired ones are fine).",),
    ),
    # --- RP-Initiated Logout ---
    (
        "logout-client-mismatch",
        "invalid_request",
        400,
        "Unknown or inconsistent client",
        ("client_id is unknown, or differs from the audience of id_token_hint.",),
        ("Send the client_id the ID token was issued to, or leave client_id out.",),
        (
            "The application asked to sign you out in a way we cannot verify.",
            "You may still be signed in. Close the browser to end your session.",
        ),
    ),
    (
        "logout-redirect-uri-invalid",
        "invalid_request",
        400,
        "post_logout_redirect_uri not allowed",
        ("post_logout_redirect_uri is not registered for the client, or no client was named.",),
        ("Register it (`--post-logout-redirect-uri`) and send client_id or id_token_hint.",),
        (
            "The application asked to send you to an address it has not registered.",
            "For your safety you were not sent there.",
        ),
    ),
)
