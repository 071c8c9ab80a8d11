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
