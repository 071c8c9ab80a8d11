"""/admin/api/trusted-issuers: list, create, show, delete trusted JWT issuers (RFC 7523
grants, RFC 8693 token exchange)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response

from keystead.protocol.admin_auth import ADMIN_API_PATH
from keystead.protocol.tokens import ActiveToken
from keystead.services import trusted_issuers as service
from keystead.services.trusted_issuers import TrustedIssuerSpec, view
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
async def trusted_issuers(request: Request, provider: Provider, caller: ActiveToken) -> Response:
    if request.method == "GET":
        items = await service.list_all(provider)
        return listing(request, items, lambda i: (i.created_at, i.issuer_id), view)
    body = await parse_body(request, schema.TrustedIssuerCreate)
    spec = TrustedIssuerSpec(
        issuer=body.issuer,
        jwks_uri=body.jwks_uri,
        jwks=body.jwks,
        subject_claim=body.subject_claim,
        subject_mapping=body.subject_mapping,
        allowed_client_ids=body.allowed_client_ids,
        verifies_email=body.verifies_email,
    )
    issuer = await service.create(provider, spec, actor(caller))
    location = provider.settings.url(f"{ADMIN_API_PATH}/trusted-issuers/{issuer.issuer_id}")
    return json_body(view(issuer), 201, location)


@admin_endpoint
async def trusted_issuer_item(
    request: Request, provider: Provider, caller: ActiveToken
) -> Response:
    issuer = await service.get(provider, request.path_params["issuer_id"])
    if request.method == "DELETE":
        await service.delete(provider, issuer, actor(caller))
        return no_content()
    return json_body(view(issuer))
