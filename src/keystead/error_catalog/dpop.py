"""Error catalog rows: DPoP, sender-constrained tokens (RFC 9449)."""

from __future__ import annotations

from keystead.error_catalog import Row

_PROOF_CAUSES = (
    "The DPoP header is not one well-formed proof JWT (typ dpop+jwt, an asymmetric alg, the "
    "public jwk in its header, a valid signature).",
    "htm or htu do not name this request (htu is compared without query and fragment, "
    "against the issuer's URL of the endpoint).",
    "iat is outside the accepted window, the jti was already used, or ath does not hash the "
    "access token sent with it.",
)
_PROOF_FIXES = (
    "Sign a fresh proof for every request: new jti, current iat, the request's method and URL "
    "(and ath = base64url(SHA-256(access token)) at a protected resource).",
    "The error_description names the check that failed.",
)

ROWS: tuple[Row, ...] = (
    # --- DPoP proofs (RFC 9449 §4.3, §7.1) ---
    (
        "dpop-proof-invalid",
        "invalid_dpop_proof",
        400,
        "Invalid DPoP proof",
        _PROOF_CAUSES,
        _PROOF_FIXES,
    ),
    (
        "dpop-proof-invalid-resource",
        "invalid_dpop_proof",
        401,
        "Invalid DPoP proof at a protected resource",
        _PROOF_CAUSES,
        _PROOF_FIXES,
    ),
    (
        "dpop-nonce-required",
        "use_dpop_nonce",
        400,
        "DPoP nonce required",
        (
            "keystead requires a server-provided nonce in DPoP proofs "
            "(KEYSTEAD_DPOP_REQUIRE_NONCE), and the proof had none or an outdated one.",
        ),
        ("Sign the proof again with the nonce of the DPoP-Nonce response header.",),
    ),
    (
        "dpop-nonce-required-resource",
        "use_dpop_nonce",
        401,
        "DPoP nonce required at a protected resource",
        (
            "keystead requires a server-provided nonce in DPoP proofs, and the proof had none "
            "or an outdated one.",
        ),
        ("Sign the proof again with the nonce of the DPoP-Nonce response header.",),
    ),
    (
        "dpop-required",
        "invalid_dpop_proof",
        400,
        "DPoP proof required",
        (
            "The client is registered with dpop_bound_access_tokens, or the authorization "
            "code or refresh token is bound to a DPoP key, and the request had no DPoP header.",
        ),
        ("Send a DPoP proof signed with the client's DPoP key.",),
    ),
    (
        "dpop-key-mismatch",
        "invalid_grant",
        400,
        "Another DPoP key",
        (
            "The authorization code (dpop_jkt, RFC 9449 §10) or the refresh token of a public "
            "client is bound to a DPoP key, and the proof was signed with another key.",
        ),
        ("Sign the proof with the key the code or refresh token is bound to.",),
    ),
    (
        "dpop-token-bound",
        "invalid_token",
        401,
        "DPoP-bound token without its proof",
        (
            "The access token is bound to a DPoP key (cnf.jkt) and was sent as a Bearer token, "
            "or with a proof of another key.",
        ),
        (
            "Send Authorization: DPoP <access_token> with a DPoP proof signed by the key the "
            "token was issued to.",
        ),
    ),
)
