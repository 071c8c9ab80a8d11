"""The device authorization endpoint (RFC 8628 §3.1): parse -> protocol -> render."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response

from keystead.protocol.device_authorization import device_authorization as authorize_device
from keystead.web import render
from keystead.web.parse import oauth_request

if TYPE_CHECKING:
    from keystead.provider import Provider


async def device_authorization(request: Request) -> Response:
    async def respond() -> Response:
        provider: Provider = request.app.state.provider
        body = await authorize_device(await oauth_request(request, body=True), provider)
        # RFC 8628 §3.2 with RFC 6749 §5.1: the codes must not be cached.
        return render.json_response(body, headers=render.NO_STORE)

    return await render.guarded(request, respond, kind="json")
