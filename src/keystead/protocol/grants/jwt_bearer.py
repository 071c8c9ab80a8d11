"""The JWT bearer authorization grant (RFC 7523 §2.1, §3): a JWT signed by a trusted outside
issuer stands for the authorization of the user it names; keystead issues an access token for
the local user the subject maps to (protocol/trusted_jwt.py checks the JWT).

No refresh token: the assertion is the grant, and the client gets a new one from its issuer
when the access token expires (RFC 7521 §4.1 makes the assertion the only authorization; a
refresh token would outlive it and keep working after the issuer stopped vouching for the
user, e.g. a disabled account there).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from keystead.errors import OAuthError
from keystead.protocol import scopes, trusted_jwt
from keystead.protocol.grants.subject_token import issue
from keystead.protocol.request import OAuthRequest
from keystead.protocol.resources import select_api, token_scopes
from keystead.store.base import Client

if TYPE_CHECKING:
    from keystead.provider import Provider

GRANT_TYPE = "urn:ietf:params:oauth:grant-type:jwt-bearer"
PARAMETERS = ("assertion", "scope", "resource")


async def _handle(req: OAuthRequest, client: Client, provider: Provider) -> dict[str, Any]:
    if client.is_public:
        raise OAuthError(
            "assertion-grant-public-client",
            "The JWT bearer grant needs a confidential client: a trusted issuer names the "
            "clients that may present its JWTs, so the client must authenticate.",
        )
    assertion = req.require("assertion")  # RFC 7523 §2.1: exactly one JWT
    jwt = await trusted_jwt.verify(provider, client, assertion, "assertion", assertion=True)
    permitted = scopes.parse(client.scope)
    requested = scopes.parse(req.get("scope"))
    # RFC 7521 §4.1: the scope is at most what the client may have; no refresh token, so
    # offline_access means nothing here.
    wider = [s for s in requested if s not in permitted]
    if wider:
        raise OAuthError(
            "assertion-grant-scope",
            f"scope {' '.join(wider)} is not one this client may request; it may request: "
            f"{client.scope or 'none'}.",
        )
    wanted = tuple(s for s in (requested or permitted) if s != scopes.OFFLINE_ACCESS)
    index = await provider.apis()
    api = select_api(
        index, client=client, requested=req.get("resource"), granted_resources=(), scopes=wanted
    )
    token = await issue(
        provider, client, sub=jwt.sub, scope=token_scopes(wanted, api, index), api=api
    )
    provider.events.emit(
        "jwt_bearer.used",
        client_id=client.client_id,
        issuer=jwt.issuer.issuer,
        sub=jwt.sub,
        aud=api.identifier if api else None,
    )
    return {
        "access_token": token.value,
        "token_type": "Bearer",
        "expires_in": token.expires_in,
        "scope": token.scope,
    }


async def handle(req: OAuthRequest, client: Client, provider: Provider) -> dict[str, Any]:
    try:
        return await _handle(req, client, provider)
    except OAuthError as exc:
        provider.events.emit(
            "jwt_bearer.refused", client_id=client.client_id, catalog_id=exc.catalog_id
        )
        raise
