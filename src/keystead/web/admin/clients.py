"""/admin/api/clients: list, create, show, change, delete, rotate the secret."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response

from keystead.protocol import jar_metadata, mtls_metadata
from keystead.protocol.admin_auth import ADMIN_API_PATH
from keystead.protocol.tokens import ActiveToken
from keystead.services import clients as service
from keystead.services.client_policy import POLICY
from keystead.services.clients import DESCRIPTIVE_METADATA, ClientSpec, operator_view, spec_of
from keystead.web.admin import schema
from keystead.web.admin.common import (
    FieldErrors,
    actor,
    admin_endpoint,
    json_body,
    no_content,
    page_listing,
    parse_body,
)

if TYPE_CHECKING:
    from keystead.provider import Provider

_NULLABLE = schema.CLIENT_NULLABLE
_LISTS = schema.CLIENT_LISTS


def _apply(spec: ClientSpec, changes: dict[str, Any]) -> ClientSpec:
    """The body's members onto ``spec``: null removes an optional member."""
    errors = []
    for name, value in changes.items():
        if name in DESCRIPTIVE_METADATA:
            if value is None:
                spec.metadata.pop(name, None)
            else:
                spec.metadata[name] = value
        elif name in jar_metadata.NAMES:  # RFC 9101, RFC 9126 §6, JARM
            if value is None:
                spec.jar_metadata.pop(name, None)
            else:
                spec.jar_metadata[name] = value
        elif name in mtls_metadata.NAMES:  # RFC 8705
            if value is None:
                spec.mtls_metadata.pop(name, None)
            else:
                spec.mtls_metadata[name] = value
        elif value is None and name in _LISTS:
            setattr(spec, name, [])
        elif value is None and name not in _NULLABLE:
            errors.append({"field": name, "message": "must not be null"})
        else:
            setattr(spec, name, value)
    if errors:
        raise FieldErrors(errors)
    return spec


def _policy(changes: dict[str, Any]) -> dict[str, Any]:
    """The operator's policy (services/client_policy.py) is no client metadata: its rows
    are taken out of the body's members."""
    policy = {name: changes.pop(name) for name in POLICY if name in changes}
    nulls = [
        {"field": n, "message": "must not be null"}
        for n, v in policy.items()
        if v is None and POLICY[n].default is not None
    ]
    if nulls:
        raise FieldErrors(nulls)
    return policy


def _location(provider: Provider, client_id: str) -> str:
    return provider.settings.url(f"{ADMIN_API_PATH}/clients/{client_id}")


@admin_endpoint
async def clients(request: Request, provider: Provider, caller: ActiveToken) -> Response:
    if request.method == "GET":
        return await page_listing(
            request,
            partial(service.list_all, provider),
            lambda c: (c.created_at, c.client_id),
            operator_view,
        )
    body = await parse_body(request, schema.ClientCreate)
    changes = body.model_dump(exclude_unset=True)
    policy = _policy(changes)
    spec = _apply(ClientSpec(client_name=changes.pop("client_name"), redirect_uris=[]), changes)
    client, secret = await service.create(provider, spec, actor(caller), policy=policy)
    view = operator_view(client)
    if secret is not None:
        view["client_secret"] = secret
        view["client_secret_expires_at"] = 0
    return json_body(view, 201, _location(provider, client.client_id))


@admin_endpoint
async def client_item(request: Request, provider: Provider, caller: ActiveToken) -> Response:
    client_id = request.path_params["client_id"]
    if request.method == "DELETE":
        await service.delete(provider, client_id, actor(caller))
        return no_content()
    client = await service.get(provider, client_id)
    if request.method == "GET":
        return json_body(operator_view(client))
    body = await parse_body(request, schema.ClientUpdate)
    changes = body.model_dump(exclude_unset=True)
    policy = _policy(changes)
    spec = _apply(spec_of(client), changes)
    updated, secret = await service.update(provider, client, spec, actor(caller), policy=policy)
    view = operator_view(updated)
    if secret is not None:  # the new method needed a secret the client did not have
        view["client_secret"] = secret
    return json_body(view)


@admin_endpoint
async def client_secret(request: Request, provider: Provider, caller: ActiveToken) -> Response:
    client_id = request.path_params["client_id"]
    _, secret = await service.rotate_secret(provider, client_id, actor(caller))
    return json_body(
        {"client_id": client_id, "client_secret": secret, "client_secret_expires_at": 0}
    )
