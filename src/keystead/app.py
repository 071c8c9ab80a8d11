"""build_app(settings) -> the Starlette application: routes, lifespan."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from keystead.bootstrap import open_provider
from keystead.config import Settings
from keystead.protocol.discovery import metadata
from keystead.provider import Provider
from keystead.services.demo import DemoData
from keystead.web import authorize, endpoints, errors_pages, pages
from keystead.web.demo import demo_routes
from keystead.web.interaction import InteractionSigner

OIDC_CONFIG = "/.well-known/openid-configuration"
OAUTH_METADATA = "/.well-known/oauth-authorization-server"


def _routes(settings: Settings, demo: DemoData | None) -> list[BaseRoute]:
    routes: list[BaseRoute] = [
        Route(OIDC_CONFIG, endpoints.discovery, methods=["GET"]),
        Route(OAUTH_METADATA, endpoints.discovery, methods=["GET"]),
        Route("/authorize", authorize.authorize, methods=["GET", "POST"]),
        Route("/login", authorize.login, methods=["POST"]),
        Route("/consent", authorize.consent, methods=["POST"]),
        Route("/token", endpoints.token, methods=["POST"]),
        Route("/userinfo", endpoints.userinfo, methods=["GET", "POST"]),
        Route("/revoke", endpoints.revoke, methods=["POST"]),
        Route("/introspect", endpoints.introspect, methods=["POST"]),
        Route("/jwks", endpoints.jwks, methods=["GET"]),
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
        Route(OAUTH_METADATA + path, endpoints.discovery, methods=["GET"]),
        Route(OIDC_CONFIG + path, endpoints.discovery, methods=["GET"]),
        Mount(path, routes=routes),
    ]


def build_app(
    settings: Settings, provider: Provider | None = None, *, demo: DemoData | None = None
) -> Starlette:
    """The ASGI app. Without a provider, the lifespan opens one from the settings."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        own = provider is None
        current = provider if provider is not None else await open_provider(settings)
        _attach(app, current)
        housekeeping = asyncio.create_task(_housekeeping(current))
        try:
            yield
        finally:
            housekeeping.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await housekeeping
            await current.recorder.flush()
            if own:
                await current.close()

    app = Starlette(
        routes=_routes(settings, demo),
        lifespan=lifespan,
        exception_handlers={405: endpoints.method_not_allowed},
    )
    if provider is not None:
        _attach(app, provider)
    return app


async def _housekeeping(provider: Provider) -> None:
    """Write buffered events every second; purge old ones every hour."""
    retention = provider.settings.event_retention_days * 86400
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
        if ticks % 3600 == 0:
            try:
                await provider.recorder.purge(retention)
            except Exception:  # noqa: BLE001 - housekeeping must not stop
                logging.getLogger("keystead").exception("event purge failed")
        ticks += 1


def _attach(app: Starlette, provider: Provider) -> None:
    settings = provider.settings
    app.state.provider = provider
    app.state.signer = InteractionSigner(
        provider.kek.derive("interaction-state"), settings.interaction_ttl
    )
    app.state.discovery_bytes = endpoints.discovery_bytes(metadata(settings))
