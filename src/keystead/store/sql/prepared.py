"""Hot statements on SQLite without SQLAlchemy's per-execution work.

``connection.execute(statement, params)`` sets up an execution context, a cursor result and
its metadata on every call: several times what the same SQL costs on the ``sqlite3``
connection itself (measured: docs/performance.md). A token refresh runs four statements and
a code flow more, so that overhead was a third of their database time. ``Prepared`` keeps
SQLAlchemy for everything it is for — it builds the statement, compiles it for the dialect
(once per set of parameter names), supplies the type conversions (JSON, Boolean) through the
types' own bind and result processors, owns the connection, the pool and the transaction
(``Connection.begin()`` around the work; the pysqlite dialect's BEGIN is the driver's own, so
statements run here belong to the same transaction) — and runs the compiled SQL on the DBAPI
connection, converting a driver error into the same ``sqlalchemy.exc`` exception ``execute``
raises (parameters hidden).

Inside a ``Connection`` on any other dialect it is plain ``connection.execute``; on
PostgreSQL the hot statements do not go through a ``Connection`` at all:
``AsyncDatabase.first`` and ``.rowcount`` run the plan compiled for asyncpg on the asyncpg
connection (postgres.py). Rows come back as sequences in the statement's column order.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.dml import Insert
from sqlalchemy.sql.expression import Executable


class _Plan:
    """One statement compiled for SQLite with one set of parameter names."""

    __slots__ = ("sql", "names", "binds", "results")

    def __init__(self, statement: Any, keys: tuple[str, ...], dialect: Dialect) -> None:
        column_keys = list(keys) if isinstance(statement, Insert) else None
        compiled = statement.compile(dialect=dialect, column_keys=column_keys)
        if compiled.post_compile_params or compiled.literal_execute_params:
            raise ValueError("expanding parameters need SQLAlchemy's execution context")
        names = tuple(compiled.positiontup or ())
        missing = set(names) - set(keys)
        if missing:  # column defaults are the execution context's work too
            raise ValueError(f"parameters not given: {sorted(missing)}")
        self.sql: str = compiled.string
        self.names = names
        binds = [
            compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect)
            for name in names
        ]
        # Only the parameters and columns with a conversion (JSON, Boolean) cost a call.
        self.binds = tuple((i, p) for i, p in enumerate(binds) if p is not None)
        # The columns a row comes back with: a SELECT's, or an INSERT/UPDATE's RETURNING.
        results = [
            column.type.dialect_impl(dialect).result_processor(dialect, None)
            for column in statement.exported_columns
        ]
        self.results = tuple((i, p) for i, p in enumerate(results) if p is not None)

    def args(self, params: Mapping[str, Any]) -> list[Any]:
        values = [params[name] for name in self.names]
        for i, process in self.binds:
            values[i] = process(values[i])
        return values

    def row(self, raw: Sequence[Any]) -> Sequence[Any]:
        if not self.results:
            return raw
        values = list(raw)
        for i, process in self.results:
            values[i] = process(values[i])
        return values


class Prepared:
    """A Core statement run straight on the sqlite3 connection (see the module docstring)."""

    __slots__ = ("statement", "columns", "_plans")

    def __init__(self, statement: Executable) -> None:
        self.statement = statement
        # The names of the columns a row has, in order (a SELECT's, or RETURNING's).
        self.columns: tuple[str, ...] = tuple(
            column.key for column in getattr(statement, "exported_columns", ())
        )
        self._plans: dict[tuple[str, tuple[str, ...]], _Plan | None] = {}

    def _plan(self, connection: Connection, params: Mapping[str, Any]) -> _Plan | None:
        if connection.dialect.name != "sqlite":
            return None
        return self.plan(connection.dialect, params)

    def plan(self, dialect: Dialect, params: Mapping[str, Any]) -> _Plan | None:
        """The statement compiled for ``dialect`` with these parameter names (cached), or
        None if it needs SQLAlchemy's execution context. PostgreSQL (``AsyncDatabase``) runs
        it on the asyncpg connection itself: ``$n`` placeholders in ``names`` order."""
        keys = tuple(params)
        try:
            return self._plans[dialect.name, keys]
        except KeyError:
            pass
        try:
            plan: _Plan | None = _Plan(self.statement, keys, dialect)
        except ValueError:  # this one needs the execution context: always through execute
            plan = None
        self._plans[dialect.name, keys] = plan
        return plan

    def _cursor(self, connection: Connection, plan: _Plan, params: Mapping[str, Any]) -> Any:
        args = plan.args(params)
        raw = connection.connection.dbapi_connection
        assert raw is not None
        try:
            return raw.execute(plan.sql, args)
        except sqlite3.Error as exc:
            raise DBAPIError.instance(
                plan.sql, args, exc, sqlite3.Error, hide_parameters=True, dialect=connection.dialect
            ) from exc

    def first(self, connection: Connection, params: Mapping[str, Any]) -> Sequence[Any] | None:
        """The first row (SELECT, or UPDATE ... RETURNING), or None."""
        plan = self._plan(connection, params)
        if plan is None:
            return connection.execute(self.statement, dict(params)).first()
        raw = self._cursor(connection, plan, params).fetchone()
        return None if raw is None else plan.row(raw)

    def rowcount(self, connection: Connection, params: Mapping[str, Any]) -> int:
        """Run an INSERT, UPDATE or DELETE; the number of rows it touched."""
        plan = self._plan(connection, params)
        if plan is None:
            return int(connection.execute(self.statement, dict(params)).rowcount)
        return int(self._cursor(connection, plan, params).rowcount)
