"""Error catalog rows: grants on tokens keystead did not issue through an authorization —
JWTs of trusted issuers (RFC 7523 §2.1 and §3), the JWT bearer grant and token exchange
(RFC 8693 §2.2.2)."""

from __future__ import annotations

from keystead.error_catalog import Row

_TRUSTED = "`keystead trusted-issuer show ISSUER` shows what keystead expects of its JWTs."

ROWS: tuple[Row, ...] = (
    # --- JWTs of trusted issuers (RFC 7523 §3) ---
    (
        "trusted-jwt-malformed",
        "invalid_grant",
        400,
        "Not a signed JWT",
        ("The assertion or token is not a compact JWS with a JSON header and claims.",),
        ("Send the JWT exactly as the issuer signed it.",),
    ),
    (
        "trusted-jwt-alg",
        "invalid_grant",
        400,
        "JWT signing algorithm refused",
        ("The JWT is unsigned (alg none) or signed with a shared secret (HS256 ...).",),
        ("The issuer signs with RS256, PS256, ES256 or EdDSA (RFC 8725 §3.1).",),
    ),
    (
        "trusted-jwt-issuer-unknown",
        "invalid_grant",
        400,
        "JWT issuer not trusted",
        ("The JWT's iss is no trusted issuer of this server (RFC 7523 §3 item 1).",),
        ("An operator trusts the issuer with `keystead trusted-issuer create`.",),
    ),
    (
        "trusted-jwt-client-not-allowed",
        "invalid_grant",
        400,
        "Client may not present this issuer's JWTs",
        ("The issuer is trusted, but not for the client making the request.",),
        ("An operator names the client with --client when trusting the issuer.", _TRUSTED),
    ),
    (
        "trusted-jwt-keys",
        "invalid_grant",
        400,
        "Issuer keys unavailable",
        ("The issuer's jwks_uri could not be fetched, or its JWK Set has no usable key.",),
        ("Check that the jwks_uri answers with the issuer's public JWK Set.", _TRUSTED),
    ),
    (
        "trusted-jwt-signature",
        "invalid_grant",
        400,
        "JWT signature invalid",
        ("The signature does not verify with any key of the issuer (or names an unknown kid).",),
        ("Sign with a key published in the issuer's JWK Set.",),
    ),
    (
        "trusted-jwt-audience",
        "invalid_grant",
        400,
        "JWT audience is not this server",
        ("aud names neither this server's issuer nor its token endpoint (RFC 7523 §3 item 3).",),
        ("Have the issuer put keystead's issuer URL in aud.",),
    ),
    (
        "trusted-jwt-expired",
        "invalid_grant",
        400,
        "JWT expired",
        (
            "The JWT has no exp, exp has passed, or (an assertion) its iat is older than "
            "KEYSTEAD_JWT_GRANT_MAX_AGE (RFC 7523 §3 items 4 and 6).",
        ),
        ("Get a fresh JWT from the issuer; check both clocks.",),
    ),
    (
        "trusted-jwt-not-yet-valid",
        "invalid_grant",
        400,
        "JWT not valid yet",
        ("nbf or iat lies in the future beyond the allowed clock skew (RFC 7523 §3 item 5).",),
        ("Check the issuer's clock; KEYSTEAD_JWT_GRANT_LEEWAY sets the skew allowed.",),
    ),
    (
        "trusted-jwt-claims",
        "invalid_grant",
        400,
        "JWT claims malformed",
        ("A time claim is not a number, or an assertion has no jti (RFC 7523 §3 item 7).",),
        ("Give exp, nbf and iat as NumericDate and every assertion a unique jti.",),
    ),
    (
        "trusted-jwt-subject",
        "invalid_grant",
        400,
        "JWT without subject",
        ("The JWT has no sub, or not the claim the issuer's subject mapping reads.",),
        ("Have the issuer put the subject in sub (RFC 7523 §3 item 2).", _TRUSTED),
    ),
    (
        "trusted-jwt-subject-unmapped",
        "invalid_grant",
        400,
        "JWT subject is no local user",
        (
            "No local user matches the subject by the issuer's subject mapping (sub, "
            "username or verified email), or a subject used as is collides with a keystead one.",
        ),
        ("Create the user, or trust the issuer with another --subject-mapping.", _TRUSTED),
    ),
    (
        "trusted-jwt-replayed",
        "invalid_grant",
        400,
        "JWT assertion replayed",
        ("An assertion with this jti was already used (RFC 7523 §3 item 7).",),
        ("Get a new assertion, with a new jti, for every token request.",),
    ),
    # --- the JWT bearer grant (RFC 7523 §2.1) ---
    (
        "assertion-grant-public-client",
        "unauthorized_client",
        400,
        "JWT bearer grant needs a confidential client",
        ("A public client (no credentials) used the JWT bearer grant.",),
        ("Use a confidential client the trusted issuer names.",),
    ),
    (
        "assertion-grant-scope",
        "invalid_scope",
        400,
        "Scope wider than the client's",
        ("The scope asks for more than the client's registered scope.",),
        ("Request a subset of the client's scope.",),
    ),
    # --- token exchange (RFC 8693) ---
    (
        "token-exchange-public-client",
        "unauthorized_client",
        400,
        "Token exchange needs a confidential client",
        ("A public client (no credentials) asked to exchange a token.",),
        ("Use a confidential client with a token_exchange policy.",),
    ),
    (
        "token-exchange-token-type",
        "invalid_request",
        400,
        "Token type not supported",
        (
            "subject_token_type, actor_token_type or requested_token_type names a type "
            "keystead does not accept or issue here (RFC 8693 §3).",
        ),
        (
            "Subject: access_token, refresh_token, id_token or jwt; actor: access_token, "
            "id_token or jwt; requested: access_token (jwt for JWT APIs).",
        ),
    ),
    (
        "token-exchange-actor-type",
        "invalid_request",
        400,
        "actor_token without actor_token_type",
        ("actor_token and actor_token_type must come together (RFC 8693 §2.1).",),
        ("Send both, or neither for impersonation.",),
    ),
    (
        "token-exchange-subject-invalid",
        "invalid_grant",
        400,
        "Subject token invalid",
        (
            "The subject_token is unknown, expired, revoked, of another issuer, issued to "
            "another client (refresh and ID tokens), or its delegation chain is too long.",
        ),
        ("Send an active token of the type named by subject_token_type.",),
    ),
    (
        "token-exchange-actor-invalid",
        "invalid_grant",
        400,
        "Actor token invalid",
        ("The actor_token is unknown, expired, revoked or of another issuer.",),
        ("Send an active token of the type named by actor_token_type.",),
    ),
    (
        "token-exchange-actor-client",
        "invalid_grant",
        400,
        "Actor token of another client",
        ("The actor's access token was issued to another client than the one asking.",),
        ("The actor is the requesting client: use its own token (e.g. client_credentials).",),
    ),
    (
        "token-exchange-target-unknown",
        "invalid_target",
        400,
        "Unknown target API",
        (
            "audience or resource names no registered API, two different APIs, or neither "
            "is given and no API follows from the scope (RFC 8693 §2.2.2).",
        ),
        ("Name one API by its identifier in audience or resource (`keystead api list`).",),
    ),
    (
        "token-exchange-target-not-allowed",
        "invalid_target",
        400,
        "Target API not allowed for this client",
        ("The client's token_exchange policy does not list this API among its audiences.",),
        ("An operator adds it: `keystead client update ID --token-exchange-audience API`.",),
    ),
    (
        "token-exchange-impersonation-not-allowed",
        "unauthorized_client",
        400,
        "Impersonation not allowed",
        ("The request has no actor_token and the client's policy does not allow impersonation.",),
        ("An operator allows it with --token-exchange-impersonate, or send an actor_token.",),
    ),
    (
        "token-exchange-delegation-not-allowed",
        "unauthorized_client",
        400,
        "Delegation not allowed",
        ("The request has an actor_token and the client's policy does not allow delegation.",),
        ("An operator allows it with --token-exchange-delegate.",),
    ),
    (
        "token-exchange-scope-wider",
        "invalid_scope",
        400,
        "Scope wider than the subject token's",
        (
            "The scope asks for more than the subject token carries or the client may have: "
            "token exchange only narrows (RFC 8693 §2.1).",
        ),
        ("Request a subset of the subject token's scope.",),
    ),
)
