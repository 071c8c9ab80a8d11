"""What the user-grant token responses share: pick the API, issue the access token, and the
ID token when openid was granted. Nothing is stored here: the response carries the records,
which the grant writes with its one store call."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

from keystead.protocol import rar, scopes
from keystead.protocol.acr import AMR_PASSWORD
from keystead.protocol.claims import requested_names, user_claims
from keystead.protocol.id_token import make_id_token
from keystead.protocol.resources import select_api, token_scopes
from keystead.protocol.tokens import TokenRequest, new_access_token
from keystead.store.base import AccessToken, Client, Grant

if TYPE_CHECKING:
    from keystead.provider import Provider


class TokenResponse(NamedTuple):
    """A token response body and the access-token records it issued, not yet stored."""

    body: dict[str, Any]
    access_tokens: tuple[AccessToken, ...]


async def token_response(
    provider: Provider,
    client: Client,
    grant: Grant,
    requested: tuple[str, ...],
    *,
    resource: str | None,
    nonce: str | None,
) -> TokenResponse:
    """The token response for ``grant``: the body, and the records the caller must store."""
    index = await provider.apis()
    api = select_api(
        index,
        client=client,
        requested=resource,
        granted_resources=grant.resources,
        scopes=requested,
    )
    scope = scopes.join(token_scopes(requested, api, index))
    access = await new_access_token(
        provider,
        TokenRequest(client, grant.sub, scope, api, grant, auth_time=grant.auth_time),
    )
    body: dict[str, Any] = {
        "access_token": access.value,
        "token_type": "Bearer",
        "expires_in": access.expires_in,
        "scope": access.scope,  # RFC 6749 §5.1: the scope of this access token
    }
    if rar.PARAMETER in grant.claims:  # RFC 9396 §7: the details granted
        body[rar.PARAMETER] = grant.claims[rar.PARAMETER]
    if "openid" in requested:
        names = requested_names(grant.claims, "id_token")
        extra: dict[str, Any] = {}
        if names:  # OIDC Core §5.5: claims asked for in the ID token itself
            user = await provider.store.users.get(grant.sub)
            extra = user_claims(user, (), names) if user else {}
        body["id_token"] = await make_id_token(
            provider,
            client,
            sub=grant.sub,
            auth_time=grant.auth_time or grant.created_at,
            nonce=nonce,
            sid=grant.sid,
            access_token=access.value,
            amr=grant.amr or (AMR_PASSWORD,),  # grants from before 0008 recorded none
            acr=grant.acr,
            extra=extra,
        )
    return TokenResponse(body, () if access.record is None else (access.record,))
