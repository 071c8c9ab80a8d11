"""X-Forwarded-For from the configured proxies, with the direct peer kept.

``keystead serve`` wraps the app in ``Forwarded`` instead of turning on uvicorn's
``proxy_headers``: the same rewriting (uvicorn's ProxyHeadersMiddleware: ``scope["client"]``
becomes the forwarded client when the peer is in KEYSTEAD_FORWARDED_ALLOW_IPS), but the
address the request really came from is kept as ``scope["keystead.peer"]`` first, so a
header only a trusted proxy may set (KEYSTEAD_MTLS_CERT_HEADER, web/mtls.py) is judged by
who sent it, not by whom the proxy says it forwards for.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from keystead.web.mtls import PEER


class Forwarded:
    def __init__(self, app: ASGIApp, trusted_hosts: str) -> None:
        self.app = app  # the Keystead app (its state, for tests and tools)
        self._rewrite = ProxyHeadersMiddleware(app, trusted_hosts=trusted_hosts)  # type: ignore[arg-type]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            scope[PEER] = scope.get("client")
        await self._rewrite(scope, receive, send)  # type: ignore[arg-type]


def served(app: ASGIApp, forwarded_allow_ips: str | None) -> ASGIApp:
    """The app as `keystead serve` runs it."""
    return app if forwarded_allow_ips is None else Forwarded(app, forwarded_allow_ips)


def create_served_app() -> ASGIApp:
    """ASGI factory of `keystead serve --workers N`: ``keystead.app:create_app`` wrapped."""
    from keystead.app import create_app
    from keystead.config import load_settings

    return served(create_app(), load_settings().forwarded_allow_ips)
