"""What every SQL concern shares: the ``Database`` it runs on and the few ways a method runs
its statement (insert one row, read the first row or all rows, count touched rows, purge in
batches), and the mapping of integrity errors to ``DuplicateError`` / ``LookupError``.
"""

from __future__ import annotations

import sqlite3
from typing import Any, TypeVar

from sqlalchemy import Select, Table, delete, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.expression import Executable

from keystead.store.base import DuplicateError
from keystead.store.sql.convert import from_mapping, from_values, to_values
from keystead.store.sql.database import Database
from keystead.store.sql.prepared import Prepared
from keystead.store.sql.tables import INSERT

T = TypeVar("T")

PURGE_BATCH = 500  # rows per purge transaction


def is_foreign_key_violation(exc: IntegrityError) -> bool:
    orig = exc.orig
    if getattr(orig, "sqlite_errorcode", None) == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
        return True
    # PostgreSQL foreign_key_violation (psycopg: .sqlstate, asyncpg adapter: .pgcode)
    return "23503" in (getattr(orig, "sqlstate", None), getattr(orig, "pgcode", None))


def integrity_error(exc: IntegrityError, what: str) -> Exception:
    """DuplicateError for a taken key, LookupError for a missing parent row."""
    if is_foreign_key_violation(exc):
        return LookupError(f"{what}: referenced row does not exist")
    return DuplicateError(f"{what} already exists")


def _insert_dialect(dialect_name: str) -> Any:
    """``insert`` with ``on_conflict_do_update`` (same API on SQLite and PostgreSQL)."""
    upsert_inserts = {"sqlite": sqlite_insert, "postgresql": postgresql_insert}
    if dialect_name not in upsert_inserts:
        raise NotImplementedError(f"no upsert for the {dialect_name!r} dialect")
    return upsert_inserts[dialect_name]


class Concern:
    """The base of each SQL concern: its ``Database`` and the shapes of its statements."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._insert = _insert_dialect(db.dialect_name)

    async def _add(self, table: Table, obj: Any, what: str) -> None:
        """Insert one row: DuplicateError on a taken key, LookupError on a missing parent."""
        values = to_values(obj)
        try:
            await self._db.rowcount(INSERT[table], values)
        except IntegrityError as exc:
            raise integrity_error(exc, what) from exc

    async def _first(
        self, query: Select[Any] | Prepared, cls: type[T], params: dict[str, Any] | None = None
    ) -> T | None:
        """The first row of ``query`` (with ``params``) as a ``cls``, or None."""
        if isinstance(query, Prepared):
            row = await self._db.first(query, params or {})
            return None if row is None else from_values(row, cls, query.columns)

        def work(connection: Connection) -> T | None:
            row = connection.execute(query, params).mappings().first()
            return None if row is None else from_mapping(row, cls)

        return await self._db.run(work)

    async def _all(self, query: Select[Any], cls: type[T]) -> list[T]:
        return await self._db.run(
            lambda connection: [from_mapping(m, cls) for m in connection.execute(query).mappings()],
            long=True,
        )

    async def _purge(self, table: Table, where: Any) -> int:
        """Delete the rows matching ``where`` in batches of ``PURGE_BATCH``, one transaction
        each, on the database thread: a purge of a large backlog never holds SQLite's write
        lock for long, and requests write between its batches."""
        key = table.primary_key.columns[0]  # every purged table has a one-column key
        batch = select(key).where(where).limit(PURGE_BATCH).scalar_subquery()
        statement = delete(table).where(key.in_(batch))
        removed = 0
        while True:
            count = await self._rowcount(statement, long=True)
            removed += count
            if count < PURGE_BATCH:
                return removed

    async def _rowcount(
        self, statement: Executable, params: dict[str, Any] | None = None, *, long: bool = False
    ) -> int:
        """Run one UPDATE or DELETE; the number of rows it touched."""

        def work(connection: Connection) -> int:
            return int(connection.execute(statement, params).rowcount)

        return await (self._db.run(work, long=True) if long else self._db.statement(work))
