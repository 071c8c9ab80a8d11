"""Error catalog rows: malformed requests, at any endpoint (RFC 6749 §4.1.2.1, §5.2)."""

from __future__ import annotations

from keystead.error_catalog import Row

ROWS: tuple[Row, ...] = (
    # --- malformed requests (RFC 6749 §4.1.2.1, §5.2) ---
    (
        "request-duplicate-parameter",
        "invalid_request",
        400,
        "A parameter was sent twice",
        ("The client library or your code appends a parameter that is already present.",),
        ("Send each OAuth parameter exactly once (RFC 6749 §3.1).",),
    ),
    (
        "request-missing-parameter",
        "invalid_request",
        400,
        "A required parameter is missing",
        ("The request omits a parameter the flow requires.",),
        ("Add the parameter named in error_description.",),
    ),
    (
        "request-invalid-parameter",
        "invalid_request",
        400,
        "A parameter has an invalid value",
        ("A parameter value is malformed or not one of the allowed values.",),
        ("Correct the parameter named in error_description.",),
    ),
    (
        "request-too-large",
        "invalid_request",
        413,
        "The request is too large",
        (
            "The body is larger than keystead accepts (KEYSTEAD_MAX_BODY_BYTES, 64 KiB by "
            "default), or it nests JSON deeper than 32 levels.",
        ),
        (
            "OAuth requests and client metadata are small: send only the parameters the "
            "endpoint takes; put large JWK Sets behind a jwks_uri instead of inline jwks.",
        ),
    ),
    (
        "request-content-type",
        "invalid_request",
        400,
        "Wrong request content type",
        ("The body was not sent as application/x-www-form-urlencoded.",),
        ("Send token endpoint requests as an HTML form body (RFC 6749 §4.1.3).",),
    ),
    (
        "request-object-unsupported",
        "request_not_supported",
        400,
        "Request objects are not supported",
        ("The request carries a request parameter (JAR).",),
        ("Send the authorization parameters as plain query parameters.",),
    ),
    (
        "request-uri-unsupported",
        "request_uri_not_supported",
        400,
        "request_uri is not supported",
        ("The request carries a request_uri parameter (PAR/JAR by reference).",),
        ("Send the authorization parameters as plain query parameters.",),
    ),
    (
        "method-not-allowed",
        "invalid_request",
        405,
        "HTTP method not allowed",
        ("The endpoint was called with an HTTP method it does not accept.",),
        ("Use the method listed in the Allow header.",),
    ),
)
