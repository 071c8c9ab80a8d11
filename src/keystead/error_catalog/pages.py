"""Error catalog rows: the login, consent and sign-up pages."""

from __future__ import annotations

from keystead.error_catalog import Row

ROWS: tuple[Row, ...] = (
    # --- login / consent pages ---
    (
        "interaction-invalid",
        "invalid_request",
        400,
        "This sign-in page expired",
        ("The sign-in page was open too long, was tampered with, or the cookie was lost.",),
        ("Go back to the application and start signing in again.",),
        (
            "This sign-in page is no longer valid.",
            "Go back to the application and start signing in again.",
        ),
    ),
    (
        "csrf-invalid",
        "invalid_request",
        400,
        "The form could not be verified",
        ("The form's CSRF token does not match the browser's cookie.",),
        ("Reload the page and submit the form again; allow cookies for this site.",),
        (
            "Your browser sent a form we could not verify.",
            "Reload the page and try again, and make sure cookies are allowed for this site.",
        ),
    ),
    (
        "account-disabled",
        "access_denied",
        403,
        "This account is disabled",
        (
            "An administrator disabled the account (keystead user disable, the admin API or "
            "the console); it cannot sign in by any method until enabled again.",
        ),
        ('keystead user enable USERNAME, or PATCH /admin/api/users/{sub} {"disabled": false}.',),
        (
            "This account is disabled.",
            "Contact the people who run this service if you think this is a mistake.",
        ),
    ),
    # --- sign-in with an upstream provider (web/federation.py) ---
    (
        "upstream-trip-missing",
        "invalid_request",
        400,
        "The sign-in with another provider expired",
        (
            "The keystead_upstream cookie that remembers the state, nonce and PKCE verifier "
            "sent upstream is missing, expired (10 minutes) or was altered; or the link page "
            "is older than 10 minutes.",
        ),
        ("Start the sign-in again from the application, in one browser, with cookies on.",),
        (
            "The sign-in with your other account took too long or was started elsewhere.",
            "Go back to the application and sign in again.",
        ),
    ),
    (
        "upstream-state-mismatch",
        "invalid_request",
        400,
        "The upstream's answer does not belong to this sign-in",
        (
            "The state returned to /federation/{name}/callback is not the one this browser "
            "sent (OIDC Core §3.1.2.7): a response for another sign-in, or a forged one.",
        ),
        ("Start the sign-in again; do not reuse an old callback URL.",),
        (
            "This answer from your other account does not match your sign-in.",
            "Go back to the application and sign in again.",
        ),
    ),
    (
        "connection-not-offered",
        "invalid_request",
        400,
        "That provider is not offered here",
        (
            "The connection named is unknown, disabled, or not in the client's connections "
            "policy (keystead client update CLIENT_ID --connection NAME).",
        ),
        ("Use a connection the login page shows; check keystead connection list.",),
        (
            "Signing in with that provider is not available for this application.",
            "Go back and choose another way to sign in.",
        ),
    ),
    (
        "federation-link-conflict",
        "access_denied",
        409,
        "That account is linked to someone else",
        ("The upstream identity (connection, sub) is linked to another keystead account.",),
        ("Unlink it from the other account first (its account page, or the admin API).",),
        (
            "That sign-in is already linked to another account here.",
            "Sign in to that account and unlink it first, or use another sign-in.",
        ),
    ),
    (
        "password-login-disabled",
        "invalid_request",
        400,
        "Password sign-in is off for this application",
        ("The client's policy is --no-password-login: only upstream connections sign in.",),
        ("Use a connection's button, or: keystead client update CLIENT_ID --password-login.",),
        (
            "This application does not accept passwords.",
            "Use one of the sign-in buttons on the sign-in page.",
        ),
    ),
    (
        "signup-disabled",
        "invalid_request",
        404,
        "Sign-up is not available",
        (
            "KEYSTEAD_SIGNUP is off, or sign-up requires a verified email address and the "
            "server has no mail (KEYSTEAD_SMTP_URL).",
        ),
        ("Set KEYSTEAD_SIGNUP=true and configure mail, or create accounts as an operator.",),
        (
            "You cannot create an account here yourself.",
            "Ask the people who run this service to invite you.",
        ),
    ),
)
