"""Durability: SIGKILL a server under load; after a restart, every token it had answered 200
for is still valid — access tokens introspect active, the newest refresh token of each
family still refreshes. On SQLite (WAL, synchronous=FULL) and on PostgreSQL.

A response is sent only after its transaction committed, so nothing acknowledged may be
lost. Requests in flight at the kill are unknown either way and are left out. Refresh
families stop rotating a moment before the kill, so that the newest token of each is known
(a rotation in flight at the kill may or may not have committed); access tokens are still
being issued when the process dies.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests import postgres
from tests.e2e.cluster import (
    Cluster,
    Instance,
    authorization_url,
    browse_to_code,
    client_credentials,
    introspect,
    redeem,
    refresh,
)

pytestmark = pytest.mark.anyio

API = "https://api.example.test/"
LOAD_SECONDS = 1.5
TOKEN_WORKERS = 6
FAMILIES = 3


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> Iterator[str | None]:
    if request.param == "sqlite":
        yield None
    else:
        with postgres.temporary_database() as url:
            yield url


async def _issue_tokens(
    http: httpx.AsyncClient, server: Instance, client: tuple[str, str | None], out: list[str]
) -> None:
    while True:
        try:
            response = await client_credentials(http, server, client, API)
        except httpx.TransportError:
            return  # killed
        assert response.status_code == 200, response.text
        out.append(response.json()["access_token"])


async def _rotate(
    http: httpx.AsyncClient,
    server: Instance,
    client: tuple[str, str | None],
    family: dict[str, object],
    stop: asyncio.Event,
) -> None:
    while not stop.is_set():
        response = await refresh(http, server, client, str(family["token"]))
        assert response.status_code == 200, response.text
        family["token"] = response.json()["refresh_token"]
        family["rotations"] = int(str(family["rotations"])) + 1


async def test_every_acknowledged_token_survives_a_sigkill(
    database_url: str | None, tmp_path: Path
) -> None:
    cluster = Cluster(tmp_path, database_url, count=1)
    (server,) = cluster.instances
    try:
        server.start()
        cluster.add_user("alice")
        # Opaque: every access token is a database row (client_credentials JWTs are not).
        cluster.add_api(API, "api:read", token_format="opaque")
        machine = cluster.add_client(grant_types=["client_credentials"], scope="api:read")
        app = cluster.add_client(scope="openid offline_access", skip_consent=True)
        async with httpx.AsyncClient(timeout=10) as http:
            families: list[dict[str, object]] = []
            for i in range(FAMILIES):
                verifier = f"{i}" * 50
                url = authorization_url(app[0], "openid offline_access", verifier)
                code = await browse_to_code(http, server, url)
                tokens = (await redeem(http, server, app, code, verifier)).json()
                families.append({"token": tokens["refresh_token"], "rotations": 0})

            issued: list[str] = []
            stop_rotating = asyncio.Event()
            load = [
                *(_issue_tokens(http, server, machine, issued) for _ in range(TOKEN_WORKERS)),
                *(_rotate(http, server, app, f, stop_rotating) for f in families),
            ]
            tasks = [asyncio.create_task(work) for work in load]
            await asyncio.sleep(LOAD_SECONDS)
            stop_rotating.set()
            await asyncio.gather(*tasks[TOKEN_WORKERS:])  # every rotation answered
            server.kill()  # mid-request: no shutdown, no flush
            await asyncio.wait_for(asyncio.gather(*tasks), 30)

            server.start()
            started = time.monotonic()
            inactive = [
                token
                for token in issued
                if not (await introspect(http, server, machine, token))["active"]
            ]
            refused = [
                f for f in families if (await refresh(http, server, app, str(f["token"]))).is_error
            ]
    finally:
        server.stop()
    assert len(issued) > 20 and sum(int(str(f["rotations"])) for f in families) > 5
    assert inactive == [], f"{len(inactive)} of {len(issued)} acknowledged tokens were lost"
    assert refused == [], refused
    assert time.monotonic() - started < 60
