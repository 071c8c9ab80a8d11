"""Where a request's client certificate comes from (RFC 8705, docs/mtls.md): the TLS
connection (the ASGI TLS extension, web/tls_wire.py) or, behind a TLS-terminating proxy, the
header KEYSTEAD_MTLS_CERT_HEADER — believed only when the request's direct peer (the address
before any X-Forwarded-For rewriting, web/forwarded.py) is in KEYSTEAD_FORWARDED_ALLOW_IPS.

A request without either costs a dict lookup or two; nothing is parsed.
"""

from __future__ import annotations

import base64
import binascii
import functools
import logging
import re
import ssl
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from uvicorn.middleware.proxy_headers import _TrustedHosts

if TYPE_CHECKING:
    from starlette.types import Scope

    from keystead.config import Settings

log = logging.getLogger("keystead.web")

PEER = "keystead.peer"  # the scope key of the direct peer (web/forwarded.py)
_PEM = re.compile(r"-----BEGIN CERTIFICATE-----(.*?)-----END CERTIFICATE-----", re.S)
_ENVOY_CERT = re.compile(r'(?:^|;)Cert="([^"]*)"')
MAX_HEADER = 16 * 1024  # a certificate chain in a header: never more


@functools.lru_cache(maxsize=8)
def trusted_hosts(value: str) -> _TrustedHosts:
    return _TrustedHosts(value)


def _pem_chain(text: str) -> tuple[bytes, ...]:
    return tuple(
        binascii.a2b_base64("".join(body.split()).encode("ascii"), strict_mode=True)
        for body in _PEM.findall(text)
    )


def decode_header(value: str) -> tuple[bytes, ...] | None:
    """A forwarded client certificate: PEM (newlines as spaces or tabs), URL-encoded PEM
    (nginx ``$ssl_client_escaped_cert``), Envoy's ``x-forwarded-client-cert`` (its Cert="..."
    member) or base64 DER (``$ssl_client_cert`` of some proxies, AWS ALB). None: unreadable
    or empty (a proxy sends an empty value when the client sent no certificate)."""
    value = value.strip()
    if not value or len(value) > MAX_HEADER:
        return None
    envoy = _ENVOY_CERT.search(value)
    if envoy is not None:
        value = envoy.group(1)
    if "%" in value:
        value = unquote(value)
    try:
        if "-----BEGIN" in value:
            return _pem_chain(value) or None
        compact = "".join(value.split()).replace("-", "+").replace("_", "/")
        der = base64.b64decode(compact + "=" * (-len(compact) % 4), validate=True)
        return (der,) if der[:1] == b"\x30" else None  # DER: a SEQUENCE
    except (ValueError, binascii.Error, UnicodeEncodeError):
        return None


def _from_extension(chain: Any) -> tuple[bytes, ...] | None:
    out: list[bytes] = []
    for cert in chain or ():
        if isinstance(cert, bytes):
            out.append(cert)
        elif isinstance(cert, str):
            out.append(ssl.PEM_cert_to_DER_cert(cert))
    return tuple(out) or None


def client_cert(scope: Scope, settings: Settings) -> tuple[bytes, ...] | None:
    """The request's client certificate chain (DER, leaf first), or None."""
    extensions = scope.get("extensions")
    if extensions:
        tls = extensions.get("tls")
        if tls and tls.get("client_cert_chain"):
            return _from_extension(tls["client_cert_chain"])
    name = settings.mtls_cert_header
    if name is None:
        return None
    wanted = name.lower().encode("latin-1")
    raw = next((v for n, v in scope["headers"] if n == wanted), None)
    if raw is None:
        return None
    peer = scope.get(PEER, scope.get("client"))
    allowed = settings.forwarded_allow_ips
    if allowed is None or peer is None or peer[0] not in trusted_hosts(allowed):
        # Never from anyone but the configured proxies: the header is the client's word.
        log.warning("ignored %s from %s: not in KEYSTEAD_FORWARDED_ALLOW_IPS", name, peer)
        return None
    return decode_header(raw.decode("latin-1"))
