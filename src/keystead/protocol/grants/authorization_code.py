"""The authorization_code grant (RFC 6749 §4.1.3, OIDC Core §3.1.3)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from keystead.errors import OAuthError
from keystead.protocol import dpop, pkce, rar, rar_tokens, refresh, scopes
from keystead.protocol.grants.common import token_response
from keystead.protocol.request import OAuthRequest
from keystead.secrets_util import sha256_hex
from keystead.store.base import AuthorizationCode, Client, Grant, RefreshToken

if TYPE_CHECKING:
    from keystead.provider import Provider

GRANT_TYPE = "authorization_code"
PARAMETERS = ("code", "redirect_uri", "code_verifier", "resource", rar.PARAMETER)


async def _replayed(provider: Provider, code: AuthorizationCode, now: int) -> OAuthError:
    # RFC 6749 §4.1.2: on reuse, revoke the tokens already issued from this code.
    await provider.store.grants.revoke_grant(code.grant_id, now)
    provider.events.emit("code.replayed", client_id=code.client_id, grant_id=code.grant_id)
    return OAuthError(
        "code-replayed",
        "The authorization code was already used; the tokens issued for it have been revoked.",
    )


def _check(
    code: AuthorizationCode, req: OAuthRequest, client: Client, provider: Provider, now: int
) -> None:
    if code.client_id != client.client_id:
        raise OAuthError(
            "code-client-mismatch", "The authorization code was issued to another client."
        )
    if code.expires_at <= now:
        raise OAuthError(
            "code-expired",
            f"The authorization code expired {now - code.expires_at} seconds ago; codes are "
            f"valid for {provider.settings.code_ttl} seconds.",
        )
    # RFC 6749 §4.1.3: redirect_uri must be identical to the authorization request's.
    redirect_uri = req.require("redirect_uri", " because it was sent in the authorization request")
    if redirect_uri != code.redirect_uri:
        raise OAuthError(
            "code-redirect-uri-mismatch",
            "redirect_uri differs from the one sent in the authorization request.",
        )
    pkce.check_verifier(code.code_challenge, req.get("code_verifier"))
    dpop.check_bound(code.dpop_jkt, "authorization code (dpop_jkt)")  # RFC 9449 §10.1


async def handle(req: OAuthRequest, client: Client, provider: Provider) -> dict[str, Any]:
    """Read the code, check it, build the response, then consume the code and store the
    tokens in one transaction (fosite's and node-oidc-provider's order: a request that fails
    a check — another client, a wrong code_verifier — does not use the code up)."""
    code_hash = sha256_hex(req.require("code"))
    grants = provider.store.grants
    now = provider.now()
    code = await grants.get_code(code_hash)
    if code is None:
        raise OAuthError("code-unknown", "The authorization code is unknown.")
    if code.consumed_at is not None:
        raise await _replayed(provider, code, now)
    _check(code, req, client, provider, now)
    grant = Grant(
        code.grant_id,
        client.client_id,
        code.sub,
        code.scope,
        code.created_at,
        auth_time=code.auth_time,
        sid=code.sid,
        resources=code.resources,
        claims=code.claims,
        acr=code.acr,
        amr=code.amr,
    )
    asked = req.get(rar.PARAMETER)  # RFC 9396 §6.1: a subset of the granted details
    details = (
        None
        if asked is None
        else await rar_tokens.narrow(provider, asked, rar.granted(code.claims))
    )
    issued = await token_response(
        provider,
        client,
        grant,
        scopes.parse(code.scope),
        resource=req.get("resource"),
        nonce=code.nonce,
        details=details,
    )
    families: tuple[RefreshToken, ...] = ()
    if refresh.should_issue(client, code.scope):
        issued.body["refresh_token"], first = refresh.new_token(provider, grant, code.scope, now)
        families = (first,)
    # RFC 6749 §4.1.2: single use — one atomic consume, even across processes; the loser of
    # a race (or a replay between the read and here) finds it consumed and stores nothing.
    if await grants.consume_code(
        code_hash, now, access_tokens=issued.access_tokens, refresh_tokens=families
    ):
        return issued.body
    raise await _replayed(provider, code, now)
