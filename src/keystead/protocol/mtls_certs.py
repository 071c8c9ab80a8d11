"""Client certificates for mutual TLS (RFC 8705): parsing, the SHA-256 thumbprint, the
subject and subject-alternative-name matches of ``tls_client_auth`` (§2.1.2), the public key
compared with a client's JWK Set for ``self_signed_tls_client_auth`` (§2.2), and the chain
checked against the operator's CAs.

Pure functions on DER bytes (``cryptography``); the OAuthErrors name what did not match.
"""

from __future__ import annotations

import base64
import datetime
import functools
import hashlib
import ipaddress
import re

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from cryptography.x509.oid import NameOID

from keystead.errors import OAuthError

# RFC 8705 §2.1.2: exactly one of these names the certificate a tls_client_auth client uses.
SUBJECT_DN = "tls_client_auth_subject_dn"
SAN_DNS = "tls_client_auth_san_dns"
SAN_URI = "tls_client_auth_san_uri"
SAN_IP = "tls_client_auth_san_ip"
SAN_EMAIL = "tls_client_auth_san_email"
SUBJECT_NAMES = (SUBJECT_DN, SAN_DNS, SAN_URI, SAN_IP, SAN_EMAIL)
_SHOWN = 200  # characters of a presented value quoted in an error


def thumbprint(der: bytes) -> str:
    """``x5t#S256`` (RFC 8705 §3.1): base64url SHA-256 of the DER certificate, no padding."""
    digest = hashlib.sha256(der).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


@functools.lru_cache(maxsize=256)
def load(der: bytes) -> x509.Certificate:
    """The certificate of ``der`` (remembered: a client sends the same one every time)."""
    try:
        return x509.load_der_x509_certificate(der)
    except ValueError as exc:
        raise OAuthError(
            "mtls-certificate-invalid",
            "The client certificate is not a valid X.509 certificate.",
            debug=str(exc),
        ) from None


def check_validity(cert: x509.Certificate, now: int) -> None:
    at = datetime.datetime.fromtimestamp(now, datetime.UTC)
    if at < cert.not_valid_before_utc or at > cert.not_valid_after_utc:
        raise OAuthError(
            "mtls-certificate-invalid",
            "The client certificate is expired or not yet valid "
            f"(valid {cert.not_valid_before_utc:%Y-%m-%d} to {cert.not_valid_after_utc:%Y-%m-%d}).",
        )


# --- subject DN (RFC 4514) ---

# RFC 4514 §3 attribute type names (and a few common ones), case-insensitive; any other
# type is given as a dotted OID.
_DN_TYPES = {
    "CN": NameOID.COMMON_NAME,
    "L": NameOID.LOCALITY_NAME,
    "ST": NameOID.STATE_OR_PROVINCE_NAME,
    "O": NameOID.ORGANIZATION_NAME,
    "OU": NameOID.ORGANIZATIONAL_UNIT_NAME,
    "C": NameOID.COUNTRY_NAME,
    "STREET": NameOID.STREET_ADDRESS,
    "DC": NameOID.DOMAIN_COMPONENT,
    "UID": NameOID.USER_ID,
    "SERIALNUMBER": NameOID.SERIAL_NUMBER,
    "E": NameOID.EMAIL_ADDRESS,
    "EMAILADDRESS": NameOID.EMAIL_ADDRESS,
    "GIVENNAME": NameOID.GIVEN_NAME,
    "SN": NameOID.SURNAME,
    "TITLE": NameOID.TITLE,
    "ORGANIZATIONIDENTIFIER": NameOID.ORGANIZATION_IDENTIFIER,
}
_OID = re.compile(r"^\d+(\.\d+)+$")
DN = tuple[frozenset[tuple[str, str]], ...]


def _split(text: str, separators: str) -> list[str]:
    """``text`` split at separators not escaped with a backslash (RFC 4514 §2.4)."""
    parts, current, escaped = [], [], False
    for char in text:
        if escaped:
            current.append("\\" + char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char in separators:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    if escaped:
        raise ValueError("a DN ends with a lone backslash")
    parts.append("".join(current))
    return parts


def _unescape(value: str) -> str:
    """RFC 4514 §2.4: \\X for a special character, \\hh for a byte (UTF-8)."""
    out = bytearray()
    i = 0
    while i < len(value):
        char = value[i]
        if char == "\\":
            pair = value[i + 1 : i + 3]
            if len(pair) == 2 and all(c in "0123456789abcdefABCDEF" for c in pair):
                out.append(int(pair, 16))
                i += 3
                continue
            char = value[i + 1]
            i += 1
        out += char.encode("utf-8")
        i += 1
    return out.decode("utf-8")


def _folded(value: object) -> str:
    # RFC 4517 caseIgnoreMatch as directories apply it: insignificant spaces and case.
    return " ".join(str(value).split()).casefold()


def parse_dn(text: str) -> DN:
    """A registered ``tls_client_auth_subject_dn`` (an RFC 4514 string) as comparable data,
    in the certificate's order (RFC 4514 writes the last RDN first); ValueError if it is not
    one. Attribute types are case-insensitive; spaces around separators are ignored."""
    if not text.strip():
        raise ValueError("an empty DN")
    rdns = []
    for rdn in _split(text, ",;"):
        attributes = set()
        for pair in _split(rdn, "+"):
            name, sep, value = pair.partition("=")
            name = name.strip().upper().removeprefix("OID.")
            oid = _DN_TYPES.get(name)
            if not sep or (oid is None and not _OID.match(name)):
                raise ValueError(f"unknown attribute type {name!r}")
            dotted = oid.dotted_string if oid is not None else name
            attributes.add((dotted, _folded(_unescape(value.strip()))))
        rdns.append(frozenset(attributes))
    return tuple(reversed(rdns))


def normalized_dn(name: x509.Name) -> DN:
    """The certificate's name as comparable data: its RDNs in order, each a set of
    (OID, folded value)."""
    return tuple(
        frozenset((attr.oid.dotted_string, _folded(attr.value)) for attr in rdn)
        for rdn in name.rdns
    )


def dn_matches(registered: str, cert: x509.Certificate) -> bool:
    """RFC 8705 §2.1.2: the subject DN compared as RFC 4514 names, not as strings
    (``CN=a, O=B`` equals ``cn=A,o=b``; the order of the RDNs counts)."""
    try:
        expected = parse_dn(registered)
    except (ValueError, UnicodeDecodeError, IndexError):
        return False
    return expected == normalized_dn(cert.subject)


# --- subject alternative names ---

_SAN_TYPES: dict[str, type[x509.GeneralName]] = {
    SAN_DNS: x509.DNSName,
    SAN_URI: x509.UniformResourceIdentifier,
    SAN_IP: x509.IPAddress,
    SAN_EMAIL: x509.RFC822Name,
}


def san_values(cert: x509.Certificate, name: str) -> list[str]:
    """The certificate's subject alternative names of the kind ``name`` registers."""
    try:
        ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        return []
    return [str(v) for v in ext.value.get_values_for_type(_SAN_TYPES[name])]  # type: ignore[arg-type]


def _same(name: str, registered: str, presented: str) -> bool:
    if name == SAN_DNS:
        return registered.rstrip(".").lower() == presented.rstrip(".").lower()
    if name == SAN_IP:
        try:
            return ipaddress.ip_address(registered) == ipaddress.ip_address(presented)
        except ValueError:
            return False
    if name == SAN_EMAIL:  # RFC 5321 §2.4: the domain is case-insensitive
        local, _, domain = registered.rpartition("@")
        p_local, _, p_domain = presented.rpartition("@")
        return local == p_local and domain.lower() == p_domain.lower()
    return registered == presented  # URI: exact (RFC 8705 §2.1.2 names no normalisation)


def check_subject(name: str, registered: str, cert: x509.Certificate) -> None:
    """tls_client_auth (§2.1.2): the certificate holds the one registered subject value."""
    if name == SUBJECT_DN:
        if dn_matches(registered, cert):
            return
        shown = cert.subject.rfc4514_string()[:_SHOWN]
        raise OAuthError(
            "mtls-subject-mismatch",
            f"The client certificate's subject DN {shown!r} does not match the registered "
            f"{SUBJECT_DN} {registered!r} (compared as RFC 4514 names).",
        )
    presented = san_values(cert, name)
    if any(_same(name, registered, value) for value in presented):
        return
    kind = name.removeprefix("tls_client_auth_san_")
    shown = ", ".join(presented)[:_SHOWN] or "none"
    raise OAuthError(
        "mtls-subject-mismatch",
        f"The client certificate has no {kind} subject alternative name {registered!r} "
        f"(registered as {name}); its {kind} names: {shown}.",
    )


# --- self-signed certificates and a client's JWK Set (§2.2) ---


def public_key_der(cert: x509.Certificate) -> bytes:
    return cert.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)


def key_der(public_key: object) -> bytes | None:
    """SubjectPublicKeyInfo DER of a ``cryptography`` public key (None: not one)."""
    to_bytes = getattr(public_key, "public_bytes", None)
    if to_bytes is None:
        return None
    try:
        der: bytes = to_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    except (ValueError, TypeError):
        return None
    return der
