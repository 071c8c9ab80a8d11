"""Error catalog rows: encrypted responses (OIDC Core §10.2), pairwise subjects (§8.1) and
Rich Authorization Requests (RFC 9396)."""

from __future__ import annotations

from keystead.error_catalog import Row

ROWS: tuple[Row, ...] = (
    (
        "response-encryption-key",
        "invalid_request",
        400,
        "No key to encrypt the response to",
        (
            "The client registered id_token_encrypted_response_alg, "
            "userinfo_encrypted_response_alg or authorization_encrypted_response_alg (JARM), "
            "but its jwks_uri could not be fetched or its JWK Set has no key for that alg. An "
            "authorization response that cannot be encrypted is shown on keystead's page, "
            "never sent to the client unencrypted.",
        ),
        (
            "Publish a public encryption key for the alg (an RSA key for RSA-OAEP-256, an EC "
            "P-256 or X25519 key for ECDH-ES and ECDH-ES+A256KW; use enc, or no use) in the "
            "client's jwks or at its jwks_uri.",
        ),
    ),
    (
        "pairwise-id-token-exchange",
        "invalid_request",
        400,
        "A pairwise ID token cannot be exchanged",
        (
            "The subject_token or actor_token is an ID token of a client with "
            "subject_type pairwise: its sub is the client's pairwise value, which keystead "
            "does not map back without the user's session.",
        ),
        ("Exchange the client's access token (or refresh token) for the user instead.",),
    ),
    (
        "authorization-details-invalid",
        "invalid_authorization_details",
        400,
        "Invalid authorization_details",
        (
            "authorization_details is not a JSON array of objects, an object has no type or "
            "a type no API registered, or a common field (locations, actions, datatypes, "
            "privileges, identifier) has the wrong shape (RFC 9396 §2, §5).",
        ),
        (
            "Send a JSON array of objects whose type an API accepts "
            "(`keystead api create --authorization-details-type TYPE`; discovery lists them "
            "in authorization_details_types_supported).",
        ),
    ),
    (
        "authorization-details-not-granted",
        "invalid_authorization_details",
        400,
        "authorization_details beyond the grant",
        (
            "A token request (authorization_code or refresh_token grant) sent "
            "authorization_details that are not a subset of those granted: an object of a "
            "type not granted, an action, location, datatype or privilege not granted, or "
            "another member different from the granted value (RFC 9396 §6.1, §6.2). The "
            "description names the object.",
        ),
        (
            "Send a subset of the authorization_details the user approved (the token "
            "response and introspection show them), or leave the parameter out to get all.",
        ),
    ),
    (
        "authorization-details-client",
        "invalid_authorization_details",
        400,
        "authorization_details of another API",
        (
            "A client_credentials request sent authorization_details of a type that belongs "
            "to an API this client may not use (none of its scopes, not its default API), or "
            "of another API than the one the token is for (one API per access token).",
        ),
        (
            "Ask for types of the API the token is for; give the client a scope of that API "
            "(`keystead client update CLIENT_ID --scope ...`) or send resource= naming it.",
        ),
    ),
)
