"""build_app(settings) -> the Starlette application: routes, lifespan."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from keystead import invalidation
from keystead.bootstrap import open_provider
from keystead.config import Settings, load_settings
from keystead.housekeeping import purge_expired
from keystead.logs import lean_records
from keystead.metrics import Metrics
from keystead.protocol.discovery import metadata
from keystead.provider import Provider
from keystead.services.demo import DemoData
from keystead.web import authorize, cors, endpoints, errors_pages, logout, pages, registration
from keystead.web.admin import admin_routes
from keystead.web.demo import demo_routes
from keystead.web.fastlane import Direct, Keystead, StaticSource
from keystead.web.interaction import InteractionSigner
from keystead.web.observe import ObserveRequests
from keystead.web.ops import ops_routes

OIDC_CONFIG = "/.well-known/openid-configuration"
OAUTH_METADATA = "/.well-known/oauth-authorization-server"


def _routes(settings: Settings, demo: DemoData | None) -> list[BaseRoute]:
    # CORS per route (web/cors.py): any origin for discovery and JWKS, registered clients'
    # origins for token, UserInfo and revocation; none for introspection and the pages.
    routes: list[BaseRoute] = [
        cors.public_route(OIDC_CONFIG, endpoints.discovery),
        cors.public_route(OAUTH_METADATA, endpoints.discovery),
        Route("/authorize", authorize.authorize, methods=["GET", "POST"]),
        Route("/login", authorize.login, methods=["POST"]),
        Route("/consent", authorize.consent, methods=["POST"]),
        Route("/logout", logout.logout, methods=["GET", "POST"]),
        Route("/logout/confirm", logout.confirm, methods=["POST"]),
        cors.client_route("/token", endpoints.token, ["POST"]),
        cors.client_route("/userinfo", endpoints.userinfo, ["GET", "POST"]),
        cors.client_route("/revoke", endpoints.revoke, ["POST"]),
        Route("/introspect", endpoints.introspect, methods=["POST"]),
        cors.public_route("/jwks", endpoints.jwks),
        Route("/register", registration.register, methods=["POST"]),  # RFC 7591
        Route("/register/{client_id}", registration.manage, methods=["GET", "PUT", "DELETE"]),
        *admin_routes(),  # /admin/api: keystead's own client_credentials tokens
        Route("/errors", errors_pages.error_index, methods=["GET"]),
        Route("/errors/{catalog_id}", errors_pages.error_doc, methods=["GET"]),
        Mount("/static", StaticFiles(directory=pages.STATIC_DIR), name="static"),
    ]
    if demo is not None:
        routes += demo_routes(settings, demo)
    path = settings.issuer_path
    if not path:
        return routes
    return [
        # RFC 8414 §3.1: metadata of an issuer with a path, well-known segment inserted.
        cors.public_route(OAUTH_METADATA + path, endpoints.discovery),
        cors.public_route(OIDC_CONFIG + path, endpoints.discovery),
        Mount(path, routes=routes),
    ]


def build_app(
    settings: Settings, provider: Provider | None = None, *, demo: DemoData | None = None
) -> Keystead:
    """The ASGI app. Without a provider, the lifespan opens one from the settings."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        own = provider is None
        current = provider if provider is not None else await open_provider(settings)
        _attach(app, current)
        tasks = [asyncio.create_task(_housekeeping(current))]
        if settings.redis_url:  # drop cached clients, APIs and keys when another process says
            tasks.append(asyncio.create_task(invalidation.listen(current, settings.redis_url)))
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await current.recorder.flush()
            if own:
                await current.close()

    metrics = Metrics()
    app = Keystead(
        routes=ops_routes() + _routes(settings, demo),  # /healthz /readyz /metrics at the root
        lifespan=lifespan,
        exception_handlers={405: endpoints.method_not_allowed},
        middleware=[Middleware(ObserveRequests, metrics=metrics)],  # request metrics and log
    )
    app.state.metrics = metrics
    _add_fast_lanes(app, app.routes)
    if provider is not None:
        _attach(app, provider)
    return app


# The hot endpoints: dispatched before Starlette's router (web/fastlane.py). /authorize is
# there for the SSO case: a signed-in user's browser goes through it on every client login.
FAST_LANES = frozenset(
    {
        "/token",
        "/introspect",
        "/jwks",
        "/userinfo",
        "/revoke",
        "/authorize",
        OIDC_CONFIG,
        OAUTH_METADATA,
    }
)
PAGE_LANES = frozenset({"/authorize"})  # a browser's: an unexpected failure is an HTML page
# Server-to-server POSTs without Origin skip the Request/Response objects (web/fastlane.py);
# the token endpoint's answers vary with Origin (CORS), as on the ordinary path.
DIRECT_LANES = {
    "/token": Direct(endpoints.token_direct, headers=(("Vary", "Origin"),)),
    "/introspect": Direct(endpoints.introspect_direct, declines=endpoints.wants_jwt),
}


# Public documents (GET without Origin) served with prebuilt headers (web/fastlane.py).
def _static_document(path: str) -> StaticSource | None:
    if path == "/jwks":
        return endpoints.jwks_document
    if path.startswith((OIDC_CONFIG, OAUTH_METADATA)):  # also RFC 8414 §3.1's path variants
        return endpoints.discovery_document
    return None


def _add_fast_lanes(app: Keystead, routes: list[BaseRoute], prefix: str = "") -> None:
    for route in routes:
        if isinstance(route, Mount) and route.routes:
            _add_fast_lanes(app, list(route.routes), prefix + route.path)
        elif isinstance(route, Route) and (
            route.path in FAST_LANES or route.path.startswith("/.well-known/")
        ):
            methods = sorted((route.methods or set()) & {"GET", "POST"})
            kind = "page" if route.path in PAGE_LANES else "json"
            app.add_lane(methods, prefix + route.path, route.path, route.endpoint, kind)
            if route.path in DIRECT_LANES:
                app.add_direct("POST", prefix + route.path, DIRECT_LANES[route.path])
            document = _static_document(route.path)
            if document is not None and "GET" in methods:
                app.add_static(prefix + route.path, document)


async def _housekeeping(provider: Provider) -> None:
    """Write buffered events every second; purge expired rows every ``purge_interval``."""
    ticks = 0
    while True:
        await asyncio.sleep(1)
        await provider.recorder.flush()
        if ticks % 10 == 0:
            # A rotated refresh token's successor is kept (encrypted) only for the grace window.
            try:
                before = provider.now() - provider.settings.refresh_grace
                await provider.store.grants.clear_successors(before)
            except Exception:  # noqa: BLE001
                logging.getLogger("keystead").exception("clearing refresh successors failed")
        if ticks % provider.settings.purge_interval == 0:
            try:
                await purge_expired(provider)  # codes, tokens, grants, sessions, events
            except Exception:  # noqa: BLE001 - housekeeping must not stop
                logging.getLogger("keystead").exception("purge of expired rows failed")
        ticks += 1


def create_app() -> Keystead:
    """ASGI factory with settings from the environment (``KEYSTEAD_*``): what each worker of
    ``keystead serve --workers N`` runs (``uvicorn --factory keystead.app:create_app``)."""
    lean_records()
    return build_app(load_settings())


def _attach(app: Starlette, provider: Provider) -> None:
    settings = provider.settings
    app.state.provider = provider
    if app.state.metrics not in provider.events.subscribers:
        provider.events.subscribers.append(app.state.metrics)  # tokens, logins, errors
    app.state.signer = InteractionSigner(
        provider.kek.derive("interaction-state"), settings.interaction_ttl
    )
    app.state.discovery_bytes = endpoints.discovery_bytes(metadata(settings))
