"""A generic OpenID Provider as an upstream: code flow with PKCE (RFC 7636, S256), state and
nonce; the ID token validated fully, then UserInfo when the upstream has it (OIDC Core
§3.1.3.7, §5.3)."""

from __future__ import annotations

from typing import Any

from keystead.federation.discovery import DiscoveryCache
from keystead.federation.id_token import (
    check_at_hash,
    check_claims,
    signing_alg,
    verify_signature,
)
from keystead.federation.token import get_json, token_request, with_query
from keystead.federation.upstream import UpstreamError, UpstreamIdentity
from keystead.jose.client_keys import UnknownKid
from keystead.net.fetch import FetchError, SafeFetcher
from keystead.net.jwks_cache import ClientJwksCache
from keystead.store.connections import Connection

# What an upstream's claims may tell about a person (OIDC Core §5.1), kept for the local user.
PROFILE_CLAIMS = (
    "name",
    "given_name",
    "family_name",
    "middle_name",
    "nickname",
    "preferred_username",
    "profile",
    "picture",
    "website",
    "gender",
    "birthdate",
    "zoneinfo",
    "locale",
    "phone_number",
    "phone_number_verified",
)


def authorization_url(
    document: dict[str, Any],
    connection: Connection,
    *,
    redirect_uri: str,
    state: str,
    nonce: str,
    code_challenge: str,
    login_hint: str | None,
) -> str:
    params = {
        "response_type": "code",
        "client_id": connection.client_id,
        "redirect_uri": redirect_uri,
        "scope": connection.scope,
        "state": state,
        "nonce": nonce,  # OIDC Core §3.1.2.1, checked in the ID token (§3.1.3.7 step 11)
        "code_challenge": code_challenge,
        "code_challenge_method": "S256",  # RFC 7636 §4.3
    }
    if login_hint:
        params["login_hint"] = login_hint
    return with_query(document["authorization_endpoint"], params)


class OidcUpstream:
    def __init__(
        self, fetcher: SafeFetcher, discovery: DiscoveryCache, jwks: ClientJwksCache
    ) -> None:
        self.fetcher = fetcher
        self.discovery = discovery
        self.jwks = jwks

    async def finish(
        self,
        connection: Connection,
        client_secret: str,
        *,
        redirect_uri: str,
        code: str,
        code_verifier: str,
        nonce: str,
        now: int,
    ) -> UpstreamIdentity:
        document = await self.discovery.get(connection.issuer)
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "code_verifier": code_verifier,
        }
        try:
            answer = await token_request(
                self.fetcher, document["token_endpoint"], connection, client_secret, form
            )
        except UpstreamError as exc:
            if exc.catalog_id == "upstream-unreachable":
                self.discovery.forget(connection.issuer)  # it may have moved: look again
            raise
        id_token = answer.get("id_token")
        if not isinstance(id_token, str):
            # OIDC Core §3.1.3.3: the token response of an authentication request has one.
            raise UpstreamError(
                "upstream-id-token-invalid",
                "the token response has no id_token (is openid a scope?).",
            )
        claims = await self._verified(connection, document, id_token)
        check_claims(
            claims, issuer=document["issuer"], client_id=connection.client_id, nonce=nonce, now=now
        )
        check_at_hash(claims, answer["access_token"], signing_alg(id_token))
        merged = {k: v for k, v in claims.items() if k in PROFILE_CLAIMS}
        email, verified = claims.get("email"), claims.get("email_verified")
        userinfo_endpoint = document.get("userinfo_endpoint")
        if isinstance(userinfo_endpoint, str):
            info = await self._userinfo(userinfo_endpoint, answer["access_token"], claims["sub"])
            merged |= {k: v for k, v in info.items() if k in PROFILE_CLAIMS}
            if "email" in info:
                # UserInfo's address, verified only if UserInfo says so of that address.
                email, verified = info.get("email"), info.get("email_verified")
            elif "email_verified" in info and info.get("email") in (None, email):
                verified = info.get("email_verified")
        amr = claims.get("amr")
        return UpstreamIdentity(
            connection_id=connection.connection_id,
            upstream_sub=claims["sub"],
            email=email if isinstance(email, str) and email else None,
            email_verified=isinstance(email, str) and verified in (True, "true"),
            claims=merged,
            upstream_amr=tuple(a for a in amr if isinstance(a, str))
            if isinstance(amr, list)
            else (),
        )

    async def _verified(
        self, connection: Connection, document: dict[str, Any], id_token: str
    ) -> dict[str, Any]:
        """The claims once the signature verifies; an unknown kid refetches the upstream's
        JWKS once (key rotation), at most once a minute per connection (net/jwks_cache.py)."""
        jwks_uri = document["jwks_uri"]
        for refresh in (False, True):
            try:
                keys = await self.jwks.keys(connection.connection_id, jwks_uri, refresh=refresh)
            except FetchError as exc:
                raise UpstreamError("upstream-unreachable", f"JWKS {jwks_uri}: {exc}") from None
            try:
                return verify_signature(id_token, keys)
            except UnknownKid as exc:
                missing = str(exc)
        raise UpstreamError(
            "upstream-id-token-invalid", f"{missing} at {jwks_uri}, even after fetching it again."
        )

    async def _userinfo(self, url: str, access_token: str, sub: str) -> dict[str, Any]:
        status, info = await get_json(self.fetcher, url, access_token)
        if status != 200 or not isinstance(info, dict):
            raise UpstreamError(
                "upstream-userinfo-invalid",
                f"{url} answered HTTP {status}"
                + ("" if isinstance(info, dict) else " without a JSON object")
                + ".",
            )
        # OIDC Core §5.3.2: the sub in the UserInfo Response MUST equal the ID token's.
        if info.get("sub") != sub:
            raise UpstreamError(
                "upstream-userinfo-invalid",
                f"{url} answered for sub {info.get('sub')!r}, the ID token is for {sub!r}.",
            )
        return info
