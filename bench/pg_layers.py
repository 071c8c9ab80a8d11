"""Where a PostgreSQL read's time goes, layer by layer (docs/performance.md, "Where the
PostgreSQL time goes"):

    python -m bench.pg_layers [--calls 3000]

One statement — introspection's (an access token's state with its grant's: ``_TOKEN_STATUS``
of store/sql/grants.py) — run in a loop on a throw-away database, one way per line, from the
bare driver up to the store's paths before and after issue 19. For each: the client's CPU
time per call (this process: driver, SQLAlchemy, greenlet, event loop), PostgreSQL's CPU
time per call (every ``postgres`` process, so run it on a quiet machine), round trips per
call (counted on the wire by tests/pgproxy.py's proxy, in a second pass) and wall time.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from bench.servers import SystemService, pg_create, pg_drop

ROOT = Path(__file__).resolve().parent.parent
Call = Callable[[], Awaitable[Any]]


async def _setup(url: str) -> tuple[Any, str]:
    """A migrated database holding one grant and one access token: (store, token hash)."""
    from keystead.store.base import AccessToken, Grant
    from keystead.store.sql import migrate, open_store

    await migrate(url)
    store = await open_store(url)
    await store.clients.add(_client())
    await store.grants.add_grant(Grant("g", "c", "s", "openid", 1, auth_time=1))
    token = AccessToken("f" * 64, "g", "c", "s", "openid", 2**40, 1)
    await store.grants.add_access_token(token)
    return store, token.token_hash


def _client() -> Any:
    from keystead.store.base import Client

    return Client("c", "n", (), (), (), "openid", "none")


async def _ways(store: Any, url: str, key: str) -> list[tuple[str, Call, Callable[[], Any]]]:
    """(name, one call, clean-up) for each way of running the statement."""
    import asyncpg

    from keystead.store.sql.engine import make_engine
    from keystead.store.sql.grants import _TOKEN_STATUS

    db = store.db
    params = {"key": key}
    plan = _TOKEN_STATUS.plan(db.engine.dialect, params)
    assert plan is not None
    dsn = url.replace("postgresql+asyncpg", "postgresql")
    raw = await asyncpg.connect(dsn)
    ways: list[tuple[str, Call, Callable[[], Any]]] = [
        ("asyncpg fetchrow, one held connection", lambda: raw.fetchrow(plan.sql, key), raw.close),
        (
            "store: AsyncDatabase.first (kept connection)",
            lambda: db.first(_TOKEN_STATUS, params),
            _none,
        ),
    ]
    statement = _TOKEN_STATUS.statement

    def work(connection: Any) -> Any:
        return connection.execute(statement, params).first()

    engine = make_engine(url)
    autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")

    async def sa_autocommit() -> Any:
        async with autocommit.connect() as connection:
            return await connection.run_sync(work)

    async def sa_transaction() -> Any:
        async with engine.begin() as connection:
            return await connection.run_sync(work)

    pinged = make_engine(url, pool_pre_ping=True)

    async def before_issue_19() -> Any:  # store/sql/database.py's read before issue 19
        async with pinged.begin() as connection:
            return await connection.run_sync(work)

    ways += [
        ("SQLAlchemy Core via run_sync, autocommit", sa_autocommit, engine.dispose),
        ("... in a transaction (BEGIN, COMMIT)", sa_transaction, _none),
        ("... and pool_pre_ping (before issue 19)", before_issue_19, pinged.dispose),
    ]
    return ways


async def _none() -> None:
    return None


async def _measure(call: Call, calls: int) -> tuple[float, float, float]:
    """(client CPU µs, PostgreSQL CPU µs, wall µs) per call."""
    postgres = SystemService("postgres")
    for _ in range(200):  # warm: statements prepared, pools filled
        await call()
    pg0, cpu0, wall0 = postgres.cpu_seconds(), time.process_time(), time.perf_counter()
    for _ in range(calls):
        await call()
    pg1, cpu1, wall1 = postgres.cpu_seconds(), time.process_time(), time.perf_counter()
    per = 1e6 / calls
    return (cpu1 - cpu0) * per, (pg1 - pg0) * per, (wall1 - wall0) * per


async def _round_trips(url: str, calls: int = 50) -> list[float]:
    sys.path.insert(0, str(ROOT))
    from tests.pgproxy import counting

    async with counting(url) as (proxied, proxy):
        store, key = await _setup_existing(proxied)
        try:
            counts = []
            for _name, call, done in await _ways(store, proxied, key):
                for _ in range(5):
                    await call()
                before = proxy.count
                for _ in range(calls):
                    await call()
                counts.append((proxy.count - before) / calls)
                await done()
            return counts
        finally:
            await store.close()


async def _setup_existing(url: str) -> tuple[Any, str]:
    from keystead.store.sql import open_store

    return await open_store(url), "f" * 64


async def main_async(url: str, calls: int) -> None:
    store, key = await _setup(url)
    rows = []
    try:
        for name, call, done in await _ways(store, url, key):
            rows.append((name, *await _measure(call, calls)))
            await done()
    finally:
        await store.close()
    trips = await _round_trips(url)
    print(f"{'way':48} {'client µs':>10} {'postgres µs':>12} {'round trips':>12} {'wall µs':>8}")
    for (name, client, server, wall), rt in zip(rows, trips, strict=True):
        print(f"{name:48} {client:10.1f} {server:12.1f} {rt:12.2f} {wall:8.1f}")
    print(f"({calls} calls each, one at a time; load average {os.getloadavg()[0]:.2f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=3000)
    args = parser.parse_args()
    name, url = pg_create()
    try:
        import uvloop

        uvloop.run(main_async(url, args.calls))
    finally:
        pg_drop(name)


if __name__ == "__main__":
    main()
