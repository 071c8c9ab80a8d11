"""/admin/api/users: list, create, show, change, delete end-user accounts."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response

from keystead.protocol.admin_auth import ADMIN_API_PATH
from keystead.protocol.tokens import ActiveToken
from keystead.services import users as service
from keystead.store.base import User
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


def user_view(user: User) -> dict[str, Any]:
    """A user as the admin API shows it (never the password hash)."""
    return {
        **service.user_view(user),
        "given_name": user.given_name,
        "family_name": user.family_name,
        "profile": dict(user.profile),
        "updated_at": user.updated_at,
    }


@admin_endpoint
async def users(request: Request, provider: Provider, caller: ActiveToken) -> Response:
    if request.method == "GET":
        return await page_listing(
            request,
            partial(service.list_all, provider),
            lambda u: (u.created_at, u.sub),
            user_view,
        )
    body = await parse_body(request, schema.UserCreate)
    user = await service.create(
        provider,
        body.username,
        body.password,
        actor(caller),
        email=body.email,
        email_verified=body.email_verified,
        name=body.name,
        given_name=body.given_name,
        family_name=body.family_name,
        profile=body.profile,
    )
    location = provider.settings.url(f"{ADMIN_API_PATH}/users/{user.sub}")
    return json_body(user_view(user), 201, location)


@admin_endpoint
async def user_item(request: Request, provider: Provider, caller: ActiveToken) -> Response:
    sub = request.path_params["sub"]
    if request.method == "DELETE":
        await service.delete(provider, sub, actor(caller))
        return no_content()
    user = await service.get(provider, sub)
    if request.method == "GET":
        return json_body(user_view(user))
    body = await parse_body(request, schema.UserUpdate)
    changes = body.model_dump(exclude_unset=True)
    nulls = [n for n in schema.USER_NOT_NULL if n in changes and changes[n] is None]
    if nulls:
        raise FieldErrors([{"field": n, "message": "must not be null"} for n in nulls])
    if "profile" in changes and changes["profile"] is None:
        changes["profile"] = {}
    disabled = changes.pop("disabled", None)
    updated = await service.update(provider, user, changes, actor(caller)) if changes else user
    if disabled is not None:
        updated = await service.set_disabled(provider, updated, disabled, actor(caller))
    return json_body(user_view(updated))
