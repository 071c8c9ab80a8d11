"""Error catalog rows: the OAuth 1.0a provider (RFC 5849).

RFC 5849 §3.2 fixes the status: 400 for an unsupported parameter or signature method, a
missing or duplicated protocol parameter; 401 for an invalid consumer key, token, signature,
nonce or timestamp. The error code is the ``oauth_problem`` value of the OAuth Problem
Reporting extension (oauth.pbworks.com ProblemReporting), which consumers already parse; the
body is form-encoded ``oauth_problem`` / ``oauth_problem_advice`` (web/oauth1.py).
"""

from __future__ import annotations

from keystead.error_catalog import Row

_BACK = (
    "This authorization link is not valid.",
    "Go back to the application and start connecting again.",
)

ROWS: tuple[Row, ...] = (
    (
        "oauth1-parameter-absent",
        "parameter_absent",
        400,
        "A required OAuth parameter is missing",
        ("The request lacks a protocol parameter RFC 5849 §3.1 or §2 requires here.",),
        ("Send the parameter named in oauth_problem_advice (a client library does).",),
    ),
    (
        "oauth1-parameter-rejected",
        "parameter_rejected",
        400,
        "An OAuth parameter is refused",
        (
            "A protocol parameter is duplicated, unknown, malformed, or sent in more than one "
            "place (header, form, query: RFC 5849 §3.5).",
        ),
        ("Send each oauth_* parameter once, in one place, as RFC 5849 §3 spells it.",),
    ),
    (
        "oauth1-version-rejected",
        "version_rejected",
        400,
        "Unsupported OAuth version",
        ("oauth_version is present and is not 1.0 (RFC 5849 §3.1).",),
        ("Send oauth_version=1.0 or leave it out.",),
    ),
    (
        "oauth1-signature-method-rejected",
        "signature_method_rejected",
        400,
        "Unsupported signature method",
        (
            "oauth_signature_method is not HMAC-SHA1, HMAC-SHA256, RSA-SHA1 or PLAINTEXT, or "
            "the consumer has no key for it (RSA-SHA1 without a registered public key, HMAC "
            "without a consumer secret).",
        ),
        ("Sign with a method the consumer is registered for.",),
    ),
    (
        "oauth1-plaintext-insecure",
        "signature_method_rejected",
        400,
        "PLAINTEXT needs https",
        ("PLAINTEXT sends the secrets themselves; keystead's issuer is not https (§3.4.4).",),
        ("Sign with HMAC-SHA1, HMAC-SHA256 or RSA-SHA1, or serve keystead over https.",),
    ),
    (
        "oauth1-callback-rejected",
        "parameter_rejected",
        400,
        "Callback not registered",
        (
            "oauth_callback is not one of the consumer's registered redirect URIs, or is oob "
            "for a consumer not allowed out-of-band (RFC 5849 §2.1).",
        ),
        ("Register the callback with the client (--redirect-uri) and send it exactly.",),
    ),
    (
        "oauth1-consumer-key-unknown",
        "consumer_key_unknown",
        401,
        "Unknown consumer key",
        ("No client has this oauth_consumer_key (RFC 5849 §3.2).",),
        ("Use the client_id of a client created with --oauth1.",),
    ),
    (
        "oauth1-consumer-key-rejected",
        "consumer_key_rejected",
        401,
        "Consumer not enabled for OAuth 1.0a",
        ("The client exists but OAuth 1.0a is not enabled for it.",),
        ("Enable it: keystead client update CLIENT_ID --oauth1.",),
    ),
    (
        "oauth1-signature-invalid",
        "signature_invalid",
        401,
        "Invalid signature",
        (
            "oauth_signature does not match keystead's signature base string (RFC 5849 §3.4): "
            "a wrong secret, a changed parameter, or a URL other than the issuer's.",
        ),
        (
            "Sign the URL under keystead's issuer with the consumer and token secrets; in "
            "development mode oauth_problem_advice shows the base string keystead computed.",
        ),
    ),
    (
        "oauth1-timestamp-refused",
        "timestamp_refused",
        401,
        "Timestamp out of range",
        ("oauth_timestamp is not an integer within the accepted window of keystead's clock.",),
        ("Send the current Unix time; check the consumer's clock.",),
    ),
    (
        "oauth1-nonce-used",
        "nonce_used",
        401,
        "Nonce already used",
        ("The consumer sent this oauth_nonce with this timestamp before (RFC 5849 §3.3).",),
        ("Send a new random nonce with every request.",),
    ),
    (
        "oauth1-token-rejected",
        "token_rejected",
        401,
        "Token rejected",
        (
            "oauth_token is unknown, expired, already exchanged, of another consumer, or a "
            "temporary credential where token credentials are needed.",
        ),
        ("Start the flow again to obtain new credentials.",),
    ),
    (
        "oauth1-token-revoked",
        "token_revoked",
        401,
        "Token revoked",
        ("The token credentials were revoked by the user or an operator.",),
        ("Send the user through the authorization again.",),
    ),
    (
        "oauth1-token-expired",
        "token_expired",
        401,
        "Temporary credentials expired",
        ("The temporary credentials outlived KEYSTEAD_OAUTH1_REQUEST_TOKEN_TTL (RFC 5849 §2.1).",),
        ("Request new temporary credentials and send the user through the authorization.",),
    ),
    (
        "oauth1-token-used",
        "token_used",
        401,
        "Temporary credentials already exchanged",
        ("The temporary credentials were exchanged for token credentials once already (§2.3).",),
        ("Use the token credentials received then; a replay of the exchange is refused.",),
    ),
    (
        "oauth1-verifier-invalid",
        "token_rejected",
        401,
        "Invalid verifier",
        (
            "oauth_verifier is not the one issued for this temporary credential, or it was "
            "used already (RFC 5849 §2.3).",
        ),
        ("Send the oauth_verifier the callback received, once.",),
    ),
    (
        "oauth1-permission-denied",
        "permission_denied",
        401,
        "The user denied access",
        ("The user refused the authorization of this temporary credential.",),
        ("Do not retry with it; ask the user again with a new one.",),
    ),
    (
        "oauth1-authorize-invalid",
        "token_rejected",
        400,
        "Authorization link not valid",
        (
            "GET /oauth1/authorize has no oauth_token, or one that is unknown, expired, or "
            "already answered.",
        ),
        ("Obtain new temporary credentials and send the user with their oauth_token.",),
        _BACK,
    ),
    (
        "oauth1-verify-caller-rejected",
        "unauthorized_client",
        403,
        "Only an API may verify OAuth 1.0a requests",
        (
            "POST /oauth1/verify was authenticated as a client; it answers registered APIs "
            "only (an API's signed requests, not a consumer's own).",
        ),
        (
            "Authenticate with HTTP Basic as the API: its api_id and the secret from "
            "keystead api create --with-secret (or rotate-secret).",
        ),
    ),
    (
        "oauth1-verify-request-invalid",
        "invalid_request",
        400,
        "The API's description of a signed request is malformed",
        (
            "POST /oauth1/verify needs method (the signed request's HTTP method) and url (its "
            "absolute http(s) URL with the query, no fragment); body, when sent, is the "
            "request's application/x-www-form-urlencoded body as text.",
        ),
        (
            "Send the URL the consumer signed: the API's configured public base URL, the "
            "path and the query, never one built from the Host header (RFC 5849 §3.4.1.2).",
        ),
    ),
)
