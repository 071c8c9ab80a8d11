"""Error catalog rows: the FAPI 2.0 Security Profile as a client profile, and DPoP at /par."""

from __future__ import annotations

from keystead.error_catalog import Row

_PROFILE = (
    "The client is registered with the FAPI 2.0 profile (profile: fapi2), which keystead "
    "holds its requests to.",
)

ROWS: tuple[Row, ...] = (
    (
        "fapi-par-required",
        "invalid_request",
        400,
        "FAPI 2.0: pushed authorization request required",
        (
            *_PROFILE,
            "FAPI 2.0 Security Profile §5.3.2.2: authorization requests sent without PAR "
            "(RFC 9126) are refused; this one came to /authorize with its parameters.",
        ),
        (
            "POST the parameters to /par with client authentication (private_key_jwt or "
            "MTLS), then send the browser to /authorize with only client_id and request_uri.",
        ),
    ),
    (
        "fapi-pkce-required",
        "invalid_request",
        400,
        "FAPI 2.0: PKCE with S256 required",
        (
            *_PROFILE,
            "FAPI 2.0 Security Profile §5.3.2.2: PKCE with S256 is required; code_challenge "
            "was missing or code_challenge_method was not S256.",
        ),
        (
            "Send code_challenge = BASE64URL(SHA256(code_verifier)) and "
            "code_challenge_method=S256, and the code_verifier at the token endpoint.",
        ),
    ),
    (
        "fapi-response-type",
        "unsupported_response_type",
        400,
        "FAPI 2.0: response_type must be code",
        (
            *_PROFILE,
            "FAPI 2.0 Security Profile §5.3.2.2: only response_type code (no implicit, no "
            "hybrid flow).",
        ),
        ("Send response_type=code and get the tokens at the token endpoint.",),
    ),
    (
        "fapi-response-mode",
        "invalid_request",
        400,
        "FAPI 2.0: JWT response signed with a non-FAPI alg",
        (
            *_PROFILE,
            "FAPI 2.0 Security Profile §5.4.1: JWTs are signed with PS256, ES256 or EdDSA; a "
            "JARM response mode (jwt, query.jwt, form_post.jwt ...) was asked for while the "
            "client's authorization_signed_response_alg is RS256 or unset (JARM's default is "
            "RS256).",
        ),
        (
            "Register authorization_signed_response_alg PS256, ES256 or EdDSA, or use "
            "response_mode query (FAPI 2.0 needs no signed response).",
        ),
    ),
    (
        "par-dpop-jkt-mismatch",
        "invalid_request",
        400,
        "dpop_jkt and the DPoP proof at /par name different keys",
        (
            "A pushed authorization request carried a DPoP proof and a dpop_jkt parameter "
            "whose thumbprint is not the proof's key (RFC 9449 §10.1).",
        ),
        (
            "Send the RFC 7638 thumbprint of the key that signs the DPoP proof, or leave "
            "dpop_jkt out: the proof's key then binds the authorization code.",
        ),
    ),
)
