"""PostgreSQL specifics: migrations (matching models.py, parallel-safe under the advisory
lock) and single-use operations across two engines. The contract suite itself runs on
PostgreSQL through the ``store`` fixture."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import JSON, text
from sqlalchemy.engine import Connection

from keystead.store.base import AuthorizationCode, Client, Grant, RefreshToken
from keystead.store.sql import make_engine, migrate, open_store
from keystead.store.sql.models import Base
from tests import postgres
from tests.store.test_sql_migrate import MIGRATE_IN_A_PROCESS, TABLES, _head

pytestmark = pytest.mark.anyio


@pytest.fixture
def fresh_url() -> Iterator[str]:
    """An empty database of its own (migrations from scratch)."""
    with postgres.temporary_database() as url:
        yield url


async def _scalars(url: str, sql: str) -> list[Any]:
    engine = make_engine(url)
    try:
        async with engine.connect() as connection:
            return list((await connection.execute(text(sql))).scalars())
    finally:
        await engine.dispose()


async def _tables(url: str) -> set[str]:
    return set(await _scalars(url, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"))


async def test_migrate_from_scratch_then_again_is_a_no_op(fresh_url: str) -> None:
    await migrate(fresh_url)
    store = await open_store(fresh_url)
    try:
        await store.clients.add(Client("c", "n", (), (), (), "openid", "none"))
    finally:
        await store.close()
    await migrate(fresh_url)
    assert await _tables(fresh_url) == TABLES
    assert await _scalars(fresh_url, "SELECT version_num FROM alembic_version") == [_head()]
    assert await _scalars(fresh_url, "SELECT client_id FROM clients") == ["c"]


def _compare_server_default(
    context: Any,
    inspected_column: Any,
    metadata_column: Any,
    inspected_default: str | None,
    metadata_default: Any,
    rendered_metadata_default: str | None,
) -> bool | None:
    """PostgreSQL's ``json`` has no ``=`` operator, so Alembic cannot ask the server whether
    ``'[]'::json`` equals ``'[]'``: compare the literals as text instead (True = different)."""
    if not isinstance(metadata_column.type, JSON):
        return None  # Alembic's own comparison
    inspected = (inspected_default or "").removesuffix("::json")
    return inspected != (rendered_metadata_default or "")


async def test_migration_matches_models(postgres_url: str) -> None:
    def diff(connection: Connection) -> list[Any]:
        context = MigrationContext.configure(
            connection, opts={"compare_server_default": _compare_server_default}
        )
        return list(compare_metadata(context, Base.metadata))

    engine = make_engine(postgres_url)
    try:
        async with engine.connect() as connection:
            assert await connection.run_sync(diff) == []
    finally:
        await engine.dispose()


async def test_parallel_migrations_in_separate_processes(fresh_url: str) -> None:
    """Four processes migrate one empty database at once: the advisory lock serializes them."""
    start_at = time.time() + 2.0  # after every interpreter has started and imported keystead
    processes = [
        subprocess.Popen(  # noqa: ASYNC220
            [sys.executable, "-c", MIGRATE_IN_A_PROCESS, fresh_url, str(start_at)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    outcomes = [await asyncio.to_thread(p.communicate, timeout=60) for p in processes]

    for process, (_, stderr) in zip(processes, outcomes, strict=True):
        assert process.returncode == 0, stderr
    assert await _scalars(fresh_url, "SELECT version_num FROM alembic_version") == [_head()]
    assert await _tables(fresh_url) == TABLES


async def test_single_use_operations_across_two_engines(postgres_url: str) -> None:
    """Two stores on one database behave like two processes: exactly one consumer wins."""
    await postgres.truncate_all(postgres_url)
    first, second = await open_store(postgres_url), await open_store(postgres_url)
    try:
        await first.clients.add(Client("c", "n", (), (), (), "openid", "none"))
        await first.grants.add_grant(Grant("g", "c", "s", "openid", 1))
        await first.grants.add_code(
            AuthorizationCode("0" * 64, "g", "c", "s", "https://rp/cb", "openid", 60, 1, 1)
        )
        await first.grants.add_refresh_token(
            RefreshToken("0" * 64, "g", "c", "s", "openid", 1, 100, 50)
        )
        stores = [first, second] * 5
        consumed = await asyncio.gather(
            *(store.grants.consume_code("0" * 64, now=2) for store in stores)
        )
        assert sum(r is not None for r in consumed) == 1
        successors = [
            RefreshToken(f"{i:064x}", "g", "c", "s", "openid", 2, 100, 60) for i in range(1, 11)
        ]
        rotated = await asyncio.gather(
            *(
                store.grants.rotate_refresh_token("0" * 64, successor, "enc", now=2)
                for store, successor in zip(stores, successors, strict=True)
            )
        )
        assert rotated.count(True) == 1
        assert await _scalars(postgres_url, "SELECT count(*) FROM refresh_tokens") == [2]
    finally:
        await first.close()
        await second.close()


async def test_the_first_request_after_the_database_dropped_connections_succeeds(
    fresh_url: str,
) -> None:
    """Issue 18 #10: after a restart (here: every connection of the database terminated) the
    pool held dead connections and the first request on each failed; they are checked."""
    await migrate(fresh_url)
    store = await open_store(fresh_url)
    try:
        await store.clients.add(Client("c", "n", (), (), (), "openid", "none"))
        name = fresh_url.rsplit("/", 1)[1]
        where = f"datname = '{name}' AND pid <> pg_backend_pid()"  # our own database's name
        kill = "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE " + where  # noqa: S608
        killed = await _scalars(postgres.ADMIN_URL, kill)
        assert killed and all(killed)
        assert await store.clients.get("c") is not None
        # A write too (no ping, and a write is never run twice): the connection the server
        # closed is known closed locally and replaced when taken from the pool.
        killed = await _scalars(postgres.ADMIN_URL, kill)
        assert killed and all(killed)
        await asyncio.sleep(0.05)  # the loop reads the server's goodbye (as any idle pool does)
        await store.clients.add(Client("d", "n", (), (), (), "openid", "none"))
        assert await store.clients.get("d") is not None
    finally:
        await store.close()
