"""The console's APIs and connections pages: each list with a creation form (the services'
refusals beside their field, what the admin typed kept) and a delete behind a confirmation.
Every change goes through services/apis.py and services/connections.py with the console's
Actor, so it is an audit event naming the admin."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from keystead.services import apis, connections
from keystead.services.apis import ApiSpec, parse_scope_option
from keystead.services.common import ServiceError
from keystead.services.connections import ConnectionSpec
from keystead.web.console.common import Visit
from keystead.web.console.pages import console_page, when


def _api_page(
    v: Visit, rows: list[dict[str, Any]], form: dict[str, str], errors: dict[str, str],
    *, created: dict[str, Any] | None = None,
) -> Response:  # fmt: skip
    return v.render(
        "console/apis.html",
        {
            "apis": rows,
            "values": form,
            "errors": errors,
            "created": created,
            "done": v.request.query_params.get("done", ""),
            "when": when,
            "nav": "apis",
        },
        status=400 if errors else 200,
    )


def _api_spec(form: dict[str, str]) -> ApiSpec:
    try:
        scope_lines = [s.strip() for s in form.get("scopes", "").splitlines() if s.strip()]
        scopes = [parse_scope_option(line) for line in scope_lines]
        ttl = int(form.get("access_token_ttl") or 3600)
    except ValueError as exc:
        raise ServiceError("scopes", str(exc)) from None
    return ApiSpec(
        identifier=form.get("identifier", "").strip(),
        name=form.get("name", "").strip(),
        scopes=scopes,
        token_format=form.get("token_format", "jwt"),
        access_token_ttl=ttl,
        with_secret=form.get("with_secret") == "on",
    )


@console_page
async def api_list(v: Visit) -> Response:
    """``GET /admin/apis``: each API and its scopes; ``POST``: register one."""
    rows = [apis.api_view(a) for a in await apis.list_all(v.provider)]
    if v.request.method == "GET":
        return _api_page(v, rows, {}, {})
    form = await v.form()
    try:
        api, secret = await apis.create(v.provider, _api_spec(form), v.actor)
    except ServiceError as exc:
        return _api_page(v, rows, form, {exc.field: exc.message})
    rows = [apis.api_view(a) for a in await apis.list_all(v.provider)]
    created = {"identifier": api.identifier, "secret": secret}  # the secret shown once
    return _api_page(v, rows, {}, {}, created=created)


@console_page
async def delete_api(v: Visit) -> Response:
    """``GET /admin/apis/{api_id}/delete``: are you sure; ``POST``: delete."""
    api = await apis.get(v.provider, v.request.path_params["api_id"])
    if v.request.method == "GET":
        return v.render(
            "console/confirm.html",
            {
                "title": f"Delete the API {api.name}?",
                "what": f"Tokens for {api.identifier} can no longer be issued; clients whose "
                "default resource it is need another. This cannot be undone.",
                "action": v.url(f"/admin/apis/{api.api_id}/delete"),
                "button": "Delete the API",
                "back": v.url("/admin/apis"),
                "nav": "apis",
            },
        )
    await v.form()
    await apis.delete(v.provider, api, v.actor)
    return v.redirect("/admin/apis", done="deleted")


def _connection_page(
    v: Visit, form: dict[str, str], errors: dict[str, str], rows: list[dict[str, Any]]
) -> Response:
    values = {k: val for k, val in form.items() if k != "client_secret"}  # never echoed back
    return v.render(
        "console/connections.html",
        {
            "connections": rows,
            "values": values,
            "errors": errors,
            "done": v.request.query_params.get("done", ""),
            "when": when,
            "nav": "connections",
        },
        status=400 if errors else 200,
    )


@console_page
async def connection_list(v: Visit) -> Response:
    """``GET /admin/connections``: upstream identity providers; ``POST``: add one (an
    OpenID Provider's discovery document is checked first, as by the CLI)."""
    rows = [connections.view(v.provider, c) for c in await connections.list_all(v.provider)]
    if v.request.method == "GET":
        return _connection_page(v, {}, {}, rows)
    form = await v.form()
    spec = ConnectionSpec(
        name=form.get("name", "").strip(),
        client_id=form.get("client_id", "").strip(),
        issuer=form.get("issuer", "").strip() or None,
        kind=form.get("kind", "oidc"),
        display_name=form.get("display_name", "").strip() or None,
        jit=form.get("jit") == "on",
        link_by_verified_email=form.get("link_by_verified_email") == "on",
    )
    try:
        await connections.create(v.provider, spec, form.get("client_secret", ""), v.actor)
    except ServiceError as exc:
        return _connection_page(v, form, {exc.field: exc.message}, rows)
    return v.redirect("/admin/connections", done="created")


@console_page
async def delete_connection(v: Visit) -> Response:
    """``GET /admin/connections/{name}/delete``: are you sure; ``POST``: delete."""
    connection = await connections.get(v.provider, v.request.path_params["name"])
    if v.request.method == "GET":
        return v.render(
            "console/confirm.html",
            {
                "title": f"Delete the connection {connection.display_name}?",
                "what": "Its button leaves every login page, and every sign-in linked through "
                "it is unlinked (users made from it keep their accounts). This cannot be undone.",
                "action": v.url(f"/admin/connections/{connection.name}/delete"),
                "button": "Delete the connection",
                "back": v.url("/admin/connections"),
                "nav": "connections",
            },
        )
    await v.form()
    await connections.delete(v.provider, connection.name, v.actor)
    return v.redirect("/admin/connections", done="deleted")
