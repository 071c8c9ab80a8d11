"""/admin/api/apis: list, create, show, change, delete APIs (resource servers)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response

from keystead.protocol.admin_auth import ADMIN_API_PATH
from keystead.protocol.tokens import ActiveToken
from keystead.services import apis as service
from keystead.services.apis import ApiSpec, api_view
from keystead.web.admin import schema
from keystead.web.admin.common import (
    actor,
    admin_endpoint,
    json_body,
    listing,
    no_content,
    parse_body,
)

if TYPE_CHECKING:
    from keystead.provider import Provider


@admin_endpoint
async def apis(request: Request, provider: Provider, caller: ActiveToken) -> Response:
    if request.method == "GET":
        items = await service.list_all(provider)
        return listing(request, items, lambda a: (a.created_at, a.api_id), api_view)
    body = await parse_body(request, schema.ApiCreate)
    spec = ApiSpec(
        identifier=body.identifier,
        name=body.name,
        scopes=list(body.scopes.items()),
        token_format=body.token_format,
        access_token_ttl=body.access_token_ttl,
        with_secret=body.with_secret,
        self_registration_scopes=body.self_registration_scopes,
        authorization_details_types=body.authorization_details_types,
    )
    api, secret = await service.create(provider, spec, actor(caller))
    view = api_view(api)
    if secret is not None:
        view["api_secret"] = secret
    return json_body(view, 201, provider.settings.url(f"{ADMIN_API_PATH}/apis/{api.api_id}"))


@admin_endpoint
async def api_item(request: Request, provider: Provider, caller: ActiveToken) -> Response:
    api_id = request.path_params["api_id"]
    api = await service.get(provider, api_id)
    if request.method == "GET":
        return json_body(api_view(api))
    if request.method == "DELETE":
        await service.delete(provider, api, actor(caller))
        return no_content()
    body = await parse_body(request, schema.ApiUpdate)
    updated, secret = await service.update(
        provider,
        api,
        actor(caller),
        name=body.name,
        scopes=None if body.scopes is None else list(body.scopes.items()),
        token_format=body.token_format,
        access_token_ttl=body.access_token_ttl,
        rotate_secret=body.rotate_secret,
        self_registration_scopes=body.self_registration_scopes,
        authorization_details_types=body.authorization_details_types,
    )
    view = api_view(updated)
    if secret is not None:
        view["api_secret"] = secret
    return json_body(view)
