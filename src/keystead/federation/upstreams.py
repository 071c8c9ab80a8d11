"""``Upstreams``: one per Provider (``provider.upstreams``), the relying-party side of keystead.
It builds the authorization request to an upstream and finishes the sign-in when the
upstream redirects back, with the caches this needs (discovery documents, JWK Sets)."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from keystead.config import Settings
from keystead.federation import github, oidc
from keystead.federation.callback import check_callback
from keystead.federation.discovery import DiscoveryCache
from keystead.federation.upstream import UpstreamError, UpstreamIdentity, unseal_secret
from keystead.jose.kek import KeyEncryptor
from keystead.net.fetch import SafeFetcher
from keystead.net.jwks_cache import MIN_REFETCH, ClientJwksCache
from keystead.store.connections import GITHUB, Connection, ConnectionStore

MAX_BYTES = 256 * 1024  # an upstream's discovery document or JWKS can be larger than a client's


class Upstreams:
    def __init__(
        self,
        settings: Settings,
        kek: KeyEncryptor,
        clock: Callable[[], int],
        *,
        fetcher: SafeFetcher | None = None,
        jwks_min_refetch: float = MIN_REFETCH,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.fetcher = fetcher or SafeFetcher(
            allow_private=settings.allow_private_network_fetch,
            timeout=settings.federation_timeout,
            max_bytes=MAX_BYTES,
        )
        self.kek = kek
        self.clock = clock
        self.discovery = DiscoveryCache(self.fetcher, monotonic=monotonic)
        self.jwks = ClientJwksCache(self.fetcher, min_refetch=jwks_min_refetch, monotonic=monotonic)
        self._oidc = oidc.OidcUpstream(self.fetcher, self.discovery, self.jwks)

    async def discover(self, issuer: str, *, refresh: bool = False) -> dict[str, Any]:
        """The issuer's checked discovery document (UpstreamError if unusable)."""
        return await self.discovery.get(issuer, refresh=refresh)

    def forget(self, connection: Connection) -> None:
        """Drop what is cached for ``connection`` (it changed or went)."""
        self.discovery.forget(connection.issuer)
        self.jwks.forget(connection.connection_id)

    async def authorization_url(
        self,
        connection: Connection,
        *,
        redirect_uri: str,
        state: str,
        nonce: str,
        code_challenge: str,
        login_hint: str | None = None,
    ) -> str:
        """Where to send the browser: the upstream's authorization endpoint with response_type
        code, PKCE S256, state, nonce (OIDC) and the connection's scope."""
        _check_enabled(connection)
        if connection.kind == GITHUB:
            return github.authorization_url(
                connection,
                redirect_uri=redirect_uri,
                state=state,
                code_challenge=code_challenge,
                login_hint=login_hint,
            )
        document = await self.discovery.get(connection.issuer)
        return oidc.authorization_url(
            document,
            connection,
            redirect_uri=redirect_uri,
            state=state,
            nonce=nonce,
            code_challenge=code_challenge,
            login_hint=login_hint,
        )

    async def callback_code(
        self, connection: Connection, params: Mapping[str, str], *, state: str
    ) -> str:
        """The code of the upstream's redirect back (its query ``params``), after checking the
        ``state`` keystead sent, the RFC 9207 ``iss`` and an ``error`` (callback.py)."""
        document = (
            None if connection.kind == GITHUB else await self.discovery.get(connection.issuer)
        )
        return check_callback(params, state=state, document=document)

    async def finish(
        self,
        connection: Connection,
        *,
        redirect_uri: str,
        code: str,
        code_verifier: str,
        nonce: str,
    ) -> UpstreamIdentity:
        """Redeem the code and establish who signed in. The caller has the code from
        ``callback_code`` (state, iss and error checked)."""
        _check_enabled(connection)
        secret = unseal_secret(self.kek, connection)
        if connection.kind == GITHUB:
            return await github.finish(
                self.fetcher,
                connection,
                secret,
                redirect_uri=redirect_uri,
                code=code,
                code_verifier=code_verifier,
            )
        return await self._oidc.finish(
            connection,
            secret,
            redirect_uri=redirect_uri,
            code=code,
            code_verifier=code_verifier,
            nonce=nonce,
            now=self.clock(),
        )


def _check_enabled(connection: Connection) -> None:
    if not connection.enabled:
        raise UpstreamError("connection-disabled", f"the connection {connection.name} is disabled.")


async def enabled_connection(connections: ConnectionStore, name: str) -> Connection:
    """The connection called ``name`` if it exists and is enabled (UpstreamError
    connection-unknown / connection-disabled otherwise)."""
    connection = await connections.get_by_name(name)
    if connection is None:
        raise UpstreamError("connection-unknown", f"no connection is named {name[:40]!r}.")
    _check_enabled(connection)
    return connection
