"""Client authentication at the token endpoint (RFC 6749 §2.3, OIDC Core §9).

Dispatch by table: each registered ``token_endpoint_auth_method`` names one small function.
A client registers exactly one method; presenting any other is ``invalid_client``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from keystead.errors import OAuthError
from keystead.protocol.request import OAuthRequest
from keystead.secrets_util import matches_hash
from keystead.store.base import Client

_BASIC_CHALLENGE = {"WWW-Authenticate": 'Basic realm="keystead"'}


def _presented(req: OAuthRequest) -> tuple[str, str, str | None]:
    """(method, client_id, secret) as the request presents them."""
    basic = req.basic_credentials()
    body_secret = req.get("client_secret")
    if basic is not None:
        if body_secret is not None:
            raise OAuthError(
                "client-auth-multiple",
                "The client authenticated with both HTTP Basic and client_secret in the body; "
                "use only one method (RFC 6749 §2.3).",
            )
        body_id = req.get("client_id")
        if body_id is not None and body_id != basic[0]:
            raise OAuthError(
                "client-auth-multiple",
                "client_id in the body differs from the client_id in the Authorization header.",
            )
        return "client_secret_basic", basic[0], basic[1]
    client_id = req.get("client_id")
    if client_id is None:
        raise OAuthError(
            "client-auth-missing",
            "Client authentication is required: send HTTP Basic credentials, or client_id "
            "(and client_secret if the client has one) in the body.",
            headers=_BASIC_CHALLENGE,
        )
    if body_secret is not None:
        return "client_secret_post", client_id, body_secret
    return "none", client_id, None


async def _check_secret(client: Client, secret: str | None) -> None:
    if secret is None or client.client_secret_hash is None:
        raise OAuthError(
            "client-secret-invalid", "Client authentication failed.", headers=_BASIC_CHALLENGE
        )
    if not matches_hash(secret, client.client_secret_hash):
        raise OAuthError(
            "client-secret-invalid",
            "Client authentication failed: the client_secret is wrong.",
            headers=_BASIC_CHALLENGE,
        )


async def _check_none(client: Client, secret: str | None) -> None:
    return None  # public client: identified, not authenticated; PKCE protects its codes


AuthMethod = Callable[[Client, str | None], Awaitable[None]]

CLIENT_AUTH_METHODS: dict[str, AuthMethod] = {
    "client_secret_basic": _check_secret,
    "client_secret_post": _check_secret,
    "none": _check_none,
}


async def authenticate_client(
    req: OAuthRequest, get_client: Callable[[str], Awaitable[Client | None]]
) -> Client:
    method, client_id, secret = _presented(req)
    client = await get_client(client_id)
    if client is None:
        raise OAuthError(
            "client-unknown",
            "Client authentication failed: unknown client_id.",
            headers=_BASIC_CHALLENGE,
        )
    registered = client.token_endpoint_auth_method
    if method != registered:
        raise OAuthError(
            "client-auth-method-mismatch",
            f"This client is registered for token_endpoint_auth_method={registered} but "
            f"authenticated with {method}.",
            headers=_BASIC_CHALLENGE,
        )
    check = CLIENT_AUTH_METHODS.get(registered)
    if check is None:
        raise OAuthError(
            "client-auth-method-mismatch",
            f"token_endpoint_auth_method={registered} is registered for this client but not "
            "supported by this server yet; register client_secret_basic, client_secret_post "
            "or none.",
        )
    await check(client, secret)
    return client
