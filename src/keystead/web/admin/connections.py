"""/admin/api/connections: list, create, show, change, delete upstream identity providers
(issue 22) through services/connections.py, as the CLI does. The client secret goes in,
never out."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response

from keystead.protocol.admin_auth import ADMIN_API_PATH
from keystead.protocol.tokens import ActiveToken
from keystead.services import connections as service
from keystead.services.connections import ConnectionSpec
from keystead.store.connections import GITHUB, OIDC
from keystead.web.admin.common import (
    FieldErrors,
    actor,
    admin_endpoint,
    json_body,
    listing,
    no_content,
    parse_body,
)
from keystead.web.admin.connection_schema import ConnectionCreate, ConnectionUpdate

if TYPE_CHECKING:
    from keystead.provider import Provider


@admin_endpoint
async def connections(request: Request, provider: Provider, caller: ActiveToken) -> Response:
    if request.method == "GET":
        items = await service.list_all(provider)
        return listing(request, items, lambda c: (c.name,), lambda c: service.view(provider, c))
    body = await parse_body(request, ConnectionCreate)
    spec = ConnectionSpec(
        name=body.name,
        client_id=body.client_id,
        issuer=body.issuer,
        kind=GITHUB if body.preset == GITHUB else OIDC,
        display_name=body.display_name,
        scope=body.scope,
        auth_method=body.auth_method,
        jit=body.jit,
        link_by_verified_email=body.link_by_verified_email,
        enabled=body.enabled,
    )
    connection = await service.create(provider, spec, body.client_secret, actor(caller))
    location = provider.settings.url(f"{ADMIN_API_PATH}/connections/{connection.name}")
    return json_body(service.view(provider, connection), 201, location)


@admin_endpoint
async def connection_item(request: Request, provider: Provider, caller: ActiveToken) -> Response:
    name = request.path_params["name"]
    if request.method == "DELETE":
        await service.delete(provider, name, actor(caller))
        return no_content()
    if request.method == "GET":
        return json_body(service.view(provider, await service.get(provider, name)))
    body = await parse_body(request, ConnectionUpdate)
    changes = body.model_dump(exclude_unset=True)
    nulls = [{"field": k, "message": "must not be null"} for k, v in changes.items() if v is None]
    if nulls:
        raise FieldErrors(nulls)
    updated = await service.update(provider, name, changes, actor(caller))
    return json_body(service.view(provider, updated))
