"""What signing in at an upstream yields (``UpstreamIdentity``), how it fails
(``UpstreamError``, rows of error_catalog/federation.py), and the connection's client secret
sealed under the key-encryption key."""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass, field
from typing import Any

from keystead.errors import CATALOG, OAuthError
from keystead.jose.kek import KeyEncryptor
from keystead.store.connections import Connection


@dataclass(frozen=True, slots=True)
class UpstreamIdentity:
    connection_id: str
    upstream_sub: str
    email: str | None
    # Only true when the upstream says so: the ID token's or UserInfo's email_verified
    # (OIDC Core §5.1), GitHub's primary and verified address of /user/emails.
    email_verified: bool
    # name, given_name, family_name, preferred_username (GitHub: login), picture, locale ...
    claims: dict[str, Any] = field(default_factory=dict)
    upstream_amr: tuple[str, ...] = ()


class UpstreamError(OAuthError):
    """A sign-in at an upstream failed. ``detail`` is for the operator (logged, recorded in
    events for ``keystead explain``), never a secret; the person sees the catalog row's
    ``user_message`` and the client the row's error code with a short description."""

    def __init__(self, catalog_id: str, detail: str) -> None:
        super().__init__(catalog_id, CATALOG[catalog_id].title + ".", debug=detail)
        self.detail = detail

    def __str__(self) -> str:
        return f"{self.catalog_id}: {self.detail}"


def seal_secret(kek: KeyEncryptor, connection_id: str, client_secret: str) -> str:
    """The client secret as stored (``Connection.client_secret_enc``); aad = connection_id, so
    a sealed secret copied onto another connection does not open."""
    return kek.encrypt(client_secret.encode(), connection_id.encode())


def unseal_secret(kek: KeyEncryptor, connection: Connection) -> str:
    return kek.decrypt(connection.client_secret_enc, connection.connection_id.encode()).decode()


@dataclass(frozen=True, slots=True)
class RequestValues:
    """The single-use values of one authorization request to an upstream: ``state`` (RFC 6749
    §10.12, CSRF), ``nonce`` (OIDC Core §3.1.2.1, replay) and the PKCE pair (RFC 7636 §4.1-4.2:
    ``code_challenge`` goes out, ``code_verifier`` stays with keystead until ``finish``)."""

    state: str
    nonce: str
    code_verifier: str
    code_challenge: str

    @classmethod
    def new(cls) -> RequestValues:
        verifier = secrets.token_urlsafe(48)  # 64 characters of [A-Za-z0-9_-] (§4.1: 43-128)
        return cls(secrets.token_urlsafe(24), secrets.token_urlsafe(24), verifier, s256(verifier))


def s256(code_verifier: str) -> str:
    """RFC 7636 §4.2: BASE64URL(SHA256(ASCII(code_verifier))) without padding."""
    digest = hashlib.sha256(code_verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
