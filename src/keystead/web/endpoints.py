"""Token, UserInfo, discovery and JWKS endpoints: parse -> protocol -> render."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response

from keystead.errors import OAuthError
from keystead.protocol import introspection, revocation
from keystead.protocol.encrypted_responses import JWT_MEDIA_TYPE, userinfo_jwt
from keystead.protocol.request import OAuthRequest
from keystead.protocol.token import token_endpoint
from keystead.protocol.userinfo import userinfo_for
from keystead.web import cors, render
from keystead.web.parse import oauth_request

if TYPE_CHECKING:
    from keystead.provider import Provider


def _provider(request: Request) -> Provider:
    provider: Provider = request.app.state.provider
    return provider


async def _json_endpoint(
    request: Request,
    work: Callable[[Provider], Awaitable[dict[str, Any]]],
    headers: dict[str, str],
) -> Response:
    async def respond() -> Response:
        return render.json_response(await work(_provider(request)), headers=headers)

    # A request refused for its origin gets no CORS headers (cors.note_error).
    return await render.guarded(request, respond, kind="json", on_error=cors.note_error)


async def token(request: Request) -> Response:
    async def work(provider: Provider) -> dict[str, Any]:
        req = await oauth_request(request, body=True)
        return await token_endpoint(req, provider)

    # RFC 6749 §5.1: token responses must not be cached.
    return await _json_endpoint(request, work, render.NO_STORE)


# The token endpoint's work for its direct lane (web/table.py): the protocol function
# itself, no wrapper around it.
token_direct = token_endpoint


async def introspect_direct(req: OAuthRequest, provider: Provider) -> dict[str, Any]:
    """Introspection's JSON answer for the direct lane; a JWT answer takes ``introspect``."""
    _, body = await introspection.introspect(req, provider)
    return body


def wants_jwt(headers: dict[bytes, bytes]) -> bool:
    return introspection.JWT_MEDIA_TYPE.encode() in headers.get(b"accept", b"")


async def revoke(request: Request) -> Response:
    async def work(provider: Provider) -> dict[str, Any]:
        await revocation.revoke(await oauth_request(request, body=True), provider)
        return {}

    # RFC 7009 §2.2: 200 with an empty body, also for unknown tokens.
    response = await _json_endpoint(request, work, render.NO_STORE)
    if response.status_code == 200:
        return Response(status_code=200, headers=render.NO_STORE)
    return response


async def introspect(request: Request) -> Response:
    async def respond() -> Response:
        provider = _provider(request)
        caller, body = await introspection.introspect(
            await oauth_request(request, body=True), provider
        )
        if introspection.JWT_MEDIA_TYPE in request.headers.get("accept", ""):
            token = await introspection.as_jwt(provider, caller, body)
            return Response(token, media_type=introspection.JWT_MEDIA_TYPE, headers=render.NO_STORE)
        return render.json_response(body, headers=render.NO_STORE)

    return await render.guarded(request, respond, kind="json")


async def userinfo(request: Request) -> Response:
    async def respond() -> Response:
        provider = _provider(request)
        # OIDC Core §5.3.1: GET and POST; the token travels in the Authorization header.
        body = request.method == "POST" and bool(request.headers.get("content-type"))
        req = await oauth_request(request, body=body)
        client, claims = await userinfo_for(req, provider)
        # OIDC Core §5.3.2: signed and/or encrypted for a client that registered it.
        token = await userinfo_jwt(provider, client, claims)
        if token is not None:
            return Response(token, media_type=JWT_MEDIA_TYPE, headers=render.NO_STORE)
        return render.json_response(claims, headers=render.NO_STORE)

    return await render.guarded(request, respond, kind="json", on_error=cors.note_error)


async def discovery_document(app: Any) -> tuple[bytes, int]:
    """The discovery document and its max-age: for ``discovery`` and for its document lane
    (web/table.py), so both send the same."""
    cached: bytes = app.state.discovery_bytes
    # RFC 9396 §10: the authorization_details types the APIs registered (APIs change at run
    # time; the document with them is rebuilt when they do).
    index = await app.state.provider.apis()
    types = sorted({t for api in index.by_id.values() for t in api.authorization_details_types})
    if not types:
        return cached, 3600
    with_types = getattr(app.state, "discovery_rar", None)
    if with_types is None or with_types[0] != types:
        document = json.loads(cached)
        document["authorization_details_types_supported"] = types
        with_types = app.state.discovery_rar = (types, discovery_bytes(document))
    return with_types[1], 3600


async def discovery(request: Request) -> Response:
    return render.document(*await discovery_document(request.app))


async def jwks_document(app: Any) -> tuple[bytes, int]:
    """The JWKS and its max-age: for ``jwks`` and for its document lane, where an exception
    becomes the lane's JSON 500."""
    provider: Provider = app.state.provider
    return await provider.jwks_bytes(), provider.settings.jwks_max_age


async def jwks(request: Request) -> Response:
    provider = _provider(request)
    cid = render.correlation_id()
    try:
        body, max_age = await jwks_document(request.app)
    except Exception as exc:  # noqa: BLE001
        return render.internal_error(exc, provider, kind="json", cid=cid)
    return render.document(body, max_age)


def discovery_bytes(metadata: dict[str, Any]) -> bytes:
    return render.json_body(metadata)


async def method_not_allowed(request: Request, exc: Exception) -> Response:
    provider = _provider(request)
    allow = getattr(exc, "headers", None) or {}
    err = OAuthError(
        "method-not-allowed",
        f"{request.method} is not allowed on {request.scope['path']}; use "
        f"{allow.get('Allow', 'another method')}.",
        headers=dict(allow),
    )
    return render.render_error(
        err,
        provider,
        kind="json",
        cid=render.correlation_id(),
        context=render.request_context(request),
    )
