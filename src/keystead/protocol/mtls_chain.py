"""A ``tls_client_auth`` certificate chains to a CA of the operator's (RFC 8705 §2.1:
KEYSTEAD_MTLS_CA_FILE), checked by keystead itself whatever the TLS layer accepted.

``cryptography``'s client verifier does the work (signatures, validity, basic constraints,
key usage, name constraints). Its profile is the web PKI's, which requires a subject
alternative name; client certificates naming their holder only in the subject DN (what
``tls_client_auth_subject_dn`` registers) are common, so for those the chain is walked here:
each certificate valid now and signed by the next, every issuer a CA, the last one issued by a
certificate of the file, and the leaf's extended key usage, if it has one, allowing client
authentication.
"""

from __future__ import annotations

import datetime
import functools
from collections.abc import Sequence
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.x509.oid import ExtendedKeyUsageOID

from keystead.errors import OAuthError
from keystead.protocol.mtls_certs import load

MAX_DEPTH = 8
_SHOWN = 200


@functools.lru_cache(maxsize=4)
def _cas(path: str, mtime: float) -> tuple[list[x509.Certificate], x509.verification.Store]:
    roots = x509.load_pem_x509_certificates(Path(path).read_bytes())
    return roots, x509.verification.Store(roots)


def check_chain(chain: Sequence[bytes], ca_file: Path, now: int) -> None:
    """The leaf (``chain[0]``, intermediates after it) chains to a CA in ``ca_file``."""
    roots, store = _cas(str(ca_file), ca_file.stat().st_mtime)
    leaf, *intermediates = (load(der) for der in chain)
    at = datetime.datetime.fromtimestamp(now, datetime.UTC)
    verifier = x509.verification.PolicyBuilder().store(store).time(at).build_client_verifier()
    try:
        verifier.verify(leaf, intermediates)
        return
    except x509.verification.VerificationError as exc:
        failure = str(exc)
    if not _has_san(leaf) and _walked(leaf, intermediates, roots, at):
        return
    raise OAuthError(
        "mtls-certificate-invalid",
        f"The client certificate (subject {leaf.subject.rfc4514_string()[:_SHOWN]!r}) does "
        "not chain to a certificate authority trusted for tls_client_auth "
        "(KEYSTEAD_MTLS_CA_FILE), or is not valid now.",
        debug=failure,
    )


def _has_san(cert: x509.Certificate) -> bool:
    try:
        cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        return False
    return True


def _is_ca(cert: x509.Certificate) -> bool:
    try:
        return cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        return False


def _valid_at(cert: x509.Certificate, at: datetime.datetime) -> bool:
    return cert.not_valid_before_utc <= at <= cert.not_valid_after_utc


def _for_clients(cert: x509.Certificate) -> bool:
    try:
        usages = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        return True
    return (
        ExtendedKeyUsageOID.CLIENT_AUTH in usages
        or ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE in usages
    )


def _issued_by(child: x509.Certificate, parent: x509.Certificate, at: datetime.datetime) -> bool:
    if child.issuer != parent.subject or not _is_ca(parent) or not _valid_at(parent, at):
        return False
    try:
        child.verify_directly_issued_by(parent)
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def _walked(
    leaf: x509.Certificate,
    intermediates: list[x509.Certificate],
    roots: list[x509.Certificate],
    at: datetime.datetime,
) -> bool:
    if _is_ca(leaf) or not _valid_at(leaf, at) or not _for_clients(leaf):
        return False
    current = leaf
    for _ in range(MAX_DEPTH):
        if any(_issued_by(current, root, at) for root in roots):
            return True
        found = next((c for c in intermediates if _issued_by(current, c, at)), None)
        if found is None or found is current:
            return False
        current = found
    return False
