"""What the user-grant token responses share: pick the API, issue the access token, and the
ID token when openid was granted. Nothing is stored here: the response carries the records,
which the grant writes with its one store call."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

from keystead.protocol import rar, refresh, scopes
from keystead.protocol.acr import AMR_PASSWORD
from keystead.protocol.claims import requested_names, user_claims
from keystead.protocol.id_token import make_id_token
from keystead.protocol.resources import select_api, token_scopes
from keystead.protocol.tokens import TokenRequest, new_access_token
from keystead.secrets_util import random_id
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
    details: tuple[dict[str, Any], ...] | None = None,
) -> TokenResponse:
    """The token response for ``grant``: the body, and the records the caller must store.
    ``details``: authorization_details narrowed by the token request (RFC 9396 §6.1)."""
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
        TokenRequest(
            client, grant.sub, scope, api, grant, auth_time=grant.auth_time, details=details
        ),
    )
    body: dict[str, Any] = {
        "access_token": access.value,
        "token_type": "Bearer",
        "expires_in": access.expires_in,
        "scope": access.scope,  # RFC 6749 §5.1: the scope of this access token
    }
    if details is not None:  # RFC 9396 §7: the details of this token
        body[rar.PARAMETER] = list(details)
    elif rar.PARAMETER in grant.claims:  # RFC 9396 §7: the details granted
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


async def issue_approved(
    provider: Provider,
    client: Client,
    *,
    sub: str,
    scope: str,
    auth_time: int | None,
    sid: str | None,
    acr: str | None,
    amr: tuple[str, ...],
    details: tuple[dict[str, Any], ...] | None = None,
) -> dict[str, Any]:
    """The tokens of a request the user approved elsewhere (the device grant's /device, CIBA's
    account page): a new grant with the approving sign-in's auth_time, sid, acr and amr, its
    access (and ID) token, and a refresh token when the client and scope allow one.
    ``details``: the authorization_details the user approved there (RFC 9396), kept with
    the grant as /authorize keeps them."""
    now = provider.now()
    grant = Grant(
        random_id(), client.client_id, sub, scope, now,
        auth_time=auth_time, sid=sid, acr=acr, amr=amr,
        claims={} if details is None else {rar.PARAMETER: list(details)},
    )  # fmt: skip
    requested = scopes.parse(scope)
    issued = await token_response(provider, client, grant, requested, resource=None, nonce=None)
    grants = provider.store.grants
    await grants.add_grant(grant)
    for record in issued.access_tokens:
        await grants.add_access_token(record)
    if refresh.should_issue(client, scope):
        issued.body["refresh_token"], first = refresh.new_token(provider, grant, scope, now)
        await grants.add_refresh_token(first)
    return issued.body
