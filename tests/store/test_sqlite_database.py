"""SQLite runs inline on the event loop; a database locked by another process sends the
transaction to the database thread, which waits, while the event loop keeps serving."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from keystead.store.sql import migrate, open_store
from keystead.store.sql.engine import _switch_to_wal, sqlite_file
from tests.store.test_contract import make_client

pytestmark = pytest.mark.anyio


async def test_a_write_waits_off_the_loop_while_another_process_holds_the_lock(
    sqlite_url: str,
) -> None:
    await migrate(sqlite_url)
    store = await open_store(sqlite_url)
    path = sqlite_file(make_url(sqlite_url))
    assert path is not None
    other = sqlite3.connect(path, isolation_level=None)  # "another process": its own connection
    try:
        other.execute("BEGIN IMMEDIATE")  # holds the write lock
        client = make_client()
        write = asyncio.create_task(store.clients.add(client))
        ticks = 0
        for _ in range(20):  # the event loop is not blocked while the write waits
            await asyncio.sleep(0.01)
            ticks += 1
        assert ticks == 20 and not write.done()
        assert await store.clients.get(client.client_id) is None  # reads do not wait (WAL)
        other.execute("COMMIT")
        await asyncio.wait_for(write, timeout=5)
        assert await store.clients.get(client.client_id) == client
    finally:
        other.close()
        await store.close()


async def test_a_write_that_fails_for_its_own_reasons_is_not_retried(sqlite_url: str) -> None:
    await migrate(sqlite_url)
    store = await open_store(sqlite_url)
    try:
        await store.clients.add(make_client())
        from keystead.store.base import DuplicateError

        with pytest.raises(DuplicateError):
            await store.clients.add(make_client())
    finally:
        await store.close()


async def test_a_closed_store_refuses_work(sqlite_url: str) -> None:
    await migrate(sqlite_url)
    store = await open_store(sqlite_url)
    await store.close()
    with pytest.raises(RuntimeError, match="closed"):
        await store.clients.get("anything")


async def test_an_in_memory_database_runs_everything_on_its_one_connection() -> None:
    from keystead.store.sql.database import SqliteDatabase
    from keystead.store.sql.models import Base

    store = await open_store("sqlite+aiosqlite://")
    db = store.db
    assert isinstance(db, SqliteDatabase)
    await db.run(lambda connection: Base.metadata.create_all(connection))
    client = make_client()
    await store.clients.add(client)
    assert await store.clients.list() == [client]  # a "long" operation: same connection
    assert await store.clients.delete(client.client_id)
    await store.close()


async def test_clearing_kept_successors_reads_the_partial_index_not_the_table(
    sqlite_url: str,
) -> None:
    # Housekeeping runs this every 10 s; a table scan grew with every refresh token ever rotated.
    await migrate(sqlite_url)
    path = sqlite_file(make_url(sqlite_url))
    assert path is not None
    with sqlite3.connect(path) as connection:
        plan = connection.execute(
            "EXPLAIN QUERY PLAN UPDATE refresh_tokens SET successor_enc = NULL "
            "WHERE rotated_at < 5 AND successor_enc IS NOT NULL"
        ).fetchall()
    assert "USING INDEX ix_refresh_tokens_pending_successor" in str(plan)


async def test_a_read_runs_outside_a_transaction_and_leaves_none_open(sqlite_url: str) -> None:
    from sqlalchemy import text

    from keystead.store.sql.database import SqliteDatabase

    await migrate(sqlite_url)
    store = await open_store(sqlite_url)
    db = store.db
    assert isinstance(db, SqliteDatabase)
    try:
        client = make_client()
        await store.clients.add(client)
        raw = db._inline_connection().connection.dbapi_connection
        assert raw is not None

        def core_read(connection: object) -> int:  # through Core, which begins a transaction
            assert raw.in_transaction is False  # nothing began before the statement
            return int(connection.execute(text("SELECT count(*) FROM clients")).scalar_one())  # type: ignore[attr-defined]

        assert await db.read(core_read) == 1
        assert raw.in_transaction is False and not db._inline_connection().in_transaction()
        assert await store.clients.get(client.client_id) == client  # a prepared read
        assert raw.in_transaction is False
        # ... and a write transaction still works after reads on the same connection
        await store.clients.add(make_client(client_id="second"))
        assert await db.read(core_read) == 2
    finally:
        await store.close()


async def test_the_wal_is_rewound_while_the_loop_keeps_writing(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Checkpoints on the database thread must complete under a steady stream of inline
    writes, or the WAL grows by every write for the life of the process."""
    import os

    from keystead.store.base import Grant
    from keystead.store.sql import database

    monkeypatch.setattr(database, "CHECKPOINT_EVERY", 100)
    monkeypatch.setattr(database, "FINISH_FRAMES", 600)  # ~200 writes: rewound past 2.4 MB
    await migrate(sqlite_url)
    store = await open_store(sqlite_url)
    path = sqlite_file(make_url(sqlite_url))
    assert path is not None
    try:
        await store.clients.add(make_client())
        sizes = []
        for i in range(3000):
            await store.grants.add_grant(Grant(f"grant-{i}", "client-1", "sub", "openid", 100))
            await store.clients.get("client-1")  # reads in between, as requests do
            if i % 100 == 99:
                await asyncio.sleep(0.005)  # the checkpoint thread gets its turn
                sizes.append(os.path.getsize(f"{path}-wal"))  # noqa: ASYNC240 - a test
        # ~13 KiB per write: 3,000 writes would leave a ~40 MB WAL; rewound every ~100
        # writes it stays within a few of those windows.
        assert max(sizes[5:]) < 5 * 1024 * 1024, sizes
        # ... and what was written is in the database
        with sqlite3.connect(path) as reader:
            count = reader.execute("SELECT count(*) FROM grants").fetchone()[0]
        assert count == 3000
    finally:
        await store.close()


async def test_a_long_wal_gets_a_restart_checkpoint(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Several workers may never leave the quiet moment a rewind needs: past RESTART_FRAMES
    the thread's checkpoint is a RESTART, after which the next write rewinds the WAL."""
    from keystead.store.base import Grant
    from keystead.store.sql import database
    from keystead.store.sql.database import SqliteDatabase

    monkeypatch.setattr(database, "CHECKPOINT_EVERY", 10**9)  # only the explicit one below
    monkeypatch.setattr(database, "RESTART_FRAMES", 50)
    monkeypatch.setattr(database, "FINISH_FRAMES", 10)
    await migrate(sqlite_url)
    store = await open_store(sqlite_url)
    db = store.db
    assert isinstance(db, SqliteDatabase)
    path = sqlite_file(make_url(sqlite_url))
    assert path is not None
    restarts: list[str] = []
    try:
        await store.clients.add(make_client())
        for i in range(100):  # ~300 frames
            await store.grants.add_grant(Grant(f"grant-{i}", "client-1", "sub", "openid", 100))
        connection = db._thread_connection()
        raw = connection.connection.dbapi_connection
        assert raw is not None
        raw.set_trace_callback(restarts.append)
        await asyncio.get_running_loop().run_in_executor(db._thread, db._checkpoint)
        raw.set_trace_callback(None)
        assert any("RESTART" in sql for sql in restarts), restarts
        assert db._copied is False  # a RESTART copied every frame: nothing left to finish
        await store.grants.add_grant(Grant("after", "client-1", "sub", "openid", 100))
        with sqlite3.connect(path) as other:  # the WAL starts over: one transaction in it
            frames = other.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()[1]
        assert 0 < frames < 10, frames
    finally:
        await store.close()


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("sqlite+aiosqlite:////var/lib/ks/ks.db", "/var/lib/ks/ks.db"),
        ("sqlite+aiosqlite:///file:/var/lib/ks/ks.db?uri=true", "/var/lib/ks/ks.db"),
        ("sqlite+aiosqlite:///file:///var/lib/ks/ks.db?uri=true", "/var/lib/ks/ks.db"),
        ("sqlite+aiosqlite:///file:my%20data.db?uri=true", "my data.db"),
        ("sqlite+aiosqlite:///file::memory:?uri=true", None),
        ("sqlite+aiosqlite:///file:mem1?mode=memory&cache=shared&uri=true", None),
        ("sqlite+aiosqlite://", None),
    ],
)
def test_sqlite_file_uris_name_their_file(url: str, path: str | None) -> None:
    """Issue 18 #10: a ``file:`` URI naming a file was taken for an in-memory database."""
    found = sqlite_file(make_url(url))
    assert (str(found) if found else None) == path


async def test_a_file_uri_database_persists(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///file:{tmp_path}/ks.db?uri=true"
    await migrate(url)
    store = await open_store(url)
    await store.clients.add(make_client("c"))
    await store.close()
    store = await open_store(url)
    try:
        assert await store.clients.get("c") is not None
    finally:
        await store.close()
    assert (tmp_path / "ks.db").exists()


class _LockedTwice:
    """A cursor whose first two ``journal_mode`` switches meet SQLite's immediate "database is
    locked" (two new connections converting one fresh file at once: the deadlock rule)."""

    def __init__(self) -> None:
        self.calls = 0

    def execute(self, sql: str) -> None:
        self.calls += 1
        if self.calls <= 2:
            raise sqlite3.OperationalError("database is locked")


def test_switching_to_wal_retries_while_the_file_is_locked() -> None:
    cursor = _LockedTwice()
    _switch_to_wal(cursor)
    assert cursor.calls == 3


def test_switching_to_wal_does_not_retry_other_errors() -> None:
    class Broken:
        def execute(self, sql: str) -> None:
            raise sqlite3.OperationalError("disk I/O error")

    with pytest.raises(sqlite3.OperationalError, match="disk I/O"):
        _switch_to_wal(Broken())


async def test_a_new_file_converted_while_another_connection_reads_it(tmp_path: Path) -> None:
    """A real contention: another connection holds a read transaction on a new rollback-mode
    file; switching to WAL waits for it instead of failing."""
    path = tmp_path / "new.db"
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("CREATE TABLE t (x)")
    other.execute("BEGIN")
    other.execute("SELECT * FROM t").fetchall()  # holds SHARED

    async def release_soon() -> None:
        await asyncio.sleep(0.2)
        other.execute("COMMIT")

    def convert() -> str:
        mine = sqlite3.connect(path, isolation_level=None, timeout=0)
        try:
            _switch_to_wal(mine.cursor())
            return str(mine.execute("PRAGMA journal_mode").fetchone()[0])
        finally:
            mine.close()

    releaser = asyncio.create_task(release_soon())
    assert await asyncio.to_thread(convert) == "wal"
    await releaser
    other.close()
