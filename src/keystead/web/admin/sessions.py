"""/admin/api/users/{sub}/sessions: where a user is signed in, and signing them out — all
sessions or one by sid (services/sessions.py, the same operations as ``keystead user
sessions`` and ``user logout``). An unknown sub, or a sid not the user's, is a 404."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response

from keystead.protocol.tokens import ActiveToken
from keystead.services import sessions as service
from keystead.web.admin.common import actor, admin_endpoint, json_body, no_content

if TYPE_CHECKING:
    from keystead.provider import Provider


@admin_endpoint
async def sessions(request: Request, provider: Provider, caller: ActiveToken) -> Response:
    sub = request.path_params["sub"]
    if request.method == "DELETE":
        ended = await service.end_all(provider, sub, actor(caller))
        return json_body({"sub": sub, "ended": ended})
    return json_body({"sub": sub, "sessions": await service.list_sessions(provider, sub)})


@admin_endpoint
async def session_item(request: Request, provider: Provider, caller: ActiveToken) -> Response:
    sub, sid = request.path_params["sub"], request.path_params["sid"]
    await service.end_session(provider, sub, sid, actor(caller))
    return no_content()
