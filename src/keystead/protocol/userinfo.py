"""The UserInfo endpoint (OIDC Core §5.3), protected by a Bearer token (RFC 6750)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from keystead.errors import OAuthError
from keystead.protocol import dpop, mtls, pairwise, scopes
from keystead.protocol.claims import requested_names, user_claims
from keystead.protocol.origins import check_origin_of
from keystead.protocol.request import OAuthRequest
from keystead.protocol.tokens import resolve_access_token

if TYPE_CHECKING:
    from keystead.provider import Provider
    from keystead.store.base import Client


def _challenge(error: str | None = None, description: str | None = None) -> dict[str, str]:
    # RFC 6750 §3: WWW-Authenticate on every error of a protected resource.
    value = 'Bearer realm="keystead"'
    if error:
        value += f', error="{error}"'
    if description:
        value += f', error_description="{description}"'
    return {"WWW-Authenticate": value}


async def userinfo(req: OAuthRequest, provider: Provider) -> dict[str, Any]:
    return (await userinfo_for(req, provider))[1]


async def userinfo_for(
    req: OAuthRequest, provider: Provider
) -> tuple[Client | None, dict[str, Any]]:
    """The token's client and the claims it may see (its pairwise sub, OIDC Core §8)."""
    value, proof_jkt = req.bearer_token(), None
    if value is None and req.authorization is not None:
        value = dpop.scheme_of(req.authorization)  # RFC 9449 §7.1: Authorization: DPoP
        if value is not None:
            proof_jkt = await dpop.resource_proof(req, provider, value, "/userinfo")
    if value is None:
        if req.get("access_token") is not None:
            raise OAuthError(
                "token-missing",
                "Send the access token in the Authorization: Bearer header, not as a parameter.",
                headers=_challenge("invalid_request"),
            )
        raise OAuthError(
            "token-missing",
            "No access token: send Authorization: Bearer <access_token>.",
            headers=_challenge(),
        )
    token = await resolve_access_token(provider, value)
    if token is None or provider.settings.issuer not in token.aud:
        description = "The access token is unknown, expired, revoked, or not for UserInfo."
        raise OAuthError(
            "token-invalid", description, headers=_challenge("invalid_token", description)
        )
    if token.jkt is not None or proof_jkt is not None:
        dpop.check_presented(token.jkt, proof_jkt)  # RFC 9449 §7.1, §7.2
    if token.x5t_s256 is not None:  # RFC 8705 §3: only with the certificate it is bound to
        refused = mtls.check_presented(token.x5t_s256, req)
        if refused is not None:
            raise OAuthError(
                "mtls-token-bound", refused, headers=_challenge("invalid_token", refused)
            )
    await check_origin_of(req, token.client_id, provider)  # CORS: the token's client's origins
    granted = scopes.parse(token.scope)
    if "openid" not in granted:
        description = "The access token was not granted the openid scope."
        raise OAuthError(
            "token-insufficient-scope",
            description,
            headers=_challenge("insufficient_scope", description),
        )
    user = await provider.store.users.get(token.sub)
    if user is None:
        description = "The user of this access token no longer exists."
        raise OAuthError(
            "token-invalid", description, headers=_challenge("invalid_token", description)
        )
    # OIDC Core §5.5: individually requested claims come on top of the scopes' claims.
    claims = user_claims(user, granted, requested_names(token.claims_request, "userinfo"))
    client = await provider.get_client(token.client_id)
    claims["sub"] = pairwise.subject(provider, client, user.sub)
    return client, claims
