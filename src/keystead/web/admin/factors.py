"""/admin/api/users/{sub}/factors: list a user's second factors, reset them, import a TOTP
secret (services/factors.py, the same operations as ``keystead user mfa`` and ``user totp``)."""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response

from keystead.protocol.admin_auth import ADMIN_API_PATH
from keystead.protocol.tokens import ActiveToken
from keystead.services import factors as service
from keystead.web.admin import schema
from keystead.web.admin.common import actor, admin_endpoint, json_body, parse_body

if TYPE_CHECKING:
    from keystead.provider import Provider


@admin_endpoint
async def factors(request: Request, provider: Provider, caller: ActiveToken) -> Response:
    sub = request.path_params["sub"]
    if request.method == "DELETE":
        removed = await service.reset_factors(provider, sub, actor(caller))
        return json_body({"sub": sub, "removed": asdict(removed)})
    return json_body(await service.list_factors(provider, sub))


@admin_endpoint
async def totp(request: Request, provider: Provider, caller: ActiveToken) -> Response:
    sub = request.path_params["sub"]
    body = await parse_body(request, schema.TotpImport)
    factor = await service.import_totp(provider, sub, body.secret, body.name, actor(caller))
    location = provider.settings.url(f"{ADMIN_API_PATH}/users/{sub}/factors")
    return json_body(service.factor_view(factor), 201, location)
