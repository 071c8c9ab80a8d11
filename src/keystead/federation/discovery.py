"""The upstream's OpenID Provider Configuration (OIDC Discovery 1.0), fetched through the SSRF
guard, checked, and cached for an hour (dropped sooner when a call to the upstream fails, so a
moved endpoint is found again)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import anyio

from keystead.federation.upstream import UpstreamError
from keystead.net.fetch import FetchError, SafeFetcher

TTL = 3600.0  # seconds a checked document is used before it is fetched again
MAX_ENTRIES = 1000
REQUIRED = ("authorization_endpoint", "token_endpoint", "jwks_uri")


def discovery_url(issuer: str) -> str:
    # OIDC Discovery §4: the issuer with any trailing "/" removed, + /.well-known/...
    return issuer.rstrip("/") + "/.well-known/openid-configuration"


def check_document(issuer: str, document: Any, *, allow_http: bool = False) -> dict[str, Any]:
    """The document if keystead can sign in with it; else UpstreamError naming what is
    wrong (upstream-discovery-invalid). Its endpoints are https URLs (``allow_http``: or http,
    with KEYSTEAD_ALLOW_PRIVATE_NETWORK_FETCH=true)."""
    where = discovery_url(issuer)
    if not isinstance(document, dict):
        raise UpstreamError("upstream-discovery-invalid", f"{where} is not a JSON object.")
    # OIDC Discovery §4.3: the issuer returned MUST be identical to the one the URL came from.
    if document.get("issuer") != issuer:
        raise UpstreamError(
            "upstream-discovery-invalid",
            f"{where} names issuer {document.get('issuer')!r}, not {issuer!r} (OIDC Discovery "
            "§4.3: they must be identical; set the connection's issuer to the upstream's).",
        )
    schemes = ("https://", "http://") if allow_http else ("https://",)
    for member in REQUIRED:
        value = document.get(member)
        if not isinstance(value, str) or not value.startswith(schemes):
            raise UpstreamError(
                "upstream-discovery-invalid",
                f"{where} has no {member} (an https URL); keystead needs the authorization, "
                "token and JWKS endpoints of an OpenID Provider.",
            )
    userinfo = document.get("userinfo_endpoint")
    if userinfo is not None and not (isinstance(userinfo, str) and userinfo.startswith(schemes)):
        raise UpstreamError(
            "upstream-discovery-invalid", f"{where} has a userinfo_endpoint that is no https URL."
        )
    methods = document.get("code_challenge_methods_supported")
    if isinstance(methods, list) and methods and "S256" not in methods:
        raise UpstreamError(
            "upstream-discovery-invalid",
            f"{where} does not support PKCE with S256 (code_challenge_methods_supported: "
            f"{methods}); keystead always sends it (RFC 7636).",
        )
    return document


class DiscoveryCache:
    def __init__(
        self,
        fetcher: SafeFetcher,
        *,
        ttl: float = TTL,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.fetcher = fetcher
        self.ttl = ttl
        self._monotonic = monotonic
        self._documents: dict[str, tuple[float, dict[str, Any]]] = {}
        self._locks: dict[str, anyio.Lock] = {}
        self.fetches = 0  # for tests

    async def get(self, issuer: str, *, refresh: bool = False) -> dict[str, Any]:
        """The issuer's checked document (cached); ``refresh`` fetches it anew.
        Raises UpstreamError (upstream-unreachable, upstream-discovery-invalid)."""
        cached = None if refresh else self._fresh(issuer)
        if cached is not None:
            return cached
        lock = self._locks.setdefault(issuer, anyio.Lock())
        async with lock:
            cached = None if refresh else self._fresh(issuer)
            if cached is None:
                cached = await self._fetch(issuer)
        return cached

    def forget(self, issuer: str) -> None:
        self._documents.pop(issuer, None)

    def _fresh(self, issuer: str) -> dict[str, Any] | None:
        entry = self._documents.get(issuer)
        if entry is None or self._monotonic() - entry[0] >= self.ttl:
            return None
        return entry[1]

    async def _fetch(self, issuer: str) -> dict[str, Any]:
        url = discovery_url(issuer)
        self.fetches += 1
        try:
            status, document = await self.fetcher.exchange("GET", url)
        except FetchError as exc:
            said = str(exc) if url in str(exc) else f"{url}: {exc}"
            raise UpstreamError("upstream-unreachable", said) from None
        if status >= 500:
            raise UpstreamError("upstream-unreachable", f"{url} answered HTTP {status}.")
        if status != 200:
            raise UpstreamError(
                "upstream-discovery-invalid",
                f"{url} answered HTTP {status}: is {issuer} the upstream's issuer?",
            )
        checked = check_document(issuer, document, allow_http=self.fetcher.allow_private)
        if len(self._documents) >= MAX_ENTRIES:
            self._documents.clear()
        self._documents[issuer] = (self._monotonic(), checked)
        return checked
