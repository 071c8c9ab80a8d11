"""The authorization_code grant (RFC 6749 §4.1.3, OIDC Core §3.1.3)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from keystead.errors import OAuthError
from keystead.protocol import pkce, refresh, scopes
from keystead.protocol.grants.common import token_response
from keystead.protocol.request import OAuthRequest
from keystead.secrets_util import sha256_hex
from keystead.store.base import AuthorizationCode, Client, Grant

if TYPE_CHECKING:
    from keystead.provider import Provider

GRANT_TYPE = "authorization_code"
PARAMETERS = ("code", "redirect_uri", "code_verifier", "resource")


async def _redeem(provider: Provider, code: str, now: int) -> AuthorizationCode:
    code_hash = sha256_hex(code)
    # RFC 6749 §4.1.2: a code is single use — one atomic consume, even across processes.
    record = await provider.store.grants.consume_code(code_hash, now)
    if record is not None:
        return record
    previous = await provider.store.grants.get_code(code_hash)
    if previous is None:
        raise OAuthError("code-unknown", "The authorization code is unknown.")
    # RFC 6749 §4.1.2: on reuse, revoke the tokens already issued from this code.
    await provider.store.grants.revoke_grant(previous.grant_id, now)
    provider.events.emit("code.replayed", client_id=previous.client_id, grant_id=previous.grant_id)
    raise OAuthError(
        "code-replayed",
        "The authorization code was already used; the tokens issued for it have been revoked.",
    )


async def handle(req: OAuthRequest, client: Client, provider: Provider) -> dict[str, Any]:
    code_value = req.require("code")
    redirect_uri = req.require("redirect_uri", " because it was sent in the authorization request")
    now = provider.now()
    code = await _redeem(provider, code_value, now)
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
    if redirect_uri != code.redirect_uri:
        raise OAuthError(
            "code-redirect-uri-mismatch",
            "redirect_uri differs from the one sent in the authorization request.",
        )
    pkce.check_verifier(code.code_challenge, req.get("code_verifier"))

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
    )
    body = await token_response(
        provider,
        client,
        grant,
        scopes.parse(code.scope),
        resource=req.get("resource"),
        nonce=code.nonce,
    )
    if refresh.should_issue(client, code.scope):
        body["refresh_token"] = await refresh.start_family(provider, grant, code.scope)
    return body
