"""The lanes: how the rows of the endpoint table (web/table.py) with a fixed path are served.

``Keystead`` is the Starlette application with one dict lookup on (method, path) in front of
its router. A row's request found there is served by the lane — the row's endpoint called
with a ``Request`` — and the lane does what the router's middleware does for every other
request (web/observe.py): the request's metrics and access log line, and a 500 with a
correlation id for an exception that escaped the endpoint (an HTML page for a ``page`` row).
Because the lane stands in for the middleware stack, ``Keystead`` refuses middleware other
than web/observe.py's: it would silently not run for the lane's requests.

Two variants answer requests that need no CORS decision (no ``Origin`` header) with less:
- *direct* (a row's ``direct``: /token, /introspect): the body is read and parsed once
  (web/parse.py) into the ``OAuthRequest`` the protocol function takes, and a success is sent
  as JSON with a header list built once — no ``Request``/``Response`` objects. Every error
  still goes through ``render.render_error``, so it reads exactly as on the other path;
- *document* (a row's ``document``: JWKS, discovery): the document's bytes with the header
  list ``render.document_head`` builds once per document — the same list the row's endpoint
  answers with.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.datastructures import State
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import Receive, Scope, Send

from keystead.errors import OAuthError
from keystead.events import new_correlation_id
from keystead.protocol.request import OAuthRequest
from keystead.web import cors, render
from keystead.web.mtls import client_cert
from keystead.web.observe import ObserveRequests, observed
from keystead.web.parse import build_request, check_form_type, parse_form, read_body

if TYPE_CHECKING:
    from keystead.provider import Provider

log = logging.getLogger("keystead.web")

Endpoint = Callable[[Request], Awaitable[Response]]
DirectWork = Callable[[OAuthRequest, "Provider"], Awaitable[dict[str, Any]]]
# A static JSON document for a direct GET: its bytes and its Cache-Control max-age.
StaticSource = Callable[["Keystead"], Awaitable[tuple[bytes, int]]]
RawHeaders = list[tuple[bytes, bytes]]

# The request headers the direct lane reads (ASGI header names are lower-case bytes).
_WANTED = frozenset({b"content-type", b"authorization", b"origin", b"accept", b"dpop"})


@dataclass(frozen=True, slots=True)
class Direct:
    """A row's direct lane: the protocol function, and when to decline (the request then
    takes the lane: e.g. introspection asked for a JWT answer)."""

    work: DirectWork
    declines: Callable[[dict[bytes, bytes]], bool] | None = None  # None: never


@dataclass(frozen=True, slots=True)
class Row:
    """One row of the endpoint table (web/table.py): a path, its methods and endpoint, how
    its errors travel (``json`` | ``page``), its CORS kind (``none`` | ``public`` |
    ``client``: web/cors.py), its direct and document lanes, and where it is served
    (``issuer``: under the issuer's path; ``root``: at the server's root; ``well-known``:
    both, RFC 8414 §3.1). ``demo`` rows exist only with ``serve --demo``."""

    path: str
    methods: tuple[str, ...]
    endpoint: Endpoint
    errors: str = "json"
    cors: str = "none"
    direct: Direct | None = None
    document: StaticSource | None = None
    place: str = "issuer"
    demo: bool = False


def _headers_of(scope: Scope) -> dict[bytes, bytes]:
    found: dict[bytes, bytes] = {}
    for name, value in scope["headers"]:
        if name in _WANTED:
            if name not in found:  # the first, as Starlette's headers.get
                found[name] = value
            elif name == b"dpop":  # RFC 9449 §4.3: one DPoP header; joined, then refused
                found[name] += b"," + value
    return found


class _State(State):
    """Starlette's ``State`` whose values are also plain instance attributes. ``State`` keeps
    them in a dict that only its ``__getattr__`` reaches — after the normal lookup failed and
    raised (a formatted ``AttributeError``), for ``app.state.provider``, read on every
    request; as a plain attribute it is found on the normal path (docs/performance.md)."""

    def __setattr__(self, key: Any, value: Any) -> None:
        super().__setattr__(key, value)
        object.__setattr__(self, key, value)

    def __delattr__(self, key: Any) -> None:
        super().__delattr__(key)
        object.__delattr__(self, key)


class Keystead(Starlette):
    """The Starlette application serving the endpoint table: the lanes in front of the
    router for rows with a fixed path, the router (with web/observe.py) for the rest."""

    def __init__(
        self,
        rows: Sequence[Row] = (),
        *,
        issuer_path: str = "",
        **kwargs: Any,
    ) -> None:
        for middleware in kwargs.get("middleware") or ():
            _refuse_middleware(middleware.cls)
        placed = _placed(rows, issuer_path)
        routes: list[BaseRoute] = [route for _, route, prefix in placed if not prefix]
        if issuer_path:  # the rest under the issuer's path
            routes.append(Mount(issuer_path, routes=[r for _, r, prefix in placed if prefix]))
        super().__init__(routes=routes, **kwargs)
        # Every path is exact (OAuth endpoints are registered URLs): no redirect from
        # /token/ to /token, whose URL Starlette would build by decoding the query as UTF-8.
        self.router.redirect_slashes = False
        self.state = _State()
        # (method, full path) -> (metrics label, endpoint, how a 500 travels: json | page)
        self.lanes: dict[tuple[str, str], tuple[str, Endpoint, str]] = {}
        # (method, full path) -> its direct lane, with the response headers prebuilt; the
        # CORS headers every answer of it carries (web/cors.py's fixed_headers)
        self.direct: dict[tuple[str, str], tuple[Direct, RawHeaders]] = {}
        self._direct_cors: dict[tuple[str, str], RawHeaders] = {}
        # (GET, full path) -> where its document comes from; the last document's headers
        self.static: dict[tuple[str, str], StaticSource] = {}
        self._static_heads: dict[tuple[str, str], tuple[bytes, list[tuple[bytes, bytes]]]] = {}
        for row, route, prefix in placed:
            if "{" not in row.path:
                self._add_lanes(row, route, prefix)

    def add_middleware(self, middleware_class: Any, *args: Any, **kwargs: Any) -> None:
        _refuse_middleware(middleware_class)
        super().add_middleware(middleware_class, *args, **kwargs)

    def _add_lanes(self, row: Row, route: Route, prefix: str) -> None:
        path = prefix + route.path
        for method in row.methods:
            self.lanes[(method, path)] = (route.path, route.endpoint, row.errors)
        if row.direct is not None and "POST" in row.methods:
            fixed = self._direct_cors[("POST", path)] = render.raw(cors.fixed_headers(row.cors))
            self.direct[("POST", path)] = (row.direct, render.JSON_NO_STORE_RAW + fixed)
        if row.document is not None and "GET" in row.methods:
            self.static[("GET", path)] = row.document

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            key = (scope["method"], scope["path"])
            lane = self.lanes.get(key)
            source = self.static.get(key)
            if source is not None and b"origin" not in _headers_of(scope):
                await self._static(key, lane[0] if lane else key[1], source, scope, receive, send)
                return
            if lane is not None:
                direct = self.direct.get(key)
                if direct is not None:
                    headers = _headers_of(scope)
                    declines = direct[0].declines
                    if b"origin" not in headers and not (declines and declines(headers)):
                        await self._direct(lane[0], direct, headers, scope, receive, send)
                        return
                await self._fast(lane, scope, receive, send)
                return
        await super().__call__(scope, receive, send)

    async def _direct(
        self,
        label: str,
        direct: tuple[Direct, RawHeaders],
        headers: dict[bytes, bytes],
        scope: Scope,
        receive: Receive,
        send: Send,
    ) -> None:
        lane, raw_headers = direct
        provider = self.state.provider

        async def respond(send: Send) -> None:
            try:
                check_form_type(headers.get(b"content-type", b"").decode("latin-1"))
                basic = headers.get(b"authorization")
                dpop = headers.get(b"dpop")
                req = build_request(
                    scope["method"],
                    parse_form(await read_body(receive, provider.settings.max_body_bytes)),
                    authorization=None if basic is None else basic.decode("latin-1"),
                    client=scope.get("client"),
                    origin="",
                    dpop=None if dpop is None else dpop.decode("latin-1"),
                    client_cert=client_cert(scope, provider.settings),  # RFC 8705
                )
                result = await lane.work(req, provider)
            except OAuthError as err:
                cid = render.correlation_id()
                context = render.request_context(Request(scope))
                response = render.render_error(err, provider, kind="json", cid=cid, context=context)
                response.raw_headers.extend(self._direct_cors[(scope["method"], scope["path"])])
                await response(scope, receive, send)
                return
            payload = render.json_body(result)
            head = [*raw_headers, (b"content-length", str(len(payload)).encode())]
            await send({"type": "http.response.start", "status": 200, "headers": head})
            await send({"type": "http.response.body", "body": payload})

        await self._served(label, "json", scope, receive, send, respond)

    async def _static(
        self,
        key: tuple[str, str],
        label: str,
        source: StaticSource,
        scope: Scope,
        receive: Receive,
        send: Send,
    ) -> None:
        async def respond(send: Send) -> None:
            body, max_age = await source(self)
            cached = self._static_heads.get(key)
            if cached is None or cached[0] is not body:  # a new document: new headers
                cached = self._static_heads[key] = (body, render.document_head(body, max_age))
            await send({"type": "http.response.start", "status": 200, "headers": cached[1]})
            await send({"type": "http.response.body", "body": body})

        await self._served(label, "json", scope, receive, send, respond)

    async def _fast(
        self, lane: tuple[str, Endpoint, str], scope: Scope, receive: Receive, send: Send
    ) -> None:
        label, endpoint, kind = lane

        async def respond(send: Send) -> None:
            response = await endpoint(Request(scope, receive))
            await response(scope, receive, send)

        await self._served(label, kind, scope, receive, send, respond)

    async def _served(
        self,
        label: str,
        kind: str,
        scope: Scope,
        receive: Receive,
        send: Send,
        respond: Callable[[Send], Awaitable[None]],
    ) -> None:
        """What the skipped layers did: the request's metrics and access line, and a 500 with
        a correlation id for an exception that escaped before the response started."""
        start = time.perf_counter()
        path = scope["path"]
        scope["app"] = self
        cid = new_correlation_id()
        status = 500
        started = False

        async def send_observed(message: Any) -> None:
            nonlocal status, started
            if message["type"] == "http.response.start":
                status, started = message["status"], True
            await send(message)

        try:
            await respond(send_observed)
        except Exception as exc:  # noqa: BLE001 - what ServerErrorMiddleware did on this path
            if started:  # too late for an error response: the client sees a cut connection
                log.exception("response failed after it started, cid=%s", cid)
                raise
            failure = render.internal_error(exc, self.state.provider, kind=kind, cid=cid)
            await failure(scope, receive, send_observed)
        finally:
            observed(self.state.metrics, scope, path, label, status, start)


def _placed(rows: Sequence[Row], issuer_path: str) -> list[tuple[Row, Route, str]]:
    """Each row's route and the prefix it is served under: the issuer's path, or the root
    (operations; discovery also at RFC 8414 §3.1's root path with the issuer path
    inserted after the well-known segment)."""
    placed: list[tuple[Row, Route, str]] = []
    for row in rows:
        methods = list(row.methods)
        route = cors.route(row.cors, row.path, row.endpoint, methods)
        placed.append((row, route, "" if row.place == "root" else issuer_path))
        if row.place == "well-known" and issuer_path:
            # RFC 8414 §3.1: /.well-known/oauth-authorization-server/{issuer path}
            inserted = cors.route(row.cors, row.path + issuer_path, row.endpoint, methods)
            placed.append((row, inserted, ""))
    return placed


def _refuse_middleware(cls: Any) -> None:
    """The lanes serve most requests without the router's middleware stack, doing what
    web/observe.py does; any other middleware would silently not run for them."""
    if cls is not ObserveRequests:
        raise TypeError(
            f"{getattr(cls, '__name__', cls)} would not run for the requests the lanes serve "
            "(web/fastlane.py): do request-wide work in Keystead._served, which the lanes "
            "and web/observe.py share, or in the endpoint."
        )
