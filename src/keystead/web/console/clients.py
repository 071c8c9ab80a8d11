"""Clients in the console: the list (search, keyset pages read from the database), the
creation wizard per application type, edit, rotate the secret (shown once), delete after a
confirmation. Every change goes through services/clients.py with the console's Actor."""

from __future__ import annotations

from starlette.responses import Response

from keystead.accounts.console_app import CONSOLE_CLIENT_ID
from keystead.services import apis
from keystead.services import clients as service
from keystead.services.common import ServiceError
from keystead.services.pagination import CursorError, page_of
from keystead.store.base import Client
from keystead.web.console.client_forms import (
    APP_TYPES,
    app_type_of,
    apply_edit,
    snippets,
    spec_from_wizard,
)
from keystead.web.console.common import Visit
from keystead.web.console.pages import console_page, when
from keystead.web.console.try_it import can_try, try_uri

PAGE_SIZE = 25


def _position(client: Client) -> tuple[int, str]:
    return client.created_at, client.client_id


async def _page(v: Visit, q: str, cursor: str | None) -> tuple[list[Client], str | None]:
    """The page after ``cursor``, searched and paged by the database (keyset on (created_at,
    client_id), services/pagination.py); the console's own sign-in anchor is not listed."""

    async def fetch(after: tuple[int, str] | None, limit: int) -> list[Client]:
        found = await service.list_all(v.provider, after, limit + 1, q or None)
        shown = [c for c in found if c.client_id != CONSOLE_CLIENT_ID]
        return shown[:limit]

    page = await page_of(fetch, _position, PAGE_SIZE, cursor)
    return page.items, page.next_cursor


@console_page
async def clients(v: Visit) -> Response:
    """``GET /admin/clients``: the list, ``q`` searches client_id and name."""
    q = v.request.query_params.get("q", "").strip()[:200]
    cursor = v.request.query_params.get("after") or None
    try:
        page, next_cursor = await _page(v, q, cursor)
    except CursorError:
        page, next_cursor = await _page(v, q, None)
    rows = [{"client": c, "type": APP_TYPES[app_type_of(c)].title} for c in page]
    return v.render(
        "console/clients.html",
        {"rows": rows, "q": q, "next_cursor": next_cursor, "when": when, "nav": "clients"},
    )


async def _wizard(v: Visit, kind: str, form: dict[str, str], errors: dict[str, str]) -> Response:
    app = APP_TYPES[kind]
    values = {"scope": app.scope, **form}
    return v.render(
        "console/client_new.html",
        {
            "types": APP_TYPES.values(),
            "apis": await apis.list_all(v.provider),
            "app": app,
            "values": values,
            "errors": errors,
            "nav": "clients",
        },
        status=400 if errors else 200,
    )


@console_page
async def new_client(v: Visit) -> Response:
    """``GET /admin/clients/new``: choose a type; ``?type=web|spa|native|m2m``: its form;
    ``POST``: create it, then show its settings (and secret) once."""
    if v.request.method == "GET":
        kind = v.request.query_params.get("type", "")
        if kind not in APP_TYPES:
            return v.render(
                "console/client_types.html", {"types": APP_TYPES.values(), "nav": "clients"}
            )
        return await _wizard(v, kind, {}, {})
    form = await v.form()
    kind = form.get("type", "")
    if kind not in APP_TYPES:
        return v.redirect("/admin/clients/new")
    try:
        spec = spec_from_wizard(APP_TYPES[kind], form)
        if not spec.client_name:
            raise ServiceError("client_name", "Give the application a name.")
        client, secret = await service.create(v.provider, spec, v.actor)
    except ServiceError as exc:
        return await _wizard(v, kind, form, {exc.field: exc.message})
    return _settings_page(v, client, secret, created=True)


def _settings_page(v: Visit, client: Client, secret: str | None, *, created: bool) -> Response:
    return v.render(
        "console/client_secret.html",
        {
            "client": client,
            "secret": secret,
            "created": created,
            "snippets": snippets(v.provider.settings, client, secret),
            "issuer": v.provider.settings.issuer,
            "nav": "clients",
        },
    )


def _detail(
    v: Visit, client: Client, form: dict[str, str] | None, errors: dict[str, str], done: str
) -> Response:
    values = form or {
        "client_name": client.client_name,
        "redirect_uris": "\n".join(client.redirect_uris),
        "scope": client.scope,
        "allowed_origins": "\n".join(client.extra.get("allowed_origins", [])),
        "post_logout_redirect_uris": "\n".join(client.extra.get("post_logout_redirect_uris", [])),
        "skip_consent": "on" if client.skip_consent else "",
    }
    return v.render(
        "console/client.html",
        {
            "client": client,
            "view": service.operator_view(client),
            "type": APP_TYPES[app_type_of(client)],
            "values": values,
            "errors": errors,
            "done": done,
            "has_secret": client.token_endpoint_auth_method in service.SECRET_METHODS,
            "try_uri": try_uri(v),
            "can_try": can_try(v, client),
            "snippets": snippets(v.provider.settings, client, None),
            "when": when,
            "nav": "clients",
        },
        status=400 if errors else 200,
    )


@console_page
async def client_item(v: Visit) -> Response:
    """``GET /admin/clients/{client_id}``: its settings and the edit form; ``POST``: save."""
    client = await service.get(v.provider, v.request.path_params["client_id"])
    if v.request.method == "GET":
        return _detail(v, client, None, {}, v.request.query_params.get("done", ""))
    form = await v.form()
    try:
        spec = apply_edit(service.spec_of(client), form)
        if not spec.client_name:
            raise ServiceError("client_name", "Give the application a name.")
        await service.update(v.provider, client, spec, v.actor)
    except ServiceError as exc:
        return _detail(v, client, form, {exc.field: exc.message}, "")
    return v.redirect(f"/admin/clients/{client.client_id}", done="saved")


@console_page
async def rotate_secret(v: Visit) -> Response:
    """``POST /admin/clients/{client_id}/secret``: a new secret, shown on this page once."""
    await v.form()
    client_id = v.request.path_params["client_id"]
    try:
        client, secret = await service.rotate_secret(v.provider, client_id, v.actor)
    except ServiceError as exc:
        if exc.field == "client_id":
            raise
        client = await service.get(v.provider, client_id)
        return _detail(v, client, None, {"secret": exc.message}, "")
    return _settings_page(v, client, secret, created=False)


@console_page
async def delete_client(v: Visit) -> Response:
    """``GET /admin/clients/{client_id}/delete``: are you sure; ``POST``: delete."""
    client = await service.get(v.provider, v.request.path_params["client_id"])
    if v.request.method == "GET":
        return v.render(
            "console/confirm.html",
            {
                "title": f"Delete {client.client_name}?",
                "what": f"The client {client.client_id} goes with its grants, codes and "
                "tokens: every token issued to it stops working. This cannot be undone.",
                "action": v.url(f"/admin/clients/{client.client_id}/delete"),
                "button": "Delete the client",
                "back": v.url(f"/admin/clients/{client.client_id}"),
                "nav": "clients",
            },
        )
    await v.form()
    await service.delete(v.provider, client.client_id, v.actor)
    return v.redirect("/admin/clients", done="deleted")
