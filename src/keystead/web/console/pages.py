"""How a console endpoint is made: the visit first (sign-in, 403), then the page; a
service's refusal becomes the form again with the message beside its field."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response

from keystead.services.common import NotFound
from keystead.web import render
from keystead.web.console.common import Visit, refused, visit

Page = Callable[[Visit], Awaitable[Response]]


def console_page(work: Page) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        async def run() -> Response:
            v = await visit(request)
            if isinstance(v, Response):
                return v
            try:
                return await work(v)
            except NotFound as exc:
                return refused(v.provider, "Not found", exc.message, status=404)

        post = request.method == "POST"
        return await render.guarded(request, run, kind="page", after_post=post)

    endpoint.__name__ = work.__name__
    endpoint.__doc__ = work.__doc__
    return endpoint


def when(ts: int | None) -> str:
    """A UNIX time as the console shows it (UTC)."""
    if ts is None:
        return "—"
    import datetime as _dt

    return _dt.datetime.fromtimestamp(ts, _dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
