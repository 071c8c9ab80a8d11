"""Throw-away PostgreSQL databases for the tests.

PostgreSQL runs on 127.0.0.1:5432 on dev machines and in CI (``KEYSTEAD_TEST_POSTGRES_URL``
overrides the admin URL). Tests that need it FAIL when it is unreachable — they never skip, so
a broken CI database cannot silently turn the PostgreSQL half of the suite off.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, TypeVar

import asyncpg
from sqlalchemy.engine import make_url

T = TypeVar("T")

ADMIN_URL = os.environ.get(
    "KEYSTEAD_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)


def _dsn(url: str) -> str:
    """A libpq DSN for asyncpg from a SQLAlchemy URL (drops the ``+asyncpg`` driver part)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _admin(statement: str) -> None:
    try:
        connection = await asyncpg.connect(_dsn(ADMIN_URL), timeout=10)
    except (OSError, asyncpg.PostgresError) as exc:
        raise RuntimeError(
            f"PostgreSQL is unreachable at {ADMIN_URL} ({exc!r}). The store contract and "
            "scale-out tests need it: start PostgreSQL or set KEYSTEAD_TEST_POSTGRES_URL."
        ) from exc
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


def run_sync(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion from sync code, even inside a running event loop (a
    fixture requested through ``getfixturevalue`` from an async fixture)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def create_database() -> str:
    """CREATE DATABASE keystead_test_<random>; returns its SQLAlchemy URL."""
    name = f"keystead_test_{secrets.token_hex(6)}"
    run_sync(_admin(f'CREATE DATABASE "{name}"'))
    return make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)


def drop_database(url: str) -> None:
    name = make_url(url).database
    assert name and name.startswith("keystead_test_"), name
    # FORCE: a killed server process may still hold a connection.
    run_sync(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@contextmanager
def temporary_database() -> Iterator[str]:
    url = create_database()
    try:
        yield url
    finally:
        drop_database(url)


async def truncate_all(url: str) -> None:
    """Empty every keystead table (the schema and alembic_version stay)."""
    connection = await asyncpg.connect(_dsn(url), timeout=10)
    try:
        tables = await connection.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
            " AND tablename <> 'alembic_version'"
        )
        if tables:
            names = ", ".join(f'"{row["tablename"]}"' for row in tables)
            await connection.execute(f"TRUNCATE {names} CASCADE")
    finally:
        await connection.close()
