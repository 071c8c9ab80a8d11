"""Error catalog rows: client assertions (RFC 7523, OIDC Core §9) and dynamic client
registration and management (RFC 7591, RFC 7592)."""

from __future__ import annotations

from keystead.error_catalog import Row

ROWS: tuple[Row, ...] = (
    # --- client assertions: client_secret_jwt, private_key_jwt (RFC 7523, OIDC Core §9) ---
    (
        "client-assertion-type-unsupported",
        "invalid_client",
        401,
        "Unsupported client_assertion_type",
        (
            "client_assertion_type is not urn:ietf:params:oauth:client-assertion-type:jwt-bearer, "
            "or only one of client_assertion and client_assertion_type was sent.",
        ),
        (
            "Send both client_assertion_type=urn:ietf:params:oauth:client-assertion-type:"
            "jwt-bearer and client_assertion (RFC 7523 §2.2).",
        ),
    ),
    (
        "client-assertion-malformed",
        "invalid_client",
        401,
        "Malformed client assertion",
        ("client_assertion is not a signed JWT, or names no client (no sub/iss).",),
        (
            "Send a compact JWS whose iss and sub are the client_id (RFC 7523 §3); a client "
            "library's client_secret_jwt / private_key_jwt support builds it.",
        ),
    ),
    (
        "client-assertion-alg",
        "invalid_client",
        401,
        "Client assertion signed with an alg not allowed",
        (
            "client_secret_jwt assertions are HS256; private_key_jwt assertions are RS256, PS256, "
            "ES256 or EdDSA; a client that registered token_endpoint_auth_signing_alg must use it.",
        ),
        (
            "Sign the assertion with an allowed alg (see discovery's "
            "token_endpoint_auth_signing_alg_values_supported).",
        ),
    ),
    (
        "client-assertion-signature",
        "invalid_client",
        401,
        "Client assertion signature invalid",
        (
            "The assertion was signed with another secret or key than the client registered, "
            "or names a kid its JWK Set does not contain.",
        ),
        (
            "client_secret_jwt: MAC with the client_secret. private_key_jwt: sign with a key whose "
            "public half is in the registered jwks or jwks_uri (keystead refetches jwks_uri at "
            "most once a minute on an unknown kid).",
        ),
    ),
    (
        "client-assertion-claims",
        "invalid_client",
        401,
        "Client assertion claims invalid",
        ("iss or sub is not the client_id, or jti, iat or nbf is missing or wrong.",),
        (
            "Set iss and sub to the client_id and a fresh random jti in every assertion "
            "(RFC 7523 §3).",
        ),
    ),
    (
        "client-assertion-audience",
        "invalid_client",
        401,
        "Client assertion for another audience",
        ("aud is not the issuer or the URL of the endpoint, or is an array.",),
        (
            "Set aud to one string: the issuer identifier or the token endpoint URL "
            "(RFC 7523 §3; draft-ietf-oauth-rfc7523bis).",
        ),
    ),
    (
        "client-assertion-lifetime",
        "invalid_client",
        401,
        "Client assertion expired or too long-lived",
        ("exp is missing, in the past, or more than 5 minutes ahead.",),
        (
            "Make assertions short-lived: exp at most 5 minutes after now (Authlib signs for "
            "an hour unless told otherwise: pass claims with a nearer exp).",
        ),
    ),
    (
        "client-assertion-replayed",
        "invalid_client",
        401,
        "Client assertion replayed",
        ("An assertion with this jti was already used by this client (RFC 7523 §3 item 7).",),
        ("Sign a new assertion, with a new random jti, for every request.",),
    ),
    (
        "client-jwks-unavailable",
        "invalid_client",
        401,
        "The client's JWK Set cannot be fetched",
        (
            "jwks_uri did not answer, answered an error or something that is not a JWK Set, or "
            "points at a loopback, private or special-use address.",
        ),
        (
            "Publish the client's public keys at a public https jwks_uri, or register them "
            "inline as jwks (KEYSTEAD_ALLOW_PRIVATE_NETWORK_FETCH=true only for development).",
        ),
    ),
    # --- dynamic client registration and management (RFC 7591, RFC 7592) ---
    (
        "registration-token-missing",
        "invalid_request",
        401,
        "Initial access token required",
        ("Registration on this server needs an initial access token (RFC 7591 §3).",),
        (
            "Send Authorization: Bearer <token> with a token minted by `keystead client "
            "registration-token` (or ask the operator to set KEYSTEAD_OPEN_REGISTRATION=true).",
        ),
    ),
    (
        "registration-token-invalid",
        "invalid_token",
        401,
        "Initial access token invalid",
        ("The initial access token is unknown, expired, or was single-use and already used.",),
        ("Mint a new one with `keystead client registration-token`.",),
    ),
    (
        "registration-redirect-uri-invalid",
        "invalid_redirect_uri",
        400,
        "Invalid redirect_uri in client metadata",
        (
            "A redirect URI breaks the rules for its application_type: web needs https (http "
            "only on loopback), native may use loopback IP literals, private-use schemes or "
            "https; never a fragment.",
        ),
        ("Fix the redirect_uris named in error_description (RFC 7591 §3.2.2).",),
    ),
    (
        "registration-metadata-invalid",
        "invalid_client_metadata",
        400,
        "Invalid client metadata",
        (
            "A metadata field has a wrong type or value, grant_types and response_types do "
            "not fit together, or both jwks and jwks_uri were sent.",
        ),
        ("Fix the field named in error_description (RFC 7591 §2, §3.2.2).",),
    ),
    (
        "registration-scope-not-allowed",
        "invalid_client_metadata",
        400,
        "Scope not open to self-registration",
        (
            "The scope asks for an API scope that its API does not open to clients "
            "registering themselves (its self_registration_scopes: none by default), or for "
            "a scope that neither OpenID Connect nor any API defines.",
        ),
        (
            "Register without the scopes named in error_description, or have the operator "
            "allow them: `keystead api update API --self-registration-scope SCOPE`, or "
            "self_registration_scopes in the admin API's PATCH /apis/{api_id}; or have the "
            "operator create the client (`keystead client create`).",
        ),
    ),
    (
        "registration-rate-limited",
        "temporarily_unavailable",
        429,
        "Too many registrations from this address",
        (
            "More dynamic registrations came from this source address within a minute than "
            "keystead accepts (every attempt counts, refused ones too).",
        ),
        (
            "Wait the number of seconds in the Retry-After header; register a client once "
            "and keep its credentials instead of registering at every start.",
        ),
    ),
    (
        "registration-software-statement",
        "invalid_software_statement",
        400,
        "Software statements are not supported",
        ("The registration request carries a software_statement.",),
        ("Register without software_statement; send the metadata as plain JSON members.",),
    ),
    (
        "registration-access-token-invalid",
        "invalid_token",
        401,
        "Registration access token invalid",
        (
            "The registration access token is missing or wrong, or the client does not exist "
            "or was not registered dynamically (RFC 7592 §2).",
        ),
        ("Use the registration_access_token returned when the client was registered.",),
    ),
)
