"""The backchannel authentication endpoint (CIBA Core 1.0 §7.1): parse -> protocol -> render."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response

from keystead.protocol.ciba import backchannel_authentication
from keystead.web import render
from keystead.web.parse import oauth_request

if TYPE_CHECKING:
    from keystead.provider import Provider


async def bc_authorize(request: Request) -> Response:
    async def respond() -> Response:
        provider: Provider = request.app.state.provider
        body = await backchannel_authentication(await oauth_request(request, body=True), provider)
        # CIBA §7.3 with RFC 6749 §5.1: the auth_req_id must not be cached.
        return render.json_response(body, headers=render.NO_STORE)

    return await render.guarded(request, respond, kind="json")
