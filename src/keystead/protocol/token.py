"""The token endpoint (RFC 6749 §3.2): authenticate the client, dispatch to the grant."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from keystead.errors import OAuthError
from keystead.protocol import client_auth, dpop, mtls
from keystead.protocol.client_auth import authenticate_client
from keystead.protocol.grants import GRANTS
from keystead.protocol.origins import check_origin
from keystead.protocol.request import OAuthRequest

if TYPE_CHECKING:
    from keystead.provider import Provider

_COMMON = ("grant_type", *client_auth.PARAMETERS, "scope")


@functools.lru_cache(maxsize=64)
def _declared(parameters: tuple[str, ...]) -> frozenset[str]:
    """What a grant's requests may carry: the common parameters and the grant's own."""
    return frozenset((*_COMMON, *parameters))


async def token_endpoint(req: OAuthRequest, provider: Provider) -> dict[str, Any]:
    req.refuse_duplicates(("grant_type",))
    grant_type = req.require("grant_type")
    grant = GRANTS.get(grant_type)
    if grant is None:
        raise OAuthError(
            "grant-type-unsupported",
            f"grant_type {grant_type} is not supported; supported: {', '.join(GRANTS)}.",
        )
    # Only the parameters this grant declares reach it; duplicates among them are refused.
    declared = _declared(tuple(grant.PARAMETERS))
    req.refuse_duplicates(declared)
    if len(req.multi.get("resource", ())) > 1 and len(req.get_all("resource")) > 1:
        raise OAuthError(
            "resource-ambiguous",
            "resource was sent more than once; a token request picks one API (RFC 8707 §2.2).",
        )
    if not declared.issuperset(req.params):
        params = {name: value for name, value in req.params.items() if name in declared}
        req = OAuthRequest(
            method=req.method,
            params=params,
            authorization=req.authorization,
            remote_addr=req.remote_addr,
            headers=req.headers,
            client_cert=req.client_cert,
        )
    client = await authenticate_client(req, provider, endpoint="/token")
    # Before the grant runs: a refused browser origin must not burn a code or rotate a token.
    check_origin(req, client, provider)
    if grant_type not in client.grant_types:
        raise OAuthError(
            "grant-type-not-allowed",
            f"This client is not registered for grant_type {grant_type}; its grant types are: "
            f"{', '.join(client.grant_types) or 'none'}.",
        )
    result: dict[str, Any]
    handle = grant.handle
    if mtls.required(client):  # RFC 8705 §3: tokens bound to the client certificate
        handle = mtls.bound_handler(req, client, handle)
    if "dpop" in req.headers or dpop.required(client):  # RFC 9449 §5: sender-constrained
        result = await dpop.token_request(req, client, provider, handle)
    else:
        result = await handle(req, client, provider)
    provider.events.emit("token.granted", grant_type=grant_type, client_id=client.client_id)
    return result
