"""The fast lane: the hot endpoints (token, introspection, JWKS, discovery, UserInfo,
revocation) are dispatched by one dict lookup on (method, path) before Starlette's router and
middleware stack, which cost about a quarter of a JWKS request (a regex per route, three
middleware layers). The same endpoint functions run — CORS, the error guard, parsing and
rendering are unchanged — and the lane does what the skipped layers did for them: the
request's metrics and access log line (web/observe.py) and a 500 with a correlation id for an
exception that escaped the endpoint. Every other request takes the ordinary path.

Server-to-server requests to ``/token`` and ``/introspect`` (no ``Origin`` header: no CORS to
decide) go one step further, the *direct* lane: the body is read from ``receive``, parsed
once into the ``OAuthRequest`` the protocol function takes, and a success is sent as JSON
with a prebuilt header list — no ``Request``/``Response`` objects or endpoint wrappers. Every
error still goes through ``render.render_error``, so it reads exactly as on the other path.
The public documents — JWKS and discovery — have a *static* direct lane for GETs without
``Origin``: their bytes with a header list built once per document (the same headers the
CORS wrapper of their fast lane adds; tests compare the two).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.datastructures import State
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from keystead.errors import OAuthError
from keystead.events import new_correlation_id
from keystead.protocol.request import OAuthRequest, from_pairs
from keystead.web import render
from keystead.web.observe import observed
from keystead.web.parse import MAX_BODY, check_form_type, parse_form

if TYPE_CHECKING:
    from keystead.provider import Provider

log = logging.getLogger("keystead.web")

Endpoint = Callable[[Request], Awaitable[Response]]
DirectWork = Callable[[OAuthRequest, "Provider"], Awaitable[dict[str, Any]]]
# A static JSON document for a direct GET: its bytes and its Cache-Control max-age.
StaticSource = Callable[["Keystead"], Awaitable[tuple[bytes, int]]]

# The request headers the direct lane reads (ASGI header names are lower-case bytes).
_WANTED = frozenset({b"content-type", b"authorization", b"origin", b"accept"})
_JSON_NO_STORE = [
    (b"content-type", b"application/json"),
    (b"cache-control", b"no-store"),  # RFC 6749 §5.1
    (b"pragma", b"no-cache"),
]


@dataclass(frozen=True, slots=True)
class Direct:
    """A direct lane: the protocol function, extra response headers, and when to decline
    (the request then takes the fast lane: e.g. introspection asked for a JWT answer)."""

    work: DirectWork
    headers: tuple[tuple[str, str], ...] = ()
    declines: Callable[[dict[bytes, bytes]], bool] = lambda headers: False

    @property
    def raw_headers(self) -> list[tuple[bytes, bytes]]:
        return _JSON_NO_STORE + [(k.lower().encode(), v.encode()) for k, v in self.headers]


def _headers_of(scope: Scope) -> dict[bytes, bytes]:
    found: dict[bytes, bytes] = {}
    for name, value in scope["headers"]:
        if name in _WANTED and name not in found:  # the first, as Starlette's headers.get
            found[name] = value
    return found


async def _read_body(receive: Receive) -> bytes:
    body = b""
    while True:
        message = await receive()
        if message["type"] != "http.request":  # the client went away
            raise OAuthError("request-invalid-parameter", "The request body is incomplete.")
        body += message.get("body", b"")
        if len(body) > MAX_BODY:
            raise OAuthError("request-invalid-parameter", "The request body is too large.")
        if not message.get("more_body", False):
            return body


class _State(State):
    """Starlette's ``State`` whose values are also plain instance attributes. ``State`` keeps
    them in a dict that only its ``__getattr__`` reaches — after the normal lookup failed and
    raised (a formatted ``AttributeError``): ~0.5 µs per ``app.state.provider``, read on every
    request. Found on the normal path, ~40 ns."""

    def __setattr__(self, key: Any, value: Any) -> None:
        super().__setattr__(key, value)
        object.__setattr__(self, key, value)

    def __delattr__(self, key: Any) -> None:
        super().__delattr__(key)
        object.__delattr__(self, key)


class Keystead(Starlette):
    """The Starlette application with a fast lane in front of its router."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.state = _State()
        # (method, full path) -> (metrics label, endpoint, how a 500 travels: json | page)
        self.lanes: dict[tuple[str, str], tuple[str, Endpoint, str]] = {}
        # (method, full path) -> its direct lane, with the response headers prebuilt
        self.direct: dict[tuple[str, str], tuple[Direct, list[tuple[bytes, bytes]]]] = {}
        # (GET, full path) -> where its document comes from; the last document's headers
        self.static: dict[tuple[str, str], StaticSource] = {}
        self._static_heads: dict[tuple[str, str], tuple[bytes, list[tuple[bytes, bytes]]]] = {}

    def add_lane(
        self, methods: list[str], path: str, label: str, endpoint: Endpoint, kind: str = "json"
    ) -> None:
        for method in methods:
            self.lanes[(method, path)] = (label, endpoint, kind)

    def add_direct(self, method: str, path: str, direct: Direct) -> None:
        """A direct lane for a path that has a fast lane already."""
        assert (method, path) in self.lanes, f"{method} {path} has no fast lane"
        self.direct[(method, path)] = (direct, direct.raw_headers)

    def add_static(self, path: str, source: StaticSource) -> None:
        """A direct lane for a public JSON document (JWKS, discovery) served to GETs without
        ``Origin``: the same bytes and headers as its fast lane, which answers the others."""
        assert ("GET", path) in self.lanes, f"GET {path} has no fast lane"
        self.static[("GET", path)] = source

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
                    if b"origin" not in headers and not direct[0].declines(headers):
                        await self._direct(lane[0], direct, headers, scope, receive, send)
                        return
                await self._fast(lane, scope, receive, send)
                return
        await super().__call__(scope, receive, send)

    async def _direct(
        self,
        label: str,
        direct: tuple[Direct, list[tuple[bytes, bytes]]],
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
                pairs = parse_form(await _read_body(receive))
                basic = headers.get(b"authorization")
                client = scope.get("client")
                req = from_pairs(
                    scope["method"],
                    pairs,
                    authorization=None if basic is None else basic.decode("latin-1"),
                    remote_addr=client[0] if client else None,
                    headers={"origin": ""},
                )
                result = await lane.work(req, provider)
            except OAuthError as err:
                cid = render.correlation_id()
                context = render.request_context(Request(scope))
                response = render.render_error(err, provider, kind="json", cid=cid, context=context)
                response.headers.update(dict(lane.headers))
                await response(scope, receive, send)
                return
            payload = json.dumps(result, separators=(",", ":")).encode()
            length = (b"content-length", str(len(payload)).encode())
            head = [*raw_headers, length]
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
                head = [
                    (b"cache-control", f"public, max-age={max_age}".encode()),
                    (b"content-length", str(len(body)).encode()),
                    (b"content-type", b"application/json"),
                    (b"access-control-allow-origin", b"*"),  # web/cors.py: a public route
                ]
                cached = self._static_heads[key] = (body, head)
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
