"""RP-Initiated Logout 1.0: validate the request; never an open redirect."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlencode, urlsplit, urlunsplit

from keystead.errors import OAuthError
from keystead.protocol import pairwise
from keystead.protocol.id_token import hint_claims
from keystead.protocol.request import OAuthRequest
from keystead.store.base import Client, Session

if TYPE_CHECKING:
    from keystead.provider import Provider


@dataclass(frozen=True, slots=True)
class LogoutRequest:
    client: Client | None
    post_logout_redirect_uri: str | None
    state: str | None
    hint_sub: str | None
    pairs: tuple[tuple[str, str], ...]

    def location(self) -> str | None:
        if self.post_logout_redirect_uri is None:
            return None
        parts = urlsplit(self.post_logout_redirect_uri)
        extra = urlencode({"state": self.state}) if self.state else ""
        query = "&".join(p for p in (parts.query, extra) if p)
        return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))


def registered_uris(client: Client) -> tuple[str, ...]:
    uris = client.extra.get("post_logout_redirect_uris", [])
    return tuple(u for u in uris if isinstance(u, str))


async def validate_logout(req: OAuthRequest, provider: Provider) -> LogoutRequest:
    req.refuse_duplicates(req.duplicated)
    hint = req.get("id_token_hint")
    hint_sub: str | None = None
    hint_client: str | None = None
    if hint is not None:
        claims = await hint_claims(provider, hint)
        hint_sub = claims.get("sub") if isinstance(claims.get("sub"), str) else None
        aud = claims.get("aud")
        hint_client = aud if isinstance(aud, str) else claims.get("azp")
    client_id = req.get("client_id")
    if client_id is not None and hint_client is not None and client_id != hint_client:
        raise OAuthError(
            "logout-client-mismatch",
            "client_id differs from the audience of id_token_hint; send one consistent client.",
        )
    client_id = client_id or hint_client
    client = await provider.get_client(client_id) if client_id else None
    if client_id and client is None:
        raise OAuthError("logout-client-mismatch", f"No client is registered as {client_id}.")
    uri = req.get("post_logout_redirect_uri")
    if uri is not None:
        if client is None:
            raise OAuthError(
                "logout-redirect-uri-invalid",
                "post_logout_redirect_uri needs client_id or id_token_hint, so it can be "
                "checked against the client's registered URIs.",
            )
        # RP-Initiated Logout §3: exact match with a registered post_logout_redirect_uri.
        if uri not in registered_uris(client):
            raise OAuthError(
                "logout-redirect-uri-invalid",
                "post_logout_redirect_uri is not registered for this client "
                "(`keystead client create --post-logout-redirect-uri ...`).",
            )
    return LogoutRequest(
        client, uri, req.get("state"), hint_sub, req.pairs or tuple(req.params.items())
    )


def needs_confirmation(lreq: LogoutRequest, session: Session | None, provider: Provider) -> bool:
    """Ask the user unless the RP proved, with an ID token of this session's user, that the
    logout comes from it (RP-Initiated Logout §2). A pairwise sub (OIDC Core §8) is matched
    by computing the client's value for the session's user."""
    if session is None:
        return False
    return lreq.hint_sub is None or not pairwise.matches(
        provider, lreq.client, lreq.hint_sub, session.sub
    )
