"""/admin/api/users/{sub}/oauth1-tokens and /admin/api/oauth1-tokens/{token_id}: the OAuth
1.0a token credentials a user approved, and revoking one (services/oauth1.py, the same
operations as ``keystead oauth1 tokens`` / ``oauth1 revoke``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response

from keystead.protocol.tokens import ActiveToken
from keystead.services import oauth1 as service
from keystead.web.admin.common import actor, admin_endpoint, json_body

if TYPE_CHECKING:
    from keystead.provider import Provider


@admin_endpoint
async def tokens(request: Request, provider: Provider, caller: ActiveToken) -> Response:
    sub = request.path_params["sub"]
    return json_body({"sub": sub, "tokens": await service.list_tokens(provider, sub)})


@admin_endpoint
async def token_item(request: Request, provider: Provider, caller: ActiveToken) -> Response:
    token_id = request.path_params["token_id"]
    return json_body(await service.revoke(provider, token_id, actor(caller)))
