"""build_app(settings) -> the ASGI application: the endpoint table (web/table.py) served by
web/fastlane.py's ``Keystead``, and the lifespan that opens the provider."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

import anyio
from starlette.applications import Starlette
from starlette.middleware import Middleware

from keystead import invalidation
from keystead.accounts.password_policy import common_passwords
from keystead.bootstrap import open_provider
from keystead.config import Settings, load_settings
from keystead.housekeeping import purge_expired
from keystead.jobs import HANDLERS
from keystead.logs import lean_records
from keystead.metrics import Metrics
from keystead.outbox import Sender
from keystead.protocol.discovery import metadata
from keystead.provider import Provider
from keystead.services.demo import DemoData
from keystead.web import endpoints
from keystead.web.fastlane import Keystead
from keystead.web.interaction import InteractionSigner
from keystead.web.observe import ObserveRequests
from keystead.web.table import ENDPOINTS


def build_app(
    settings: Settings, provider: Provider | None = None, *, demo: DemoData | None = None
) -> Keystead:
    """The ASGI app. Without a provider, the lifespan opens one from the settings."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        own = provider is None
        current = provider if provider is not None else await open_provider(settings)
        _attach(app, current)
        # The outbox's sender (mail now): woken when a request writes a job.
        sender = Sender(current, HANDLERS)
        current.wake_outbox = sender.wake
        tasks = [asyncio.create_task(_housekeeping(current)), asyncio.create_task(sender.run())]
        # The list of common passwords is read once, off the event loop, before requests.
        await anyio.to_thread.run_sync(common_passwords)
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
        # web/table.py: every endpoint, and how it is served
        [row for row in ENDPOINTS if demo is not None or not row.demo],
        issuer_path=settings.issuer_path,
        lifespan=lifespan,
        exception_handlers={405: endpoints.method_not_allowed},
        middleware=[Middleware(ObserveRequests, metrics=metrics)],  # request metrics and log
    )
    app.state.metrics = metrics
    app.state.demo, app.state.demo_pending = demo, {}
    if provider is not None:
        _attach(app, provider)
    return app


async def _housekeeping(provider: Provider) -> None:
    """Write buffered events every second; purge expired rows every ``purge_interval``."""
    ticks = 0
    while True:
        await asyncio.sleep(1)
        provider.events.summarize_repeats()  # identical refusals, one event a second
        await provider.recorder.flush()
        if ticks % 10 == 0:
            # Rows rotated by older versions keep their successor encrypted: only for the
            # grace window (successors are derived now, and kept nowhere).
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
