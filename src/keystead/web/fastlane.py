"""The fast lane: the hot endpoints (token, introspection, JWKS, discovery, UserInfo,
revocation) are dispatched by one dict lookup on (method, path) before Starlette's router and
middleware stack, which cost about a quarter of a JWKS request (a regex per route, three
middleware layers). The same endpoint functions run — CORS, the error guard, parsing and
rendering are unchanged — and the lane does what the skipped layers did for them: the
request's metrics and access log line (web/observe.py) and a 500 with a correlation id for an
exception that escaped the endpoint. Every other request takes the ordinary path.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from keystead.events import new_correlation_id
from keystead.web import render
from keystead.web.observe import observed

log = logging.getLogger("keystead.web")

Endpoint = Callable[[Request], Awaitable[Response]]


class Keystead(Starlette):
    """The Starlette application with a fast lane in front of its router."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # (method, full path) -> (metrics label, endpoint, how a 500 travels: json | page)
        self.lanes: dict[tuple[str, str], tuple[str, Endpoint, str]] = {}

    def add_lane(
        self, methods: list[str], path: str, label: str, endpoint: Endpoint, kind: str = "json"
    ) -> None:
        for method in methods:
            self.lanes[(method, path)] = (label, endpoint, kind)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            lane = self.lanes.get((scope["method"], scope["path"]))
            if lane is not None:
                await self._fast(lane, scope, receive, send)
                return
        await super().__call__(scope, receive, send)

    async def _fast(
        self, lane: tuple[str, Endpoint, str], scope: Scope, receive: Receive, send: Send
    ) -> None:
        label, endpoint, kind = lane
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
            response = await endpoint(Request(scope, receive))
            await response(scope, receive, send_observed)
        except Exception as exc:  # noqa: BLE001 - what ServerErrorMiddleware did on this path
            if started:  # too late for an error response: the client sees a cut connection
                log.exception("response failed after it started, cid=%s", cid)
                raise
            failure = render.internal_error(exc, self.state.provider, kind=kind, cid=cid)
            await failure(scope, receive, send_observed)
        finally:
            observed(self.state.metrics, scope, path, label, status, start)
