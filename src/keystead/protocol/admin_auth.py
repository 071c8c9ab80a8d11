"""Who may call the admin API: keystead's own access tokens (RFC 6750), issued by the
client_credentials grant for the reserved admin API with the scope ``keystead:admin``.

The token is resolved by the same code UserInfo and introspection use
(``tokens.resolve_access_token``: signature, issuer, expiry, revocation).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from keystead.errors import OAuthError
from keystead.protocol import dpop, scopes
from keystead.protocol.grants.client_credentials import CLIENT_SUB_PREFIX
from keystead.protocol.request import OAuthRequest
from keystead.protocol.tokens import ActiveToken, resolve_access_token

if TYPE_CHECKING:
    from keystead.config import Settings
    from keystead.provider import Provider

ADMIN_SCOPE = "keystead:admin"
ADMIN_API_PATH = "/admin/api"


def admin_audience(settings: Settings) -> str:
    """The reserved admin API's identifier: its tokens' ``aud``."""
    return settings.url(ADMIN_API_PATH)


def _challenge(error: str | None = None, description: str | None = None) -> dict[str, str]:
    # RFC 6750 §3: every error of a protected resource carries WWW-Authenticate.
    value = f'Bearer realm="keystead-admin", scope="{ADMIN_SCOPE}"'
    if error:
        value += f', error="{error}"'
    if description:
        value += f', error_description="{description}"'
    return {"WWW-Authenticate": value}


async def authorize_admin(req: OAuthRequest, provider: Provider) -> ActiveToken:
    """The caller's token, if it may use the admin API; OAuthError otherwise."""
    value = req.bearer_token()
    if value is None:
        raise OAuthError(
            "token-missing",
            "The admin API needs Authorization: Bearer <access token> (client_credentials, "
            f"scope {ADMIN_SCOPE}).",
            headers=_challenge(),
        )
    token = await resolve_access_token(provider, value)
    audience = admin_audience(provider.settings)
    if token is None or audience not in token.aud:
        description = f"The access token is unknown, expired, revoked, or not for {audience}."
        raise OAuthError(
            "token-invalid", description, headers=_challenge("invalid_token", description)
        )
    if token.jkt is not None:  # RFC 9449 §7.2: a DPoP-bound token is no Bearer token
        raise dpop.token_bound_error(
            "The access token is DPoP-bound; the admin API accepts Bearer tokens only."
        )
    if ADMIN_SCOPE not in scopes.parse(token.scope):
        description = f"The access token was not granted the {ADMIN_SCOPE} scope."
        raise OAuthError(
            "token-insufficient-scope",
            description,
            headers=_challenge("insufficient_scope", description),
        )
    # Only a client acting as itself: a user's token never administers the server.
    if token.sub != CLIENT_SUB_PREFIX + token.client_id:
        description = "The admin API accepts only client_credentials tokens, not a user's token."
        raise OAuthError(
            "admin-client-credentials-required",
            description,
            headers=_challenge("insufficient_scope", description),
        )
    return token
