"""The account page's "Sign-in with other providers" (issue 22): the upstream identities
linked to the account, unlinking one (never the last way to sign in), and linking another
through the upstream's sign-in (web/federation.py handles its return)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response

from keystead.accounts import federated
from keystead.web import render, upstream_trip
from keystead.web.account.common import Visit, check_csrf, reauthenticate, visit
from keystead.web.account.overview import overview_page
from keystead.web.parse import read_form


async def _post(
    request: Request, handler: Callable[[Visit, dict[str, str]], Awaitable[Response]]
) -> Response:
    """A change of the sign-in methods: CSRF, then a fresh sign-in (as security.py's)."""

    async def run() -> Response:
        v = await visit(request)
        if isinstance(v, Response):
            return v
        form = dict(await read_form(request))
        check_csrf(v, form)
        if not v.fresh:
            return reauthenticate(v)
        return await handler(v, form)

    return await render.guarded(request, run, kind="page", after_post=True)


async def _link(v: Visit, form: dict[str, str]) -> Response:
    name = form.get("connection", "")
    for connection in await v.provider.store.connections.list():
        if connection.name == name and connection.enabled:
            trip = await upstream_trip.begin(v.provider, connection, link_sub=v.user.sub)
            return v.finish(trip)
    return v.back()  # gone or disabled meanwhile: nothing to link


async def link(request: Request) -> Response:
    """``POST /account/connections/link``: sign in at the upstream to link it here."""
    return await _post(request, _link)


async def _unlink(v: Visit, form: dict[str, str]) -> Response:
    error = await federated.unlink(v.provider, v.user, form.get("connection_id", ""))
    if error:
        return await overview_page(v, errors={"connections": error}, status=400)
    return v.back("unlinked")


async def unlink(request: Request) -> Response:
    """``POST /account/connections/unlink``: remove a linked upstream sign-in."""
    return await _post(request, _unlink)
