"""The client_credentials grant (RFC 6749 §4.4): a confidential client calling an API as
itself. No refresh token (§4.4.3); ``sub`` is the client in its own namespace (RFC 9068 §2.2)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from keystead.errors import OAuthError
from keystead.protocol import rar, rar_tokens, scopes
from keystead.protocol.request import OAuthRequest
from keystead.protocol.resources import default_api, select_api
from keystead.protocol.tokens import TokenRequest, issue_access_token
from keystead.store.base import Client

if TYPE_CHECKING:
    from keystead.provider import Provider

GRANT_TYPE = "client_credentials"
PARAMETERS = ("scope", "resource", rar.PARAMETER)
CLIENT_SUB_PREFIX = "client:"  # user subs are base64url: they can never contain ':'


def client_sub(client_id: str) -> str:
    return CLIENT_SUB_PREFIX + client_id


async def handle(req: OAuthRequest, client: Client, provider: Provider) -> dict[str, Any]:
    if client.is_public:
        raise OAuthError(
            "client-credentials-public",
            "client_credentials needs a confidential client; this one has no secret.",
        )
    index = await provider.apis()
    permitted = [s for s in scopes.parse(client.scope) if s in index.by_scope]
    requested = scopes.parse(req.get("scope"))
    resource = req.get("resource")
    if requested:
        # RFC 6749 §3.3: grant what the client may have; refuse only if nothing is left.
        wanted = tuple(s for s in requested if s in permitted)
        if not wanted:
            raise OAuthError(
                "scope-invalid",
                f"None of the requested scopes ({' '.join(requested)}) is an API scope this "
                f"client may request; it may request: {' '.join(permitted) or 'none'}.",
            )
    else:
        wanted = tuple(permitted)
    # RFC 9396 §6: details of the types of the APIs this client may use.
    asked = req.get(rar.PARAMETER)
    details = None if asked is None else rar_tokens.for_client(asked, client, index)
    # Without a scope, the API is the resource, else the API of the details, else the
    # client's default API, else the one API owning the scopes the client may have.
    infer_from = wanted if requested or default_api(client, index) is None else ()
    api = None
    if details is not None and resource is None and not requested:
        api = rar_tokens.api_of(details, index)
    if api is None:
        api = select_api(
            index, client=client, requested=resource, granted_resources=(), scopes=infer_from
        )
    if api is None:
        raise OAuthError(
            "client-credentials-no-api",
            "No API follows from this request: send resource= (an API identifier) or a scope "
            "of one API.",
        )
    if details is not None:
        rar_tokens.check_api(details, api)
    names = api.scope_names
    scope = scopes.join([s for s in wanted if s in names])
    treq = TokenRequest(client, client_sub(client.client_id), scope, api, None, details=details)
    token = await issue_access_token(provider, treq)
    body = {
        "access_token": token.value,
        "token_type": "Bearer",
        "expires_in": token.expires_in,
        "scope": token.scope,
    }
    if details is not None:
        body[rar.PARAMETER] = list(details)  # RFC 9396 §7
    return body
