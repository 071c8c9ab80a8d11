"""Certificate-bound access tokens at an API (RFC 8705 §3): the token's ``cnf.x5t#S256``
must be the thumbprint of the client certificate of the request that presents it.

The API gives the certificate it saw (DER bytes or a PEM string) or its thumbprint; how it
gets one depends on where TLS ends: ``scope["extensions"]["tls"]["client_cert_chain"]`` (the
ASGI TLS extension, ``tls_client_cert``) or a header set by its TLS-terminating proxy — to be
believed only from that proxy.
"""

from __future__ import annotations

import base64
import hashlib
import ssl
from typing import Any

CNF = "x5t#S256"


def thumbprint(cert: bytes | str) -> str:
    """``x5t#S256`` of a certificate: base64url(SHA-256(DER)) without padding."""
    der = ssl.PEM_cert_to_DER_cert(cert) if isinstance(cert, str) else cert
    return base64.urlsafe_b64encode(hashlib.sha256(der).digest()).rstrip(b"=").decode("ascii")


def x5t_of(claims: dict[str, Any]) -> str | None:
    """The certificate thumbprint a token is bound to (cnf.x5t#S256), if any."""
    cnf = claims.get("cnf")
    value = cnf.get(CNF) if isinstance(cnf, dict) else None
    return value if isinstance(value, str) else None


def mismatch(bound: str | None, cert: bytes | str | None, presented: str | None) -> str | None:
    """Why a token bound to ``bound`` is refused with this certificate (None: accepted)."""
    if bound is None:
        return None
    if presented is None and cert is not None:
        presented = thumbprint(cert)
    if presented is None:
        return (
            "The token is bound to a client certificate (cnf.x5t#S256): send the request "
            "over mutual TLS with that certificate."
        )
    if presented != bound:
        return "The token is bound to another client certificate than the one presented."
    return None


def tls_client_cert(scope: Any) -> str | bytes | None:
    """The client certificate of the ASGI TLS extension (the leaf), if the server sets it."""
    tls = (scope.get("extensions") or {}).get("tls") or {}
    chain = tls.get("client_cert_chain") or ()
    return chain[0] if chain else None
