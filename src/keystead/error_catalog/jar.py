"""Error catalog rows: pushed authorization requests (RFC 9126), JWT-secured authorization
requests (RFC 9101) and JWT-secured authorization responses (JARM)."""

from __future__ import annotations

from keystead.error_catalog import Row

ROWS: tuple[Row, ...] = (
    # --- RFC 9126: the pushed authorization request endpoint and its request_uri ---
    (
        "par-request-uri-at-par",
        "invalid_request",
        400,
        "request_uri cannot be pushed",
        ("The request to /par carries a request_uri parameter (RFC 9126 §2.1).",),
        ("Push the parameters themselves, or a signed request object in request.",),
    ),
    (
        "par-client-mismatch",
        "invalid_request",
        400,
        "client_id is not the authenticated client",
        ("The pushed client_id names another client than the one that authenticated.",),
        ("Send your own client_id, or none: the authenticated client is used.",),
    ),
    (
        "par-request-uri-unknown",
        "invalid_request_uri",
        400,
        "Unknown request_uri",
        ("No pushed request has this request_uri: it was never issued, or has been purged.",),
        ("Push the request to /par again and use the request_uri it returns.",),
    ),
    (
        "par-request-uri-used",
        "invalid_request_uri",
        400,
        "request_uri already used",
        ("The pushed request was already used at the authorization endpoint (RFC 9126 §2.2).",),
        ("Push a new request for every authorization: a request_uri is single use.",),
    ),
    (
        "par-request-uri-expired",
        "invalid_request_uri",
        400,
        "request_uri expired",
        ("The pushed request's expires_in has passed.",),
        ("Push the request again just before redirecting the browser.",),
    ),
    (
        "par-request-uri-client",
        "invalid_request_uri",
        400,
        "request_uri belongs to another client",
        ("The request_uri was pushed by another client than the client_id sent (RFC 9126 §4).",),
        ("Use a request_uri your own client pushed, with your own client_id.",),
    ),
    (
        "par-required",
        "invalid_request",
        400,
        "Pushed authorization request required",
        (
            "The client is registered with require_pushed_authorization_requests, or the "
            "server requires PAR (KEYSTEAD_REQUIRE_PAR), and the request did not come "
            "through /par (RFC 9126 §5, §6).",
        ),
        ("Push the parameters to /par first and send only client_id and request_uri here.",),
    ),
    # --- RFC 9101: request objects ---
    (
        "request-object-malformed",
        "invalid_request_object",
        400,
        "The request object is not a JWT",
        ("request is not a compact JWS, or its header or payload is not a JSON object.",),
        ("Send a signed JWT (RFC 9101 §4); encrypted request objects are not supported.",),
    ),
    (
        "request-object-alg",
        "invalid_request_object",
        400,
        "Request object signing alg refused",
        (
            "The alg is not the client's request_object_signing_alg, or is none while the "
            "client did not register none (RFC 9101 §10.2).",
        ),
        ("Sign with the alg registered for the client (RS256, PS256, ES256 or EdDSA).",),
    ),
    (
        "request-object-signature",
        "invalid_request_object",
        400,
        "Request object signature invalid",
        ("The signature does not verify with the client's registered keys (jwks/jwks_uri).",),
        ("Sign with a private key whose public key is in the client's registered JWK Set.",),
    ),
    (
        "request-object-keys",
        "invalid_request_object",
        400,
        "The client's keys cannot be read",
        ("The client registered no jwks or jwks_uri, or its jwks_uri cannot be fetched.",),
        ("Register the client's public keys (jwks or jwks_uri).",),
    ),
    (
        "request-object-claims",
        "invalid_request_object",
        400,
        "Request object claims invalid",
        (
            "iss is not the client_id, aud is not this issuer, client_id differs from the "
            "one outside, it nests request or request_uri, or a value has the wrong type.",
        ),
        ("Set iss to the client_id and aud to the issuer (RFC 9101 §4, §6.3).",),
    ),
    (
        "request-object-lifetime",
        "invalid_request_object",
        400,
        "Request object expired or not yet valid",
        ("exp has passed, or nbf is in the future.",),
        ("Sign a fresh request object for every request; check the clocks.",),
    ),
    (
        "request-both",
        "invalid_request",
        400,
        "request and request_uri together",
        ("The request carries both request and request_uri (RFC 9101 §5).",),
        ("Send the request object by value or by reference, not both.",),
    ),
    (
        "request-uri-not-registered",
        "invalid_request_uri",
        400,
        "request_uri not registered",
        ("The request_uri is not one of the client's registered request_uris (RFC 9101 §10.4).",),
        ("Register the URL in the client's request_uris, or pass the object by value.",),
    ),
    (
        "request-uri-fetch",
        "invalid_request_uri",
        400,
        "request_uri cannot be fetched",
        ("Fetching the request_uri failed, was refused, or returned too much.",),
        ("Serve the request object at the URL (application/oauth-authz-req+jwt, small).",),
    ),
)
