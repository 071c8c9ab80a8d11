"""Where the authorization request's parameters come from, before the ordered checks of
protocol/authorize.py run: the query (or form) itself, a pushed request (RFC 9126 §4), or a
request object by value or by reference (RFC 9101 §5)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from keystead.errors import OAuthError
from keystead.protocol import fapi, jar, par
from keystead.protocol.request import OAuthRequest

if TYPE_CHECKING:
    from keystead.provider import Provider


def par_required(provider: Provider, client_extra: dict[str, object]) -> bool:
    return provider.settings.require_par or bool(client_extra.get(par.REQUIRE))


async def resolve(req: OAuthRequest, provider: Provider) -> OAuthRequest:
    """The effective request; ``req`` when it carries neither request nor request_uri and
    the client need not push its requests."""
    request, request_uri = req.get("request"), req.get("request_uri")
    client_id = req.get("client_id")
    if client_id is None:
        return req  # check_client says client_id is missing
    client = await provider.get_client(client_id)
    if client is None:
        return req  # check_client says it is unknown
    pushed = request_uri is not None and request_uri.startswith(par.REQUEST_URI_PREFIX)
    fapi.check_pushed(client, pushed)  # FAPI 2.0 §5.3.2.2: PAR only
    if not pushed and par_required(provider, client.extra):
        # RFC 9126 §5 (server-wide) and §6 (this client): only pushed requests.
        rule = (
            "this server requires pushed authorization requests (KEYSTEAD_REQUIRE_PAR)"
            if provider.settings.require_par
            else f"this client is registered with {par.REQUIRE}"
        )
        raise OAuthError(
            "par-required",
            f"The authorization request must come through /par: {rule}. Push the "
            "parameters to /par and send only client_id and the request_uri here.",
        )
    if request is not None and request_uri is not None:
        raise OAuthError(
            "request-both", "request and request_uri were both sent; send one (RFC 9101 §5)."
        )
    req.refuse_duplicates(("client_id", "request", "request_uri"))
    if pushed:
        return await par.take(req, client_id, provider)
    if request_uri is not None:
        request = await jar.fetch(client, request_uri, provider)
    if request is not None:
        return await jar.from_object(req, client, request, provider)
    return req
