"""Error catalog rows: mutual TLS client authentication and certificate-bound access tokens
(RFC 8705)."""

from __future__ import annotations

from keystead.error_catalog import Row

ROWS: tuple[Row, ...] = (
    # --- client authentication (RFC 8705 §2) ---
    (
        "mtls-certificate-missing",
        "invalid_client",
        401,
        "No client certificate",
        (
            "The client is registered for tls_client_auth or self_signed_tls_client_auth (or "
            "with tls_client_certificate_bound_access_tokens) and the request came without a "
            "client certificate: not over mutual TLS, or through a proxy keystead does not "
            "trust to forward the certificate.",
        ),
        (
            "Send the request over TLS with the client's certificate (curl --cert, "
            "httpx.Client(cert=...)) to the mtls_endpoint_aliases from discovery.",
            "Behind a proxy: have it forward the certificate in KEYSTEAD_MTLS_CERT_HEADER and "
            "list its address in KEYSTEAD_FORWARDED_ALLOW_IPS.",
        ),
    ),
    (
        "mtls-certificate-invalid",
        "invalid_client",
        401,
        "Unusable client certificate",
        (
            "The client certificate cannot be parsed, is expired or not yet valid, or does "
            "not chain to a certificate authority in KEYSTEAD_MTLS_CA_FILE.",
        ),
        ("Use a current certificate issued by a CA the operator trusts for tls_client_auth.",),
    ),
    (
        "mtls-subject-mismatch",
        "invalid_client",
        401,
        "Client certificate does not match the registered subject",
        (
            "tls_client_auth (RFC 8705 §2.1.2): the certificate's subject DN or subject "
            "alternative names do not contain the value the client registered "
            "(tls_client_auth_subject_dn, _san_dns, _san_uri, _san_ip or _san_email).",
        ),
        (
            "The error_description shows the registered value and what the certificate "
            "holds: register the certificate's value, or use the registered certificate.",
        ),
    ),
    (
        "mtls-key-mismatch",
        "invalid_client",
        401,
        "Self-signed certificate not in the client's keys",
        (
            "self_signed_tls_client_auth (RFC 8705 §2.2): the certificate's public key is not "
            "one of the keys in the client's registered jwks or jwks_uri.",
        ),
        (
            "Publish the certificate's public key (with x5c) in the client's JWK Set, or send "
            "the certificate whose key is registered.",
        ),
    ),
    # --- certificate-bound tokens (RFC 8705 §3, §4) ---
    (
        "mtls-token-bound",
        "invalid_token",
        401,
        "Certificate-bound token without its certificate",
        (
            "The access token is bound to a client certificate (cnf.x5t#S256) and was sent "
            "without a certificate, or with another one.",
        ),
        (
            "Send the request over mutual TLS with the certificate the token was issued to "
            "(the certificate used at the token endpoint).",
        ),
    ),
    (
        "mtls-refresh-bound",
        "invalid_grant",
        400,
        "Refresh token bound to another certificate",
        (
            "RFC 8705 §4: the refresh token of a public client is bound to the certificate "
            "of the request that got it; this request came with another certificate or none.",
        ),
        ("Refresh over mutual TLS with the same client certificate.",),
    ),
)
