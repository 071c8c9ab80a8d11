"""CORS (Fetch standard §3.2) on the endpoints a browser calls from another origin.

Applied per route in app.py, never as global middleware, and never on /authorize, /login,
/consent or the pages (a browser navigates to those; it does not fetch them):

- ``public_route``: discovery and JWKS answer any origin (``*``, no credentials).
- ``client_route``: token, UserInfo and revocation answer only origins of registered clients.
  A preflight carries no client_id, so it is answered for the union of every client's
  origins; the real request is checked against its own client's origins in
  protocol/origins.py before any side effect, and a refused request gets no CORS headers.

No endpoint ever allows credentials: SPAs send tokens, not cookies.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from keystead.errors import OAuthError
from keystead.protocol.origins import origin_of
from keystead.web import render

if TYPE_CHECKING:
    from keystead.provider import Provider

Endpoint = Callable[[Request], Awaitable[Response]]

ANY_ORIGIN = {"Access-Control-Allow-Origin": "*"}
VARY_ORIGIN = {"Vary": "Origin"}  # a client route's answer depends on Origin
ALLOW_HEADERS = "Authorization, Content-Type"
EXPOSE_HEADERS = "WWW-Authenticate, X-Correlation-Id"
MAX_AGE = "600"  # seconds a browser may reuse a preflight answer
REFUSED_ORIGIN = "origin-not-allowed"  # the catalog id protocol/origins.py raises


def _provider(request: Request) -> Provider:
    provider: Provider = request.app.state.provider
    return provider


def route(kind: str, path: str, endpoint: Endpoint, methods: list[str]) -> Route:
    """The Starlette route of an endpoint-table row (web/table.py) of this CORS kind."""
    if kind == "public":
        return public_route(path, endpoint)
    if kind == "client":
        return client_route(path, endpoint, methods)
    return Route(path, endpoint, methods=methods)


def fixed_headers(kind: str) -> dict[str, str]:
    """The CORS headers every answer of this kind carries whatever its Origin: what a lane
    that answers requests without Origin (web/fastlane.py) adds as the route would."""
    return {"public": ANY_ORIGIN, "client": VARY_ORIGIN}.get(kind, {})


def public_route(path: str, endpoint: Endpoint) -> Route:
    """GET from any origin; a preflight (only sent for non-simple requests) is answered too."""

    async def with_cors(request: Request) -> Response:
        if request.method == "OPTIONS":
            headers = {**ANY_ORIGIN, "Access-Control-Allow-Methods": "GET", "Allow": "GET"}
            return Response(status_code=204, headers={**headers, "Access-Control-Max-Age": MAX_AGE})
        response = await endpoint(request)
        response.headers.update(ANY_ORIGIN)
        return response

    return Route(path, with_cors, methods=["GET", "OPTIONS"])


def client_route(path: str, endpoint: Endpoint, methods: list[str]) -> Route:
    """``methods`` from the origins of registered clients, and their preflights."""

    async def with_cors(request: Request) -> Response:
        origin = request.headers.get("origin")
        if request.method == "OPTIONS":
            return await _preflight(request, origin, methods)
        response = await endpoint(request)
        response.headers.update(VARY_ORIGIN)
        if origin and not _same_origin(request, origin) and not _refused(request):
            response.headers.update(await _allow(request, origin))
        return response

    return Route(path, with_cors, methods=[*methods, "OPTIONS"])


def note_error(request: Request, err: OAuthError) -> None:
    """Called by the endpoints' error path: a request refused for its origin gets no CORS."""
    if err.catalog_id == REFUSED_ORIGIN:
        request.state.cors_refused = True


def _refused(request: Request) -> bool:
    return bool(getattr(request.state, "cors_refused", False))


def _same_origin(request: Request, origin: str) -> bool:
    return origin == origin_of(_provider(request).settings.issuer)


async def _allow(
    request: Request, origin: str, refusal: str = "cors.origin_refused"
) -> dict[str, str]:
    """CORS headers for ``origin`` if some client registered it; else none, and say why."""
    provider = _provider(request)
    if origin in await provider.registered_origins():
        return {
            "Access-Control-Allow-Origin": origin,
            "Access-Control-Expose-Headers": EXPOSE_HEADERS,
        }
    provider.events.emit(
        refusal,
        origin=origin[:200],
        endpoint=request.scope["path"],
        reason="No registered client has this origin among its redirect URIs or allowed_origins.",
    )
    return {}


async def _preflight(request: Request, origin: str | None, methods: list[str]) -> Response:
    allow = ", ".join(methods)
    vary = "Origin, Access-Control-Request-Method, Access-Control-Request-Headers"
    headers = {"Allow": allow, "Vary": vary}
    if not origin:  # a plain OPTIONS request, not a preflight
        return Response(status_code=204, headers=headers)
    provider = _provider(request)
    cid = render.correlation_id()
    method = request.headers.get("access-control-request-method", "")
    if method not in methods:
        provider.events.emit(
            "cors.preflight_refused",
            origin=origin[:200],
            endpoint=request.scope["path"],
            reason=f"Method {method[:20]} is not allowed here; use {allow}.",
        )
        return Response(status_code=403, headers={**headers, "X-Correlation-Id": cid})
    allowed = await _allow(request, origin, "cors.preflight_refused")
    if not allowed:
        return Response(status_code=403, headers={**headers, "X-Correlation-Id": cid})
    return Response(
        status_code=204,
        headers={
            **headers,
            "Access-Control-Allow-Origin": origin,
            "Access-Control-Allow-Methods": allow,
            "Access-Control-Allow-Headers": ALLOW_HEADERS,
            "Access-Control-Max-Age": MAX_AGE,
        },
    )
