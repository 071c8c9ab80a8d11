"""/admin/api/keys: list, create, rotate, show, retire signing keys."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response

from keystead.protocol.admin_auth import ADMIN_API_PATH
from keystead.protocol.tokens import ActiveToken
from keystead.services import keys as service
from keystead.services.common import Conflict, NotFound, ServiceError
from keystead.services.keys import key_view
from keystead.store.base import StoredKey
from keystead.web.admin import schema
from keystead.web.admin.common import (
    actor,
    admin_endpoint,
    field_error,
    json_body,
    listing,
    no_content,
    parse_body,
)

if TYPE_CHECKING:
    from keystead.provider import Provider


async def _rotate(
    provider: Provider, caller: ActiveToken, algs: list[str] | None, field: str
) -> list[StoredKey]:
    """The service's rotation; its ``algs`` named as this body's member (``alg`` or ``algs``)."""
    try:
        return await service.rotate(provider, actor(caller), algs)
    except (Conflict, NotFound):
        raise
    except ServiceError as exc:
        raise field_error(field, exc.message) from None


@admin_endpoint
async def keys(request: Request, provider: Provider, caller: ActiveToken) -> Response:
    now = provider.now()
    if request.method == "GET":
        items = await service.list_all(provider)
        return listing(request, items, lambda k: (k.created_at, k.kid), lambda k: key_view(k, now))
    body = await parse_body(request, schema.KeyCreate)
    (created,) = await _rotate(provider, caller, [body.alg], "alg")
    location = provider.settings.url(f"{ADMIN_API_PATH}/keys/{created.kid}")
    return json_body(key_view(created, now), 201, location)


@admin_endpoint
async def rotate(request: Request, provider: Provider, caller: ActiveToken) -> Response:
    body = await parse_body(request, schema.KeyRotate)
    created = await _rotate(provider, caller, body.algs, "algs")
    now = provider.now()
    return json_body([key_view(k, now) for k in created])


@admin_endpoint
async def key_item(request: Request, provider: Provider, caller: ActiveToken) -> Response:
    kid = request.path_params["kid"]
    if request.method == "GET":
        return json_body(key_view(await service.get(provider, kid), provider.now()))
    await service.retire(provider, kid, actor(caller))
    return no_content()
