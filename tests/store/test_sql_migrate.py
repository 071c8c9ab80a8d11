"""SQL store specifics: URLs, migrations (idempotent, parallel-safe, matching models.py)."""

from __future__ import annotations

import asyncio
import pathlib
import subprocess
import sys
import time
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import OperationalError

from keystead.store.base import (
    AccessToken,
    AuthorizationCode,
    Client,
    Grant,
    RefreshToken,
    Session,
)
from keystead.store.sql import alembic_config, default_sqlite_url, make_engine, migrate, open_store
from keystead.store.sql.models import Base

pytestmark = pytest.mark.anyio

TABLES = {
    "access_tokens",
    "action_tokens",
    "alembic_version",
    "apis",
    "authorization_codes",
    "ciba_requests",
    "clients",
    "consents",
    "connections",
    "device_codes",
    "federated_identities",
    "events",
    "factors",
    "grants",
    "jobs",
    "keys",
    "markers",
    "oauth1_temporary",
    "oauth1_tokens",
    "pushed_requests",
    "recovery_codes",
    "refresh_tokens",
    "sessions",
    "throttle",
    "trusted_issuers",
    "users",
}


async def _scalars(url: str, sql: str) -> list[Any]:
    engine = make_engine(url)
    try:
        async with engine.connect() as connection:
            return list((await connection.execute(text(sql))).scalars())
    finally:
        await engine.dispose()


async def _tables(url: str) -> set[str]:
    return set(await _scalars(url, "SELECT name FROM sqlite_master WHERE type = 'table'"))


def test_default_sqlite_url(tmp_path: pathlib.Path) -> None:
    url = default_sqlite_url(tmp_path / "data")
    assert url == f"sqlite+aiosqlite:///{tmp_path.resolve()}/data/keystead.db"


async def test_open_store_creates_the_directory_but_does_not_migrate(
    tmp_path: pathlib.Path,
) -> None:
    url = default_sqlite_url(tmp_path / "a" / "b")
    store = await open_store(url)
    try:
        with pytest.raises(OperationalError, match="no such table"):
            await store.clients.list()
    finally:
        await store.close()
    assert (tmp_path / "a" / "b").is_dir()


async def test_sqlite_pragmas(sqlite_url: str) -> None:
    await migrate(sqlite_url)
    assert await _scalars(sqlite_url, "PRAGMA journal_mode") == ["wal"]
    assert await _scalars(sqlite_url, "PRAGMA foreign_keys") == [1]
    assert await _scalars(sqlite_url, "PRAGMA busy_timeout") == [5000]


async def test_migrate_twice_is_a_no_op(sqlite_url: str) -> None:
    await migrate(sqlite_url)
    store = await open_store(sqlite_url)
    await store.clients.add(Client("c", "n", (), (), (), "openid", "none"))
    await store.close()

    await migrate(sqlite_url)

    assert await _scalars(sqlite_url, "SELECT version_num FROM alembic_version") == [_head()]
    assert await _scalars(sqlite_url, "SELECT client_id FROM clients") == ["c"]
    assert await _tables(sqlite_url) == TABLES


async def test_migration_matches_models(sqlite_url: str) -> None:
    await migrate(sqlite_url)

    def diff(connection: Connection) -> list[Any]:
        context = MigrationContext.configure(connection, opts={"compare_server_default": True})
        return list(compare_metadata(context, Base.metadata))

    engine = make_engine(sqlite_url)
    try:
        async with engine.connect() as connection:
            assert await connection.run_sync(diff) == []
    finally:
        await engine.dispose()


async def _alembic(url: str, action: str, revision: str) -> None:
    """``alembic upgrade|downgrade <revision>`` on ``url`` (``migrate()`` only goes to head)."""
    config = alembic_config(url)

    def run(connection: Connection) -> None:
        config.attributes["connection"] = connection
        getattr(command, action)(config, revision)

    engine = make_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(run)
    finally:
        await engine.dispose()


async def _execute(url: str, *statements: str) -> None:
    engine = make_engine(url)
    try:
        async with engine.begin() as connection:
            for statement in statements:
                await connection.execute(text(statement))
    finally:
        await engine.dispose()


ROWS_AT_0002 = (
    "INSERT INTO clients VALUES ('c', 'n', '[]', '[]', '[]', 'openid', 'none', NULL,"
    " 1, 0, 'RS256', 'web', 1, '{}')",
    "INSERT INTO grants VALUES ('g', 'c', 's', 'openid', 1, NULL)",
    "INSERT INTO authorization_codes VALUES ('" + "0" * 64 + "', 'g', 'c', 's', 'https://rp/cb',"
    " 'openid', 60, 1, 1, 'sid', 'nonce', 'chal', 'S256', NULL)",
    "INSERT INTO access_tokens VALUES ('" + "1" * 64 + "', 'g', 'c', 's', 'openid', 3601, 1)",
)


async def test_upgrade_from_0002_keeps_rows_with_new_fields_at_defaults(sqlite_url: str) -> None:
    await _alembic(sqlite_url, "upgrade", "0002")
    await _execute(sqlite_url, *ROWS_AT_0002)

    await migrate(sqlite_url)

    assert await _scalars(sqlite_url, "SELECT version_num FROM alembic_version") == [_head()]
    grant = Grant("g", "c", "s", "openid", 1)
    store = await open_store(sqlite_url)
    try:
        assert await store.grants.get_code("0" * 64) == AuthorizationCode(
            "0" * 64, "g", "c", "s", "https://rp/cb", "openid", 60, 1, 1, "sid", "nonce",
            "chal", "S256",
        )  # fmt: skip
        assert await store.grants.get_access_token("1" * 64) == (
            AccessToken("1" * 64, "g", "c", "s", "openid", 3601, 1),
            grant,
        )
        # The new tables work with the old rows.
        token = RefreshToken("2" * 64, "g", "c", "s", "openid", 1, 100, 50)
        await store.grants.add_refresh_token(token)
        assert await store.grants.get_refresh_token("2" * 64) == (token, grant)
        assert await store.apis.list() == []
    finally:
        await store.close()


async def test_downgrade_to_0002_keeps_rows(sqlite_url: str) -> None:
    await _alembic(sqlite_url, "upgrade", "0002")
    await _execute(sqlite_url, *ROWS_AT_0002)
    await migrate(sqlite_url)

    await _alembic(sqlite_url, "downgrade", "0002")

    new_tables = {"apis", "refresh_tokens", "markers", "factors", "recovery_codes"}
    new_tables |= {"jobs", "action_tokens", "device_codes", "trusted_issuers", "ciba_requests"}
    new_tables |= {"connections", "federated_identities"}
    new_tables |= {"oauth1_temporary", "oauth1_tokens"}
    new_tables |= {"pushed_requests"}
    assert await _tables(sqlite_url) == TABLES - new_tables
    assert await _scalars(sqlite_url, "SELECT grant_id FROM grants") == ["g"]
    assert await _scalars(sqlite_url, "SELECT count(*) FROM authorization_codes") == [1]
    assert await _scalars(sqlite_url, "SELECT count(*) FROM access_tokens") == [1]
    await migrate(sqlite_url)  # and up again
    assert await _scalars(sqlite_url, "SELECT version_num FROM alembic_version") == [_head()]


MIGRATE_IN_A_PROCESS = """
import asyncio, sys, time
from keystead.store.sql import migrate
time.sleep(max(0.0, float(sys.argv[2]) - time.time()))
asyncio.run(migrate(sys.argv[1]))
"""


async def test_parallel_migrations_in_separate_processes(sqlite_url: str) -> None:
    start_at = time.time() + 2.0  # after every interpreter has started and imported keystead
    processes = [
        subprocess.Popen(  # noqa: ASYNC220
            [sys.executable, "-c", MIGRATE_IN_A_PROCESS, sqlite_url, str(start_at)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    outcomes = [await asyncio.to_thread(p.communicate, timeout=60) for p in processes]

    for process, (_, stderr) in zip(processes, outcomes, strict=True):
        assert process.returncode == 0, stderr
    assert await _scalars(sqlite_url, "SELECT version_num FROM alembic_version") == [_head()]
    assert await _tables(sqlite_url) == TABLES


async def test_consume_code_across_two_engines(sqlite_url: str) -> None:
    """Two stores on one file behave like two processes: still exactly one consumer wins."""
    await migrate(sqlite_url)
    first, second = await open_store(sqlite_url), await open_store(sqlite_url)
    try:
        await first.clients.add(Client("c", "n", (), (), (), "openid", "none"))
        await first.grants.add_grant(Grant("g", "c", "s", "openid", 1))
        await first.grants.add_code(
            AuthorizationCode("0" * 64, "g", "c", "s", "https://rp/cb", "openid", 60, 1, 1)
        )
        results = await asyncio.gather(
            *(store.grants.consume_code("0" * 64, now=2) for store in [first, second] * 5)
        )
        assert sum(r is not None for r in results) == 1
    finally:
        await first.close()
        await second.close()


async def test_rotate_refresh_token_across_two_engines(sqlite_url: str) -> None:
    """Two stores on one file behave like two processes: exactly one rotation wins."""
    await migrate(sqlite_url)
    first, second = await open_store(sqlite_url), await open_store(sqlite_url)
    try:
        await first.clients.add(Client("c", "n", (), (), (), "openid", "none"))
        await first.grants.add_grant(Grant("g", "c", "s", "openid", 1))
        await first.grants.add_refresh_token(
            RefreshToken("0" * 64, "g", "c", "s", "openid", 1, 100, 50)
        )
        successors = [
            RefreshToken(f"{i:064x}", "g", "c", "s", "openid", 2, 100, 60) for i in range(1, 11)
        ]
        results = await asyncio.gather(
            *(
                store.grants.rotate_refresh_token("0" * 64, successor, "enc", now=2)
                for store, successor in zip([first, second] * 5, successors, strict=True)
            )
        )
        assert results.count(True) == 1
        assert await _scalars(sqlite_url, "SELECT count(*) FROM refresh_tokens") == [2]
    finally:
        await first.close()
        await second.close()


def _head() -> str:
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def test_head_revision_is_the_newest_migration() -> None:
    # migrate() skips Alembic for a database at HEAD_REVISION: it must be the real head.
    from keystead.store.sql.migrate import HEAD_REVISION

    assert _head() == HEAD_REVISION


async def test_a_database_at_head_is_not_migrated_again(sqlite_url: str) -> None:
    from keystead.store.sql.migrate import _at_head

    assert not await _at_head(sqlite_url)
    await migrate(sqlite_url)
    assert await _at_head(sqlite_url)
    await migrate(sqlite_url)  # a no-op that does not even import Alembic's commands


async def test_sessions_from_before_0011_have_no_device_and_survive_a_downgrade(
    sqlite_url: str,
) -> None:
    await _alembic(sqlite_url, "upgrade", "0009_outbox")
    await _execute(
        sqlite_url,
        "INSERT INTO sessions VALUES ('" + "3" * 64 + "', 'sid', 's', 1, 1, 1, 99, '[\"pwd\"]')",
    )
    await migrate(sqlite_url)
    store = await open_store(sqlite_url)
    try:
        assert await store.sessions.get("3" * 64) == Session("3" * 64, "sid", "s", 1, 1, 1, 99)
    finally:
        await store.close()
    await _alembic(sqlite_url, "downgrade", "0009_outbox")
    assert await _scalars(sqlite_url, "SELECT sid FROM sessions") == ["sid"]
    await migrate(sqlite_url)  # and up again
    assert await _scalars(sqlite_url, "SELECT version_num FROM alembic_version") == [_head()]
