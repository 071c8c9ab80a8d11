"""The admin REST API under /admin/api: clients, APIs, users and signing keys.

Protected by keystead's own tokens (protocol/admin_auth.py: client_credentials, scope
keystead:admin, audience <issuer>/admin/api). Handlers parse the body with the pydantic models
of web/admin_schema.py and call the same services as the CLI (services/*); each change is one
store write, so a refused request has written nothing. Bad input is a 422 whose ``errors``
list names each field; every error goes through the one renderer (web/render.py).
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route

from keystead.errors import OAuthError
from keystead.protocol.admin_auth import ADMIN_API_PATH, authorize_admin
from keystead.protocol.tokens import ActiveToken
from keystead.services import apis as api_service
from keystead.services import keys as key_service
from keystead.services import users as user_service
from keystead.services.clients import (
    DESCRIPTIVE_METADATA,
    SECRET_METHODS,
    ClientSpec,
    ClientSpecError,
    client_view,
    create_client,
    spec_of,
    update_client,
)
from keystead.services.pagination import DEFAULT_LIMIT, CursorError, paginate
from keystead.store.base import Api, DuplicateError, User
from keystead.web import admin_schema as schema
from keystead.web import render
from keystead.web.registration import BodyError, bearer_request, read_json

if TYPE_CHECKING:
    from keystead.provider import Provider

SpecErrors = (ClientSpecError, api_service.ApiSpecError, user_service.UserSpecError)


class FieldErrors(Exception):
    """Bad input, one message per field: rendered as a 422 with ``errors: [{field, message}]``."""

    def __init__(self, errors: list[dict[str, str]]) -> None:
        super().__init__(errors)
        self.fields = errors


def _field_of(message: str, model: type[BaseModel] | None) -> str:
    """The field a service's message is about (they start from the field's name)."""
    known: set[str] = set(model.model_fields) if model is not None else set()
    words: list[str] = re.findall(r"[a-z_]+", message)
    for word in words:
        for candidate in (word, word + "s"):
            if candidate in known:
                return candidate
    return "body"


def _from_validation(exc: ValidationError) -> FieldErrors:
    return FieldErrors(
        [
            {"field": ".".join(str(p) for p in e["loc"]) or "body", "message": e["msg"]}
            for e in exc.errors()
        ]
    )


def _not_found(what: str) -> OAuthError:
    return OAuthError("admin-not-found", f"No {what}.")


def _json(body: Any, status: int = 200, location: str | None = None) -> Response:
    headers = dict(render.NO_STORE)  # bodies may carry secrets shown once
    if location is not None:
        headers["Location"] = location
    return Response(
        json.dumps(body, separators=(",", ":")),
        status_code=status,
        media_type="application/json",
        headers=headers,
    )


def _no_content() -> Response:
    return Response(status_code=204, headers=render.NO_STORE)


async def _body(request: Request, model: type[schema._Body]) -> Any:
    try:
        return model.model_validate(await read_json(request))
    except BodyError as exc:
        raise FieldErrors([{"field": "body", "message": str(exc)}]) from None
    except ValidationError as exc:
        raise _from_validation(exc) from None


def _page_params(request: Request) -> tuple[int, str | None]:
    raw = request.query_params.get("limit")
    try:
        limit = DEFAULT_LIMIT if raw is None else int(raw)
    except ValueError:
        raise FieldErrors([{"field": "limit", "message": "must be an integer"}]) from None
    return limit, request.query_params.get("cursor")


T = TypeVar("T")


def _listing(
    request: Request,
    items: list[T],
    key: Callable[[T], tuple[Any, ...]],
    view: Callable[[T], dict[str, Any]],
) -> Response:
    """One page of ``items`` in ``key`` order, each shown through ``view``, and the cursor."""
    page = paginate(items, key, *_page_params(request))
    return _json({"items": [view(item) for item in page.items], "next_cursor": page.next_cursor})


Handler = Callable[[Request, "Provider", ActiveToken], Awaitable[Response]]


def _endpoint(handler: Handler, model: type[BaseModel] | None = None) -> Any:
    """Authorize, run, and turn every failure into one rendered error."""

    async def endpoint(request: Request) -> Response:
        provider: Provider = request.app.state.provider
        cid = render.correlation_id()
        fields: list[dict[str, str]] = []
        try:
            caller = await authorize_admin(bearer_request(request), provider)
            return await handler(request, provider, caller)
        except OAuthError as exc:
            err = exc
        except (FieldErrors, *SpecErrors, CursorError) as exc:
            if isinstance(exc, FieldErrors):
                fields = exc.fields
            elif isinstance(exc, CursorError):
                name = "limit" if str(exc).startswith("limit") else "cursor"
                fields = [{"field": name, "message": str(exc)}]
            else:
                fields = [{"field": _field_of(str(exc), model), "message": str(exc)}]
            summary = "; ".join(f"{f['field']}: {f['message']}" for f in fields)
            err = OAuthError("admin-body-invalid", f"Invalid request: {summary}")
        except DuplicateError as exc:
            err = OAuthError("admin-conflict", f"Already taken: {exc}.")
        except key_service.KeySpecError as exc:
            err = OAuthError("admin-conflict", str(exc))
        except LookupError as exc:
            if isinstance(exc, KeyError | IndexError):  # a bug, not a missing resource
                return render.internal_error(exc, provider, kind="json", cid=cid)
            err = OAuthError("admin-not-found", f"{exc} (deleted meanwhile?).")
        except Exception as exc:  # noqa: BLE001 - never a stack trace to the caller
            return render.internal_error(exc, provider, kind="json", cid=cid)
        response = render.render_error(
            err, provider, kind="json", cid=cid, context=render.request_context(request)
        )
        if fields:
            body = json.loads(bytes(response.body))
            body["errors"] = fields
            return render.json_response(body, status=err.status, headers=dict(response.headers))
        return response

    return endpoint


def _audit(provider: Provider, caller: ActiveToken, action: str, **data: Any) -> None:
    provider.events.emit(f"admin.{action}", by_client_id=caller.client_id, **data)


# --- clients ---

_NULLABLE = {"default_resource", "jwks", "jwks_uri", "token_endpoint_auth_signing_alg"}
_LISTS = {
    "redirect_uris",
    "grant_types",
    "response_types",
    "allowed_origins",
    "post_logout_redirect_uris",
}


def _apply(spec: ClientSpec, changes: dict[str, Any]) -> ClientSpec:
    errors = []
    for name, value in changes.items():
        if name in DESCRIPTIVE_METADATA:
            if value is None:
                spec.metadata.pop(name, None)
            else:
                spec.metadata[name] = value
        elif value is None and name in _LISTS:
            setattr(spec, name, [])
        elif value is None and name not in _NULLABLE:
            errors.append({"field": name, "message": "must not be null"})
        else:
            setattr(spec, name, value)
    if errors:
        raise FieldErrors(errors)
    return spec


async def clients(request: Request, provider: Provider, caller: ActiveToken) -> Response:
    if request.method == "GET":
        items = await provider.store.clients.list()
        return _listing(request, items, lambda c: (c.created_at, c.client_id), client_view)
    body = await _body(request, schema.ClientCreate)
    changes = body.model_dump(exclude_unset=True)
    spec = _apply(ClientSpec(client_name=changes.pop("client_name"), redirect_uris=[]), changes)
    client, secret = await create_client(provider.store, spec, provider.now(), kek=provider.kek)
    _audit(provider, caller, "client.created", client_id=client.client_id)
    view = client_view(client)
    if secret is not None:
        view["client_secret"] = secret
        view["client_secret_expires_at"] = 0
    location = provider.settings.url(f"{ADMIN_API_PATH}/clients/{client.client_id}")
    return _json(view, 201, location)


async def client_item(request: Request, provider: Provider, caller: ActiveToken) -> Response:
    client_id = request.path_params["client_id"]
    client = await provider.store.clients.get(client_id)
    if client is None:
        raise _not_found(f"client {client_id}")
    if request.method == "GET":
        return _json(client_view(client))
    if request.method == "DELETE":
        await provider.store.clients.delete(client_id)  # grants, codes, tokens cascade
        provider.forget_client(client_id)
        _audit(provider, caller, "client.deleted", client_id=client_id)
        return _no_content()
    body = await _body(request, schema.ClientUpdate)
    spec = _apply(spec_of(client), body.model_dump(exclude_unset=True))
    updated, secret = await update_client(provider.store, client, spec, kek=provider.kek)
    provider.forget_client(client_id)
    _audit(provider, caller, "client.updated", client_id=client_id)
    view = client_view(updated)
    if secret is not None:  # the new method needed a secret the client did not have
        view["client_secret"] = secret
    return _json(view)


async def client_secret(request: Request, provider: Provider, caller: ActiveToken) -> Response:
    client_id = request.path_params["client_id"]
    client = await provider.store.clients.get(client_id)
    if client is None:
        raise _not_found(f"client {client_id}")
    if client.token_endpoint_auth_method not in SECRET_METHODS:
        raise OAuthError(
            "admin-conflict",
            f"This client authenticates with {client.token_endpoint_auth_method}; it has no "
            "secret to rotate.",
        )
    _, secret = await update_client(
        provider.store, client, spec_of(client), kek=provider.kek, rotate_secret=True
    )
    provider.forget_client(client_id)
    _audit(provider, caller, "client.secret_rotated", client_id=client_id)
    return _json({"client_id": client_id, "client_secret": secret, "client_secret_expires_at": 0})


# --- APIs ---


def _reserved(provider: Provider, api: Api) -> None:
    if api_service.is_reserved(api, provider.settings.issuer):
        raise OAuthError(
            "admin-conflict", "The keystead admin API is reserved; it cannot be changed."
        )


async def apis(request: Request, provider: Provider, caller: ActiveToken) -> Response:
    if request.method == "GET":
        items = await provider.store.apis.list()
        return _listing(request, items, lambda a: (a.created_at, a.api_id), api_service.api_view)
    body = await _body(request, schema.ApiCreate)
    spec = api_service.ApiSpec(
        identifier=body.identifier,
        name=body.name,
        scopes=list(body.scopes.items()),
        token_format=body.token_format,
        access_token_ttl=body.access_token_ttl,
        with_secret=body.with_secret,
    )
    api, secret = await api_service.create_api(provider.store, spec, provider.now())
    provider.forget_apis()
    _audit(provider, caller, "api.created", api_id=api.api_id)
    view = api_service.api_view(api)
    if secret is not None:
        view["api_secret"] = secret
    return _json(view, 201, provider.settings.url(f"{ADMIN_API_PATH}/apis/{api.api_id}"))


async def api_item(request: Request, provider: Provider, caller: ActiveToken) -> Response:
    api_id = request.path_params["api_id"]
    api = await provider.store.apis.get(api_id)
    if api is None:
        raise _not_found(f"API {api_id}")
    if request.method == "GET":
        return _json(api_service.api_view(api))
    _reserved(provider, api)
    if request.method == "DELETE":
        await api_service.delete_api(provider.store, api, issuer_url=provider.settings.issuer)
        provider.forget_apis()
        _audit(provider, caller, "api.deleted", api_id=api_id)
        return _no_content()
    body = await _body(request, schema.ApiUpdate)
    updated, secret = await api_service.update_api(
        provider.store,
        api,
        issuer_url=provider.settings.issuer,
        name=body.name,
        scopes=None if body.scopes is None else list(body.scopes.items()),
        token_format=body.token_format,
        access_token_ttl=body.access_token_ttl,
        rotate_secret=body.rotate_secret,
    )
    provider.forget_apis()
    _audit(provider, caller, "api.updated", api_id=api_id)
    view = api_service.api_view(updated)
    if secret is not None:
        view["api_secret"] = secret
    return _json(view)


# --- users ---


def _user_view(user: User) -> dict[str, Any]:
    return {
        **user_service.user_view(user),
        "given_name": user.given_name,
        "family_name": user.family_name,
        "profile": dict(user.profile),
        "updated_at": user.updated_at,
    }


async def users(request: Request, provider: Provider, caller: ActiveToken) -> Response:
    if request.method == "GET":
        items = await provider.store.users.list()
        return _listing(request, items, lambda u: (u.created_at, u.sub), _user_view)
    body = await _body(request, schema.UserCreate)
    user = await user_service.create_user(
        provider.store,
        provider.hasher,
        body.username,
        body.password,
        now=provider.now(),
        email=body.email,
        email_verified=body.email_verified,
        name=body.name,
        given_name=body.given_name,
        family_name=body.family_name,
        profile=body.profile,
    )
    _audit(provider, caller, "user.created", sub=user.sub)
    return _json(_user_view(user), 201, provider.settings.url(f"{ADMIN_API_PATH}/users/{user.sub}"))


async def user_item(request: Request, provider: Provider, caller: ActiveToken) -> Response:
    sub = request.path_params["sub"]
    user = await provider.store.users.get(sub)
    if user is None:
        raise _not_found(f"user {sub}")
    if request.method == "GET":
        return _json(_user_view(user))
    if request.method == "DELETE":
        await user_service.delete_user(provider.store, sub, now=provider.now())
        _audit(provider, caller, "user.deleted", sub=sub)
        return _no_content()
    body = await _body(request, schema.UserUpdate)
    changes = body.model_dump(exclude_unset=True)
    nulls = [
        n for n in ("username", "password", "email_verified") if n in changes and changes[n] is None
    ]
    if nulls:
        raise FieldErrors([{"field": n, "message": "must not be null"} for n in nulls])
    if "profile" in changes and changes["profile"] is None:
        changes["profile"] = {}
    updated = await user_service.update_user(
        provider.store, provider.hasher, user, changes, now=provider.now()
    )
    _audit(provider, caller, "user.updated", sub=sub)
    return _json(_user_view(updated))


# --- signing keys ---


async def keys(request: Request, provider: Provider, caller: ActiveToken) -> Response:
    now = provider.now()
    if request.method == "GET":
        items = await provider.store.keys.list()
        return _listing(
            request, items, lambda k: (k.created_at, k.kid), lambda k: key_service.key_view(k, now)
        )
    body = await _body(request, schema.KeyCreate)
    created = await _rotate(provider, [body.alg])
    _audit(provider, caller, "key.created", kid=created[0]["kid"])
    return _json(
        created[0], 201, provider.settings.url(f"{ADMIN_API_PATH}/keys/{created[0]['kid']}")
    )


async def _rotate(provider: Provider, algs: list[str] | None) -> list[dict[str, Any]]:
    now = provider.now()
    try:
        created = await key_service.rotate_keys(
            provider.store, provider.kek, provider.settings, now, algs
        )
    except ValueError as exc:
        raise FieldErrors(
            [{"field": "algs" if algs and len(algs) > 1 else "alg", "message": str(exc)}]
        ) from None
    provider.forget_keys()
    return [key_service.key_view(k, now) for k in created]


async def rotate(request: Request, provider: Provider, caller: ActiveToken) -> Response:
    body = await _body(request, schema.KeyRotate)
    created = await _rotate(provider, body.algs)
    _audit(provider, caller, "keys.rotated", kids=[k["kid"] for k in created])
    return _json(created)


async def key_item(request: Request, provider: Provider, caller: ActiveToken) -> Response:
    kid = request.path_params["kid"]
    now = provider.now()
    key = next((k for k in await provider.store.keys.list() if k.kid == kid), None)
    if key is None:
        raise _not_found(f"key {kid}")
    if request.method == "GET":
        return _json(key_service.key_view(key, now))
    await key_service.retire_key(provider.store, kid, now)
    provider.forget_keys()
    _audit(provider, caller, "key.retired", kid=kid)
    return _no_content()


async def openapi_document(request: Request) -> Response:
    provider: Provider = request.app.state.provider
    return render.json_response(schema.openapi(provider.settings))


def admin_routes() -> list[BaseRoute]:
    return [
        Mount(
            ADMIN_API_PATH,
            routes=[
                Route("/openapi.json", openapi_document, methods=["GET"]),
                Route("/clients", _endpoint(clients, schema.ClientCreate), methods=["GET", "POST"]),
                Route(
                    "/clients/{client_id}",
                    _endpoint(client_item, schema.ClientUpdate),
                    methods=["GET", "PATCH", "DELETE"],
                ),
                Route("/clients/{client_id}/secret", _endpoint(client_secret), methods=["POST"]),
                Route("/apis", _endpoint(apis, schema.ApiCreate), methods=["GET", "POST"]),
                Route(
                    "/apis/{api_id}",
                    _endpoint(api_item, schema.ApiUpdate),
                    methods=["GET", "PATCH", "DELETE"],
                ),
                Route("/users", _endpoint(users, schema.UserCreate), methods=["GET", "POST"]),
                Route(
                    "/users/{sub}",
                    _endpoint(user_item, schema.UserUpdate),
                    methods=["GET", "PATCH", "DELETE"],
                ),
                Route("/keys", _endpoint(keys, schema.KeyCreate), methods=["GET", "POST"]),
                Route("/keys/rotate", _endpoint(rotate, schema.KeyRotate), methods=["POST"]),
                Route("/keys/{kid}", _endpoint(key_item), methods=["GET", "DELETE"]),
            ],
        )
    ]
