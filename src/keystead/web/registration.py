"""/register (RFC 7591) and /register/{client_id} (RFC 7592): parse -> service -> render.

services/registration.py runs each operation: protocol/registration.py's RFC rules around the
same client operations the CLI and the admin API call."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response

from keystead.errors import OAuthError
from keystead.protocol.registration import Registered
from keystead.protocol.request import OAuthRequest
from keystead.services import registration
from keystead.web import render
from keystead.web.parse import BodyError, build_request, read_json

if TYPE_CHECKING:
    from keystead.provider import Provider


async def _metadata(request: Request) -> Any:
    try:
        return await read_json(request)
    except BodyError as exc:
        raise OAuthError("registration-metadata-invalid", str(exc)) from None


def bearer_request(request: Request) -> OAuthRequest:
    """The request as protocol/registration.py reads it: the bearer token, no parameters."""
    return build_request(
        request.method,
        [],
        authorization=request.headers.get("authorization"),
        client=request.scope.get("client"),
        origin=request.headers.get("origin", ""),
    )


async def _respond(
    request: Request, work: Callable[[Provider], Awaitable[Registered | None]]
) -> Response:
    async def respond() -> Response:
        result = await work(request.app.state.provider)
        if result is None:
            return Response(status_code=204, headers=render.NO_STORE)  # RFC 7592 §2.3
        # RFC 7591 §3.2.1: the response carries secrets; it must not be cached.
        return render.json_response(result.body, status=result.status, headers=render.NO_STORE)

    return await render.guarded(request, respond, kind="json")


async def register(request: Request) -> Response:
    async def work(provider: Provider) -> Registered:
        req = bearer_request(request)
        return await registration.register(req, lambda: _metadata(request), provider)

    return await _respond(request, work)


async def manage(request: Request) -> Response:
    client_id = request.path_params["client_id"]

    async def work(provider: Provider) -> Registered | None:
        req = bearer_request(request)
        if request.method == "GET":
            return await registration.read(req, client_id, provider)
        if request.method == "PUT":
            return await registration.replace(req, client_id, lambda: _metadata(request), provider)
        await registration.delete(req, client_id, provider)
        return None

    return await _respond(request, work)
