"""Pairwise subject identifiers (OIDC Core §8, §8.1; OIDC Registration §2, §5).

A client registered with ``subject_type=pairwise`` sees each user under a ``sub`` of its own
sector: ``base64url(HMAC-SHA256(key, sector || NUL || local sub))``, where ``key`` is derived
from the key-encryption key (``kek.derive("pairwise-sub")``), so the value is stable across
restarts and instances, and no client can compute another sector's value or the local one.

The sector identifier is the host of ``sector_identifier_uri`` when the client registered
one, else the host of its redirect URIs (§8.1: a client with several redirect hosts MUST
register a ``sector_identifier_uri``). It is computed when the client is stored and kept in
``Client.extra["sector_identifier"]``; the document itself is fetched and checked by
net/sector_identifier.py.

Every place a client sees a user's ``sub`` goes through ``subject``; a public client pays one
dict lookup. A pairwise ``sub`` comes back to keystead only in an ``id_token_hint``: it is
matched by computing the value for the candidate (the session's user) — never by a scan.
"""

from __future__ import annotations

import hashlib
import hmac
from functools import lru_cache
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from keystead.secrets_util import b64url

if TYPE_CHECKING:
    from keystead.jose.kek import KeyEncryptor
    from keystead.provider import Provider
    from keystead.store.base import Client

PUBLIC = "public"
PAIRWISE = "pairwise"
SUBJECT_TYPES = (PUBLIC, PAIRWISE)  # discovery: subject_types_supported
# Metadata names (OIDC Registration §2), kept in Client.extra.
SUBJECT_TYPE = "subject_type"
SECTOR_IDENTIFIER_URI = "sector_identifier_uri"
PAIRWISE_METADATA = (SUBJECT_TYPE, SECTOR_IDENTIFIER_URI)
SECTOR = "sector_identifier"  # the computed sector (a host), not metadata
KEY_PURPOSE = "pairwise-sub"


@lru_cache(maxsize=8)
def _key(kek: KeyEncryptor) -> bytes:
    return kek.derive(KEY_PURPOSE)


def compute(key: bytes, sector: str, local_sub: str) -> str:
    """OIDC Core §8.1: a value no party but keystead can reverse or link across sectors."""
    mac = hmac.new(key, sector.encode() + b"\x00" + local_sub.encode(), hashlib.sha256)
    return b64url(mac.digest()).decode("ascii")


def is_pairwise_spec(subject_type: str | None) -> bool:
    return subject_type == PAIRWISE


def is_pairwise(client: Client) -> bool:
    return client.extra.get(SUBJECT_TYPE) == PAIRWISE


def subject(provider: Provider, client: Client | None, local_sub: str) -> str:
    """The ``sub`` ``client`` sees for the user ``local_sub``."""
    if client is None or client.extra.get(SUBJECT_TYPE) != PAIRWISE:
        return local_sub  # public (the default): nothing to compute
    if ":" in local_sub:
        return local_sub  # a client's own subject (client_credentials), not a user's
    sector = client.extra.get(SECTOR) or client.client_id
    return compute(_key(provider.kek), str(sector), local_sub)


def matches(provider: Provider, client: Client | None, presented: str, local_sub: str) -> bool:
    """Is ``presented`` (the sub of an id_token_hint for ``client``) the user ``local_sub``?"""
    return hmac.compare_digest(subject(provider, client, local_sub), presented)


def sector_of(redirect_uris: list[str], sector_identifier_uri: str | None) -> str | None:
    """OIDC Core §8.1: the host of sector_identifier_uri, else the one host of the redirect
    URIs; None when the redirect URIs name several hosts (or none)."""
    if sector_identifier_uri is not None:
        return (urlsplit(sector_identifier_uri).hostname or "").lower() or None
    hosts = {(urlsplit(u).hostname or "").lower() for u in redirect_uris}
    hosts.discard("")
    return hosts.pop() if len(hosts) == 1 else None


def problem(
    subject_type: str | None, sector_identifier_uri: str | None, redirect_uris: list[str]
) -> tuple[str, str] | None:
    """The first rule broken, as (metadata name, what to change); None when all hold. The
    document at sector_identifier_uri is checked when the client is stored (it needs I/O)."""
    if subject_type is not None and subject_type not in SUBJECT_TYPES:
        return SUBJECT_TYPE, "subject_type must be public or pairwise (OIDC Core §8)."
    if sector_identifier_uri is not None:
        try:
            parts = urlsplit(sector_identifier_uri)
            parts.port  # noqa: B018 - raises on a bad port
        except ValueError:
            return SECTOR_IDENTIFIER_URI, "sector_identifier_uri is not a URL."
        # OIDC Registration §2: the URL MUST use the https scheme (http is allowed here only
        # for a loopback test server, and the fetcher refuses it without private fetches).
        if parts.scheme not in ("https", "http") or not parts.hostname or parts.fragment:
            return SECTOR_IDENTIFIER_URI, "sector_identifier_uri must be an https URL."
    if subject_type == PAIRWISE and sector_of(redirect_uris, sector_identifier_uri) is None:
        # OIDC Core §8.1: several redirect hosts need a sector_identifier_uri.
        return (
            SECTOR_IDENTIFIER_URI,
            "A pairwise client whose redirect URIs name several hosts (or none) must register "
            "a sector_identifier_uri listing them (OIDC Core §8.1).",
        )
    return None
