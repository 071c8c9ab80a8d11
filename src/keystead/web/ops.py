"""Operations endpoints, at the root of the server whatever the issuer path:

- ``/healthz``: the process is alive (no I/O) — a liveness probe;
- ``/readyz``: the database (and Redis, when configured) answer — take the instance out of
  the load balancer otherwise (503);
- ``/metrics``: Prometheus text format (keep it off the public internet: see
  docs/deployment.md).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import Response

from keystead.invalidation import PublishingStore
from keystead.metrics import Metrics
from keystead.web import render

if TYPE_CHECKING:
    from keystead.provider import Provider

log = logging.getLogger("keystead.web")

READY_TIMEOUT = 2.0  # seconds per check


async def healthz(request: Request) -> Response:
    return render.json_response({"status": "ok"}, headers=render.NO_STORE)


def _checks(provider: Provider) -> dict[str, Callable[[], Awaitable[object]]]:
    store = provider.store
    if isinstance(store, PublishingStore):
        return {"database": store.inner.ping, "redis": store.redis.ping}
    return {"database": store.ping}


async def readyz(request: Request) -> Response:
    provider: Provider | None = getattr(request.app.state, "provider", None)
    if provider is None:  # still starting
        return render.json_response({"status": "starting"}, 503, render.NO_STORE)
    results: dict[str, str] = {}
    for name, check in _checks(provider).items():
        try:
            await asyncio.wait_for(check(), READY_TIMEOUT)
            results[name] = "ok"
        except Exception as exc:  # noqa: BLE001 - any failure means "not ready"
            log.warning("readiness check %s failed: %r", name, exc)
            results[name] = "unavailable"
    ready = all(value == "ok" for value in results.values())
    body = {"status": "ok" if ready else "unavailable", "checks": results}
    return render.json_response(body, 200 if ready else 503, render.NO_STORE)


async def metrics(request: Request) -> Response:
    collected: Metrics = request.app.state.metrics
    body, content_type = await anyio.to_thread.run_sync(collected.render)
    return Response(body, headers={"Content-Type": content_type, **render.NO_STORE})
