"""``Prepared`` runs compiled statements on the sqlite3 connection: it must write and read
exactly what ``connection.execute`` does (types, NULLs, errors), in the same transaction."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Integer,
    MetaData,
    String,
    Table,
    bindparam,
    create_engine,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from keystead.store.sql.prepared import Prepared

META = MetaData()
THINGS = Table(
    "things",
    META,
    Column("key", String, primary_key=True),
    Column("flag", Boolean),
    Column("tags", JSON),
    Column("extra", JSON, nullable=True),
    Column("n", Integer),
)
DEFAULTED = Table(
    "defaulted",
    META,
    Column("key", String, primary_key=True),
    Column("n", Integer, default=7),  # a Python-side default: the execution context's work
)

INSERT = Prepared(insert(THINGS))
BY_KEY = Prepared(select(THINGS).where(THINGS.c.key == bindparam("k")))
BUMP = Prepared(
    update(THINGS)
    .where(THINGS.c.key == bindparam("k"))
    .values(n=bindparam("n"))
    .returning(*THINGS.columns)
)
ROW = {"key": "a", "flag": True, "tags": ["x", "y"], "extra": None, "n": 1}


@pytest.fixture
def connection() -> Iterator[Connection]:
    engine = create_engine("sqlite://", hide_parameters=True)
    META.create_all(engine)
    with engine.connect() as connection:
        yield connection
    engine.dispose()


def core_row(connection: Connection, key: str) -> Any:
    return tuple(connection.execute(select(THINGS).where(THINGS.c.key == key)).one())


def test_a_prepared_insert_stores_what_core_stores(connection: Connection) -> None:
    with connection.begin():
        assert INSERT.rowcount(connection, ROW) == 1
        connection.execute(insert(THINGS), {**ROW, "key": "b"})
    raw = connection.exec_driver_sql("SELECT flag, tags, extra FROM things ORDER BY key").all()
    assert raw[0] == raw[1]  # the same stored text: JSON NULL included
    assert core_row(connection, "a") == ("a", True, ["x", "y"], None, 1)


def test_a_prepared_read_converts_like_core(connection: Connection) -> None:
    with connection.begin():
        connection.execute(insert(THINGS), {**ROW, "flag": False, "extra": {"z": [1]}})
    with connection.begin():
        row = BY_KEY.first(connection, {"k": "a"})
        assert row is not None
        assert tuple(row) == core_row(connection, "a") == ("a", False, ["x", "y"], {"z": [1]}, 1)
        assert BY_KEY.first(connection, {"k": "missing"}) is None
    assert BY_KEY.columns == ("key", "flag", "tags", "extra", "n")


def test_update_returning_and_rowcount(connection: Connection) -> None:
    with connection.begin():
        INSERT.rowcount(connection, ROW)
    with connection.begin():
        row = BUMP.first(connection, {"k": "a", "n": 5})
    assert row is not None and tuple(row) == ("a", True, ["x", "y"], None, 5)
    assert core_row(connection, "a")[4] == 5  # committed by the Connection's transaction


def test_a_rolled_back_transaction_takes_prepared_writes_with_it(connection: Connection) -> None:
    with pytest.raises(RuntimeError), connection.begin():
        INSERT.rowcount(connection, ROW)
        raise RuntimeError("the work failed")
    with connection.begin():
        assert BY_KEY.first(connection, {"k": "a"}) is None


def test_driver_errors_are_sqlalchemys_with_parameters_hidden(connection: Connection) -> None:
    with connection.begin():
        INSERT.rowcount(connection, ROW)
    with pytest.raises(IntegrityError) as caught, connection.begin():
        INSERT.rowcount(connection, {**ROW, "tags": ["secret-value"]})
    assert "secret-value" not in str(caught.value)
    assert "UNIQUE" in str(caught.value.orig)


def test_a_statement_needing_column_defaults_goes_through_core(connection: Connection) -> None:
    prepared = Prepared(insert(DEFAULTED))
    with connection.begin():
        prepared.rowcount(connection, {"key": "a"})  # n is filled by its default
    assert connection.execute(select(DEFAULTED.c.n)).scalar_one() == 7


@pytest.mark.anyio
async def test_the_sqlite_store_runs_its_hot_statements_prepared(sqlite_url: str) -> None:
    """A hot statement that silently fell back to ``execute`` would still pass every other
    test; this one sees the compiled plans of the token read and the inserts."""
    from keystead.store.sql import grants, migrate, open_store, tables
    from tests.store.test_contract import make_client, make_grant, make_token

    await migrate(sqlite_url)
    store = await open_store(sqlite_url)
    try:
        await store.clients.add(make_client())
        await store.grants.add_grant(make_grant())
        token = make_token()
        await store.grants.add_access_token(token)
        found = await store.grants.get_access_token(token.token_hash)
        assert found is not None and found[0] == token
        status = await store.grants.get_access_token_status(token.token_hash)
        assert status is not None and status.grant_id == token.grant_id
    finally:
        await store.close()
    for prepared in (
        grants._WITH_GRANT[tables.ACCESS_TOKENS],
        grants._TOKEN_STATUS,
        tables.INSERT[tables.ACCESS_TOKENS],
        tables.INSERT[tables.GRANTS],
    ):
        plans = list(prepared._plans.values())
        assert plans and all(plan is not None for plan in plans)
