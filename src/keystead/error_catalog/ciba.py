"""Error catalog rows: OpenID Connect CIBA Core 1.0 — the backchannel authentication
endpoint (/bc-authorize, §13) and the CIBA grant at the token endpoint (§11)."""

from __future__ import annotations

from keystead.error_catalog import Row

ROWS: tuple[Row, ...] = (
    # --- the backchannel authentication endpoint (§7.1, §13) ---
    (
        "ciba-public-client",
        "unauthorized_client",
        400,
        "CIBA needs a confidential client",
        ("The client authenticates with token_endpoint_auth_method none.",),
        ("Register the client with a secret or keys (CIBA §7.1: clients authenticate).",),
    ),
    (
        "ciba-hint-count",
        "invalid_request",
        400,
        "Exactly one user hint needed",
        (
            "The request has none, or more than one, of login_hint, id_token_hint and "
            "login_hint_token.",
        ),
        ("Send exactly one of the three hints (CIBA §7.1).",),
    ),
    (
        "ciba-openid-scope-missing",
        "invalid_request",
        400,
        "scope must include openid",
        ("The request's scope does not include openid.",),
        ("CIBA is an OpenID Connect flow: include openid in scope (CIBA §7.1).",),
    ),
    (
        "ciba-unknown-user",
        "unknown_user_id",
        400,
        "The hint names no user",
        (
            "No user has this username, or exactly one user this verified email.",
            "The ID token or login_hint_token names a user that no longer exists.",
        ),
        ("Check the hint; email hints match verified addresses only.",),
    ),
    (
        "ciba-login-hint-token-expired",
        "expired_login_hint_token",
        400,
        "login_hint_token expired",
        ("The login_hint_token's exp has passed.",),
        ("Sign a fresh login_hint_token for each request.",),
    ),
    (
        "ciba-login-hint-token-invalid",
        "invalid_request",
        400,
        "login_hint_token not accepted",
        (
            "It is not a JWT signed with one of the client's registered keys (jwks or jwks_uri).",
            "Its iss is not the client_id, its aud not the issuer, or its sub_id is missing or "
            "of an unsupported format.",
        ),
        ("See docs/grants/ciba.md for the login_hint_token format keystead accepts.",),
    ),
    (
        "ciba-id-token-hint-client",
        "invalid_request",
        400,
        "id_token_hint issued to another client",
        ("The ID token's aud does not include this client.",),
        ("Send an ID token this client received (CIBA §7.1).",),
    ),
    (
        "ciba-binding-message-invalid",
        "invalid_binding_message",
        400,
        "binding_message not accepted",
        ("The binding_message is too long or holds control characters.",),
        ("Send a short plain-text message (at most 100 characters).",),
    ),
    (
        "ciba-too-many-pending",
        "invalid_request",
        400,
        "Too many requests waiting for this user",
        (
            "The client has MAX_PENDING (5) requests for this user that the user has not "
            "answered yet; more would flood the user's approval page.",
        ),
        ("Wait for the user to answer, or for the requests to expire (requested_expiry).",),
    ),
    (
        "ciba-notification-token-invalid",
        "invalid_request",
        400,
        "client_notification_token missing or malformed",
        (
            "The client is registered for ping mode and sent no client_notification_token.",
            "The token is longer than 1024 characters or not RFC 6750 §2.1 token syntax.",
        ),
        ("Send a fresh bearer token of your own in client_notification_token (CIBA §7.1).",),
    ),
    (
        "ciba-requested-expiry-invalid",
        "invalid_request",
        400,
        "requested_expiry not accepted",
        ("requested_expiry is not a positive integer within the server's range.",),
        ("Send a whole number of seconds between 10 and 1800, or leave it out.",),
    ),
    (
        "ciba-request-object-unsupported",
        "invalid_request",
        400,
        "Signed authentication requests are not supported",
        ("The request carries a request parameter (CIBA §7.1.1).",),
        ("Send the parameters in the form body; keystead does not accept signed requests.",),
    ),
    # --- the CIBA grant at the token endpoint (§10.1, §11) ---
    (
        "ciba-authorization-pending",
        "authorization_pending",
        400,
        "The user has not answered yet",
        ("The user has not yet approved or denied the request on the authentication device.",),
        ("Keep polling at the interval given (CIBA §7.3), or wait for the ping.",),
    ),
    (
        "ciba-slow-down",
        "slow_down",
        400,
        "Polling too fast",
        ("The client polled again before the interval had passed.",),
        ("Wait the interval between polls; it grew by 5 seconds (CIBA §11).",),
    ),
    (
        "ciba-expired",
        "expired_token",
        400,
        "auth_req_id expired",
        ("The user did not answer before the auth_req_id expired.",),
        ("Make a new backchannel authentication request.",),
    ),
    (
        "ciba-access-denied",
        "access_denied",
        400,
        "The user denied the request",
        ("The user refused the request on the authentication device.",),
        ("Stop polling; make a new request if that was a mistake.",),
    ),
    (
        "ciba-auth-req-id-unknown",
        "invalid_grant",
        400,
        "Unknown auth_req_id",
        ("The auth_req_id is mistyped, truncated, purged, or from another server.",),
        ("Send the auth_req_id exactly as received from the backchannel endpoint.",),
    ),
    (
        "ciba-auth-req-id-client-mismatch",
        "invalid_grant",
        400,
        "auth_req_id of another client",
        ("The auth_req_id was issued to another client.",),
        ("Poll with the client that made the backchannel authentication request.",),
    ),
    (
        "ciba-auth-req-id-used",
        "invalid_grant",
        400,
        "auth_req_id already used",
        ("The auth_req_id was already exchanged for tokens; it is single use.",),
        ("Keep the tokens from the first exchange; make a new request for new ones.",),
    ),
    (
        "ciba-mode-unsupported",
        "unauthorized_client",
        400,
        "Client not registered for poll or ping",
        ("The client has the CIBA grant type but no poll or ping delivery mode.",),
        ("Register backchannel_token_delivery_mode poll or ping.",),
    ),
)
