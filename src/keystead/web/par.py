"""The pushed authorization request endpoint (RFC 9126 §2): parse -> protocol -> render."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response

from keystead.protocol.par import push
from keystead.web import render
from keystead.web.parse import oauth_request

if TYPE_CHECKING:
    from keystead.provider import Provider


async def par(request: Request) -> Response:
    async def respond() -> Response:
        provider: Provider = request.app.state.provider
        body = await push(await oauth_request(request, body=True), provider)
        # RFC 9126 §2.2: 201 Created; the request_uri must not be cached (RFC 6749 §5.1).
        return render.json_response(body, status=201, headers=render.NO_STORE)

    return await render.guarded(request, respond, kind="json")
