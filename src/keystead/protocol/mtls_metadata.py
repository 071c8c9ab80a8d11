"""Mutual TLS metadata (RFC 8705): what a client registers (§2.1.2, §2.2, §3.4) and what
discovery says (§3.3, §5). Client values are kept in Client.extra under their metadata names;
the CLI, the admin API and dynamic registration all check them here."""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from keystead.protocol.mtls import BOUND, METHODS, SELF_SIGNED, TLS_CLIENT_AUTH
from keystead.protocol.mtls_certs import (
    SAN_DNS,
    SAN_EMAIL,
    SAN_IP,
    SAN_URI,
    SUBJECT_DN,
    SUBJECT_NAMES,
    parse_dn,
)

if TYPE_CHECKING:
    from keystead.config import Settings

NAMES = (*SUBJECT_NAMES, BOUND)
MAX_LENGTH = 1024
# §5: the endpoints a client calls with its certificate (those keystead has).
ALIASED = (
    "token_endpoint",
    "introspection_endpoint",
    "revocation_endpoint",
    "userinfo_endpoint",
    "pushed_authorization_request_endpoint",
    "device_authorization_endpoint",
    "backchannel_authentication_endpoint",
)
_AUTH_LISTS = (
    "token_endpoint_auth_methods_supported",
    "revocation_endpoint_auth_methods_supported",
    "introspection_endpoint_auth_methods_supported",
)


def from_body(body: dict[str, Any]) -> dict[str, Any]:
    """The members present in a registration request, as sent (``problem`` checks them)."""
    return {name: body[name] for name in NAMES if body.get(name) is not None}


def _value_problem(name: str, value: str) -> str | None:
    if name == SUBJECT_DN:
        try:
            parse_dn(value)
        except ValueError:
            return f"{name} must be an RFC 4514 distinguished name, e.g. CN=client,O=Example,C=SE."
    elif name == SAN_IP:
        try:
            ipaddress.ip_address(value)
        except ValueError:
            return f"{name} must be an IPv4 or IPv6 address."
    elif name == SAN_URI:
        if not urlsplit(value).scheme:
            return f"{name} must be an absolute URI."
    elif name == SAN_EMAIL:
        if "@" not in value.strip("@"):
            return f"{name} must be an email address."
    elif name == SAN_DNS and (" " in value or "/" in value or not value.strip(".")):
        return f"{name} must be a DNS name, e.g. client.example.com."
    return None


def problem(values: dict[str, Any], method: str, has_keys: bool) -> tuple[str, str] | None:
    """The first rule broken, as (metadata name, what to change); None when all hold."""
    given = [name for name in SUBJECT_NAMES if values.get(name) is not None]
    for name in given:
        value = values[name]
        if not isinstance(value, str) or not value or len(value) > MAX_LENGTH:
            return name, f"{name} must be a non-empty string of at most {MAX_LENGTH} characters."
        reason = _value_problem(name, value)
        if reason is not None:
            return name, reason
    if method == TLS_CLIENT_AUTH and len(given) != 1:
        # RFC 8705 §2.1.2: exactly one of the subject metadata values.
        return (
            given[1] if given else SUBJECT_DN,
            "A tls_client_auth client registers exactly one of "
            f"{', '.join(SUBJECT_NAMES)} (RFC 8705 §2.1.2).",
        )
    if given and method != TLS_CLIENT_AUTH:
        return given[0], f"{given[0]} is only for token_endpoint_auth_method tls_client_auth."
    if method == SELF_SIGNED and not has_keys:
        # RFC 8705 §2.2: the certificate is matched against the client's registered keys.
        return (
            "jwks",
            "self_signed_tls_client_auth needs the client's certificate keys: give jwks "
            "(with x5c) or jwks_uri.",
        )
    bound = values.get(BOUND)
    if bound is not None and not isinstance(bound, bool):
        return BOUND, f"{BOUND} must be true or false."
    return None


def stored(values: dict[str, Any]) -> dict[str, Any]:
    """The Client.extra entries (a false tls_client_certificate_bound_access_tokens is
    omitted)."""
    return {k: v for k, v in values.items() if k in NAMES and v not in (None, False, "")}


def discovery(settings: Settings, document: dict[str, Any]) -> dict[str, Any]:
    """RFC 8705 §3.3 and §5 members of the discovery document, or, without mTLS, the auth
    method lists without the mTLS methods (nothing would bring a certificate)."""
    if not settings.mtls:
        return {
            name: [m for m in document[name] if m not in METHODS]
            for name in _AUTH_LISTS
            if name in document
        }
    base = (settings.mtls_base_url or settings.issuer).rstrip("/")
    issuer = settings.issuer.rstrip("/")
    aliases = {
        name: base + document[name][len(issuer) :]
        for name in ALIASED
        if isinstance(document.get(name), str) and document[name].startswith(issuer)
    }
    return {"tls_client_certificate_bound_access_tokens": True, "mtls_endpoint_aliases": aliases}
