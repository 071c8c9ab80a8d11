"""The SQL store: one small class per concern of ``store/base.py``, sharing one ``Database``.

Each method is one short transaction: a plain function of a SQLAlchemy ``Session`` that the
``Database`` runs (database.py: on a dedicated thread for SQLite, asyncpg for PostgreSQL).
Single-use operations are one atomic statement (``UPDATE ... WHERE consumed_at IS NULL
RETURNING``) or begin with one (refresh token rotation: ``UPDATE ... WHERE rotated_at IS
NULL``, then the successor's INSERT in the same transaction), so they cannot succeed twice
even when several processes share the database. Rows are converted to the frozen dataclasses
of ``base.py`` before leaving this module; callers never see ORM objects.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any, TypeVar, cast

from sqlalchemy import Select, Table, and_, bindparam, delete, exists, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.expression import Executable

from keystead.store.base import (
    AccessToken,
    AccessTokenStatus,
    Api,
    ApiStore,
    AuthorizationCode,
    Client,
    ClientStore,
    Consent,
    ConsentStore,
    DuplicateError,
    EventRecord,
    EventStore,
    Grant,
    GrantStore,
    KeyStore,
    MarkerStore,
    RefreshToken,
    SessionStore,
    StoredKey,
    ThrottleState,
    ThrottleStore,
    User,
    UserStore,
)
from keystead.store.base import Session as Session_
from keystead.store.sql.convert import from_mapping, from_values, to_values
from keystead.store.sql.database import Database
from keystead.store.sql.models import (
    AccessTokenRow,
    ApiRow,
    AuthorizationCodeRow,
    Base,
    ClientRow,
    ConsentRow,
    EventRow,
    GrantRow,
    KeyRow,
    MarkerRow,
    RefreshTokenRow,
    SessionRow,
    ThrottleRow,
    UserRow,
)
from keystead.store.sql.prepared import Prepared

T = TypeVar("T")
U = TypeVar("U")

PURGE_BATCH = 500  # rows per purge transaction


def _is_foreign_key_violation(exc: IntegrityError) -> bool:
    orig = exc.orig
    if getattr(orig, "sqlite_errorcode", None) == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
        return True
    # PostgreSQL foreign_key_violation (psycopg: .sqlstate, asyncpg adapter: .pgcode)
    return "23503" in (getattr(orig, "sqlstate", None), getattr(orig, "pgcode", None))


def _integrity_error(exc: IntegrityError, what: str) -> Exception:
    """DuplicateError for a taken key, LookupError for a missing parent row."""
    if _is_foreign_key_violation(exc):
        return LookupError(f"{what}: referenced row does not exist")
    return DuplicateError(f"{what} already exists")


def _insert_dialect(dialect_name: str) -> Any:
    """``insert`` with ``on_conflict_do_update`` (same API on SQLite and PostgreSQL)."""
    upsert_inserts = {"sqlite": sqlite_insert, "postgresql": postgresql_insert}
    if dialect_name not in upsert_inserts:
        raise NotImplementedError(f"no upsert for the {dialect_name!r} dialect")
    return upsert_inserts[dialect_name]


class _Concern:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._insert = _insert_dialect(db.dialect_name)

    async def _add(self, table: Table, obj: Any, what: str) -> None:
        """Insert one row: DuplicateError on a taken key, LookupError on a missing parent."""
        values = to_values(obj)
        try:
            await self._db.run(lambda connection: _INSERT[table].rowcount(connection, values))
        except IntegrityError as exc:
            raise _integrity_error(exc, what) from exc

    async def _first(
        self, query: Select[Any] | Prepared, cls: type[T], params: dict[str, Any] | None = None
    ) -> T | None:
        """The first row of ``query`` (with ``params``) as a ``cls``, or None."""
        if isinstance(query, Prepared):
            prepared = query

            def hot(connection: Connection) -> T | None:
                row = prepared.first(connection, params or {})
                return None if row is None else from_values(row, cls, prepared.columns)

            return await self._db.read(hot)

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
        return await self._db.run(
            lambda connection: int(connection.execute(statement, params).rowcount),
            long=long,
        )


def _issued_rows(
    access_tokens: Sequence[AccessToken], refresh_tokens: Sequence[RefreshToken]
) -> list[tuple[Table, dict[str, Any]]]:
    """The rows of the tokens a code redemption or a rotation stores in its transaction."""
    rows = [(ACCESS_TOKENS, to_values(token)) for token in access_tokens]
    return rows + [(REFRESH_TOKENS, to_values(token)) for token in refresh_tokens]


def _insert_rows(connection: Connection, rows: list[tuple[Table, dict[str, Any]]]) -> None:
    for table, values in rows:
        _INSERT[table].rowcount(connection, values)


def _pair(
    row: Any, first: Table, first_cls: type[T], second: Table, second_cls: type[U]
) -> tuple[T, U]:
    """Split a row of ``select(first, second)`` into its two records, by column position."""
    return (
        from_values(row, first_cls, _COLUMNS[first]),
        from_values(row, second_cls, _COLUMNS[second], len(first.columns)),
    )


# The tables (Core): the store reads and writes without the ORM's unit of work.
CLIENTS = cast(Table, ClientRow.__table__)
USERS = cast(Table, UserRow.__table__)
GRANTS = cast(Table, GrantRow.__table__)
CODES = cast(Table, AuthorizationCodeRow.__table__)
ACCESS_TOKENS = cast(Table, AccessTokenRow.__table__)
REFRESH_TOKENS = cast(Table, RefreshTokenRow.__table__)
SESSIONS = cast(Table, SessionRow.__table__)
CONSENTS = cast(Table, ConsentRow.__table__)
KEYS = cast(Table, KeyRow.__table__)
THROTTLE = cast(Table, ThrottleRow.__table__)
APIS = cast(Table, ApiRow.__table__)
MARKERS = cast(Table, MarkerRow.__table__)
EVENTS = cast(Table, EventRow.__table__)

# Statements built once (a statement built per call cost more than running it): inserts of
# whole rows, reads by primary key (``:key``), and tokens read with their grant.
# ``Prepared``: on SQLite they run on the sqlite3 connection itself (prepared.py says why).
_COLUMNS = {table: tuple(table.columns.keys()) for table in Base.metadata.tables.values()}
_INSERT = {table: Prepared(insert(table)) for table in Base.metadata.tables.values()}
_BY_KEY = {
    table: Prepared(select(table).where(table.primary_key.columns[0] == bindparam("key")))
    for table in (CLIENTS, USERS, CODES, SESSIONS, THROTTLE, APIS)
}
_WITH_GRANT = {
    table: Prepared(
        select(table, GRANTS)
        .join(GRANTS, table.c.grant_id == GRANTS.c.grant_id)
        .where(table.c.token_hash == bindparam("key"))
    )
    for table in (ACCESS_TOKENS, REFRESH_TOKENS)
}
# A presented access token: its own state and its grant's, nothing else (column names are
# AccessTokenStatus's field names).
_TOKEN_STATUS = Prepared(
    select(
        ACCESS_TOKENS.c.client_id,
        ACCESS_TOKENS.c.sub,
        ACCESS_TOKENS.c.scope,
        ACCESS_TOKENS.c.aud,
        ACCESS_TOKENS.c.expires_at,
        ACCESS_TOKENS.c.created_at,
        ACCESS_TOKENS.c.revoked_at,
        GRANTS.c.grant_id,
        GRANTS.c.revoked_at.label("grant_revoked_at"),
        GRANTS.c.claims,
    )
    .join(GRANTS, ACCESS_TOKENS.c.grant_id == GRANTS.c.grant_id)
    .where(ACCESS_TOKENS.c.token_hash == bindparam("key"))
)
# RFC 6749 §4.1.2 and RFC 9700 §4.14.2: the single-use statements (see their methods).
_CONSUME_CODE = Prepared(
    update(CODES)
    .where(CODES.c.code_hash == bindparam("key"), CODES.c.consumed_at.is_(None))
    .values(consumed_at=bindparam("now"))
    .returning(*CODES.columns)
)
_ROTATE = Prepared(
    update(REFRESH_TOKENS)
    .where(REFRESH_TOKENS.c.token_hash == bindparam("key"), REFRESH_TOKENS.c.rotated_at.is_(None))
    .values(
        rotated_at=bindparam("now"),
        successor_hash=bindparam("hash"),
        successor_enc=bindparam("enc"),
    )
)
_TOUCH_SESSION = Prepared(
    update(SESSIONS)
    .where(SESSIONS.c.session_hash == bindparam("key"))
    .values(last_active_at=bindparam("now"))
)
_CONSENT = Prepared(
    select(CONSENTS).where(
        CONSENTS.c.sub == bindparam("sub"), CONSENTS.c.client_id == bindparam("client_id")
    )
)


class SqlClientStore(_Concern):
    async def add(self, client: Client) -> None:
        await self._add(CLIENTS, client, f"client_id {client.client_id!r}")

    async def get(self, client_id: str) -> Client | None:
        return await self._first(_BY_KEY[CLIENTS], Client, {"key": client_id})

    async def list(self) -> list[Client]:
        query = select(CLIENTS).order_by(ClientRow.created_at, ClientRow.client_id)
        return await self._all(query, Client)

    async def delete(self, client_id: str) -> bool:
        # Grants (and through them codes, access and refresh tokens) and consents go with it:
        # ON DELETE CASCADE.
        # long: the cascade may remove any number of rows; never on the event loop.
        query = delete(ClientRow).where(ClientRow.client_id == client_id)
        return bool(await self._rowcount(query, long=True))

    async def update(self, client: Client) -> bool:
        query = (
            update(ClientRow)
            .where(ClientRow.client_id == client.client_id)
            .values(**to_values(client, skip=("client_id", "created_at")))
        )
        return bool(await self._rowcount(query))


class SqlUserStore(_Concern):
    async def add(self, user: User) -> None:
        await self._add(USERS, user, f"user {user.username!r}")

    async def get(self, sub: str) -> User | None:
        return await self._first(_BY_KEY[USERS], User, {"key": sub})

    async def get_by_username(self, username: str) -> User | None:
        return await self._first(select(USERS).where(UserRow.username == username), User)

    async def list(self) -> list[User]:
        return await self._all(select(USERS).order_by(UserRow.created_at, UserRow.sub), User)

    async def set_password(self, sub: str, password_hash: str, now: int) -> bool:
        query = (
            update(UserRow)
            .where(UserRow.sub == sub)
            .values(password_hash=password_hash, updated_at=now)
        )
        return bool(await self._rowcount(query))

    async def replace_password_hash(self, sub: str, old_hash: str, new_hash: str) -> bool:
        # Conditional on the old hash: a password set meanwhile is never overwritten.
        query = (
            update(UserRow)
            .where(UserRow.sub == sub, UserRow.password_hash == old_hash)
            .values(password_hash=new_hash)
        )
        return bool(await self._rowcount(query))

    async def update(self, user: User) -> bool:
        query = (
            update(UserRow)
            .where(UserRow.sub == user.sub)
            .values(**to_values(user, skip=("sub", "created_at")))
        )
        try:
            return bool(await self._rowcount(query))
        except IntegrityError as exc:
            raise _integrity_error(exc, f"user {user.username!r}") from exc

    async def delete(self, sub: str, now: int) -> bool:
        # One transaction: the user, their sessions and consents go; their grants are revoked
        # (not deleted: a revoked grant makes its recorded JWT access tokens inactive).
        def work(connection: Connection) -> bool:
            result = connection.execute(delete(UserRow).where(UserRow.sub == sub))
            if not result.rowcount:
                return False
            connection.execute(delete(SessionRow).where(SessionRow.sub == sub))
            connection.execute(delete(ConsentRow).where(ConsentRow.sub == sub))
            connection.execute(
                update(GrantRow)
                .where(GrantRow.sub == sub, GrantRow.revoked_at.is_(None))
                .values(revoked_at=now)
            )
            return True

        return await self._db.run(work, long=True)


class SqlGrantStore(_Concern):
    async def add_grant(self, grant: Grant, code: AuthorizationCode | None = None) -> None:
        if code is None:
            await self._add(GRANTS, grant, f"grant {grant.grant_id!r}")
            return
        rows = to_values(grant), to_values(code)

        def work(connection: Connection) -> None:  # one transaction: both rows or neither
            _INSERT[GRANTS].rowcount(connection, rows[0])
            _INSERT[CODES].rowcount(connection, rows[1])  # after its grant (foreign key)

        try:
            await self._db.run(work)
        except IntegrityError as exc:
            raise _integrity_error(exc, f"grant {grant.grant_id!r} or its code") from exc

    async def revoke_grant(self, grant_id: str, now: int) -> None:
        # The first revocation time is kept.
        query = (
            update(GrantRow)
            .where(GrantRow.grant_id == grant_id, GrantRow.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        await self._rowcount(query)

    async def add_code(self, code: AuthorizationCode) -> None:
        await self._add(CODES, code, "authorization code")

    async def consume_code(
        self,
        code_hash: str,
        now: int,
        *,
        access_tokens: Sequence[AccessToken] = (),
        refresh_tokens: Sequence[RefreshToken] = (),
    ) -> AuthorizationCode | None:
        # RFC 6749 §4.1.2: the code is single use. One conditional UPDATE: of any number of
        # concurrent callers (in any process), exactly one sees the row come back; the tokens
        # issued for it are inserted in that transaction (one commit per token response).
        params = {"key": code_hash, "now": now}
        rows = _issued_rows(access_tokens, refresh_tokens)

        def work(connection: Connection) -> AuthorizationCode | None:
            row = _CONSUME_CODE.first(connection, params)
            if row is None:
                return None
            _insert_rows(connection, rows)
            return from_values(row, AuthorizationCode, _COLUMNS[CODES])

        try:
            return await self._db.run(work)
        except IntegrityError as exc:
            raise _integrity_error(exc, "token") from exc

    async def get_code(self, code_hash: str) -> AuthorizationCode | None:
        return await self._first(_BY_KEY[CODES], AuthorizationCode, {"key": code_hash})

    async def add_access_token(self, token: AccessToken) -> None:
        await self._add(ACCESS_TOKENS, token, "access token")

    async def get_access_token(self, token_hash: str) -> tuple[AccessToken, Grant] | None:
        def work(connection: Connection) -> tuple[AccessToken, Grant] | None:
            result = _WITH_GRANT[ACCESS_TOKENS].first(connection, {"key": token_hash})
            if result is None:
                return None
            return _pair(result, ACCESS_TOKENS, AccessToken, GRANTS, Grant)

        return await self._db.read(work)

    async def get_access_token_status(self, token_hash: str) -> AccessTokenStatus | None:
        def work(connection: Connection) -> AccessTokenStatus | None:
            row = _TOKEN_STATUS.first(connection, {"key": token_hash})
            if row is None:
                return None
            return from_values(row, AccessTokenStatus, _TOKEN_STATUS.columns)

        return await self._db.read(work)

    async def revoke_access_token(self, token_hash: str, now: int) -> None:
        # The first revocation time is kept.
        query = (
            update(AccessTokenRow)
            .where(AccessTokenRow.token_hash == token_hash, AccessTokenRow.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        await self._rowcount(query)

    async def add_refresh_token(self, token: RefreshToken) -> None:
        await self._add(REFRESH_TOKENS, token, "refresh token")

    async def get_refresh_token(self, token_hash: str) -> tuple[RefreshToken, Grant] | None:
        def work(connection: Connection) -> tuple[RefreshToken, Grant] | None:
            result = _WITH_GRANT[REFRESH_TOKENS].first(connection, {"key": token_hash})
            if result is None:
                return None
            return _pair(result, REFRESH_TOKENS, RefreshToken, GRANTS, Grant)

        return await self._db.read(work)

    async def rotate_refresh_token(
        self,
        token_hash: str,
        successor: RefreshToken,
        successor_enc: str,
        now: int,
        access_tokens: Sequence[AccessToken] = (),
    ) -> bool:
        # RFC 9700 §4.14.2: a refresh token is rotated once. The conditional UPDATE lets exactly
        # one caller (in any process) through; its successor (and the access tokens issued
        # with it) are inserted in the same transaction, so a failed INSERT rolls the rotation
        # back too — and one commit serves the whole refresh.
        params = {"key": token_hash, "now": now, "hash": successor.token_hash, "enc": successor_enc}
        rows = _issued_rows(access_tokens, [successor])

        def work(connection: Connection) -> bool:
            if _ROTATE.rowcount(connection, params) != 1:
                return False
            _insert_rows(connection, rows)
            return True

        try:
            return await self._db.run(work)
        except IntegrityError as exc:
            raise _integrity_error(exc, "refresh token") from exc

    async def clear_successors(self, rotated_before: int) -> int:
        query = (
            update(RefreshTokenRow)
            .where(
                RefreshTokenRow.rotated_at < rotated_before,
                RefreshTokenRow.successor_enc.is_not(None),
            )
            .values(successor_enc=None)
        )
        return await self._rowcount(query, long=True)

    async def purge_expired(self, before: int) -> int:
        # Short batches (``_purge``): SQLite writers wait only briefly.
        code, token, refresh = AuthorizationCodeRow, AccessTokenRow, RefreshTokenRow
        idle_head = and_(refresh.rotated_at.is_(None), refresh.idle_expires_at < before)
        purges = [
            (CODES, code.expires_at < before),
            (ACCESS_TOKENS, token.expires_at < before),
            (REFRESH_TOKENS, or_(refresh.expires_at < before, idle_head)),
            # Dead or empty grants; what is left under them goes by ON DELETE CASCADE.
            (
                GRANTS,
                or_(
                    GrantRow.revoked_at < before,
                    GrantRow.expires_at < before,
                    and_(
                        GrantRow.created_at < before,
                        *(
                            ~exists().where(row.grant_id == GrantRow.grant_id)
                            for row in (code, token, refresh)
                        ),
                    ),
                ),
            ),
        ]
        removed = 0
        for table, where in purges:
            removed += await self._purge(table, where)
        return removed


class SqlSessionStore(_Concern):
    async def add(self, session: Session_) -> None:
        await self._add(SESSIONS, session, "session")

    async def get(self, session_hash: str) -> Session_ | None:
        return await self._first(_BY_KEY[SESSIONS], Session_, {"key": session_hash})

    async def touch(self, session_hash: str, now: int) -> None:
        params = {"key": session_hash, "now": now}
        await self._db.run(lambda connection: _TOUCH_SESSION.rowcount(connection, params))

    async def delete(self, session_hash: str) -> None:
        await self._rowcount(delete(SessionRow).where(SessionRow.session_hash == session_hash))

    async def purge_expired(self, before: int, idle_before: int) -> int:
        idle = or_(SessionRow.expires_at < before, SessionRow.last_active_at < idle_before)
        return await self._purge(SESSIONS, idle)


class SqlConsentStore(_Concern):
    async def get(self, sub: str, client_id: str) -> Consent | None:
        return await self._first(_CONSENT, Consent, {"sub": sub, "client_id": client_id})

    async def put(self, consent: Consent) -> None:
        query = (
            self._insert(ConsentRow)
            .values(
                sub=consent.sub,
                client_id=consent.client_id,
                scope=consent.scope,
                updated_at=consent.updated_at,
            )
            .on_conflict_do_update(
                index_elements=[ConsentRow.sub, ConsentRow.client_id],
                set_={"scope": consent.scope, "updated_at": consent.updated_at},
            )
        )
        try:
            await self._rowcount(query)
        except IntegrityError as exc:
            if _is_foreign_key_violation(exc):
                raise LookupError(f"client_id {consent.client_id!r} does not exist") from exc
            raise


class SqlKeyStore(_Concern):
    async def list(self) -> list[StoredKey]:
        return await self._all(select(KEYS).order_by(KeyRow.created_at, KeyRow.kid), StoredKey)

    async def add(self, key: StoredKey) -> None:
        await self._add(KEYS, key, f"kid {key.kid!r}")

    async def set_retire_at(self, kid: str, retire_at: int | None) -> None:
        await self._rowcount(update(KeyRow).where(KeyRow.kid == kid).values(retire_at=retire_at))


class SqlThrottleStore(_Concern):
    async def get(self, key: str) -> ThrottleState | None:
        return await self._first(_BY_KEY[THROTTLE], ThrottleState, {"key": key})

    async def record_failure(self, key: str, now: int) -> ThrottleState:
        # One upsert, so concurrent failures are all counted.
        query = (
            self._insert(ThrottleRow)
            .values(key=key, failures=1, last_failure_at=now)
            .on_conflict_do_update(
                index_elements=[ThrottleRow.key],
                set_={"failures": ThrottleRow.failures + 1, "last_failure_at": now},
            )
            .returning(ThrottleRow.key, ThrottleRow.failures, ThrottleRow.last_failure_at)
        )
        return await self._db.run(
            lambda connection: from_mapping(
                connection.execute(query).mappings().one(), ThrottleState
            )
        )

    async def reset(self, key: str) -> None:
        await self._rowcount(delete(ThrottleRow).where(ThrottleRow.key == key))

    async def purge(self, before: int) -> int:
        return await self._purge(THROTTLE, ThrottleRow.last_failure_at < before)


class SqlApiStore(_Concern):
    async def add(self, api: Api) -> None:
        await self._add(APIS, api, f"api {api.api_id!r} or {api.identifier!r}")

    async def get(self, api_id: str) -> Api | None:
        return await self._first(_BY_KEY[APIS], Api, {"key": api_id})

    async def get_by_identifier(self, identifier: str) -> Api | None:
        return await self._first(select(APIS).where(ApiRow.identifier == identifier), Api)

    async def list(self) -> list[Api]:
        return await self._all(select(APIS).order_by(ApiRow.created_at, ApiRow.api_id), Api)

    async def delete(self, api_id: str) -> bool:
        return bool(await self._rowcount(delete(ApiRow).where(ApiRow.api_id == api_id), long=True))

    async def update(self, api: Api) -> bool:
        query = (
            update(ApiRow)
            .where(ApiRow.api_id == api.api_id)
            .values(**to_values(api, skip=("api_id", "created_at")))
        )
        try:
            return bool(await self._rowcount(query))
        except IntegrityError as exc:
            raise _integrity_error(exc, f"api identifier {api.identifier!r}") from exc


class SqlMarkerStore(_Concern):
    async def add(self, key: str, expires_at: int, now: int) -> bool:
        # One upsert: a new key is inserted, an expired one taken over; a live one is left
        # alone and nothing comes back — so of concurrent callers exactly one sees a row.
        query = (
            self._insert(MarkerRow)
            .values(key=key, expires_at=expires_at)
            .on_conflict_do_update(
                index_elements=[MarkerRow.key],
                set_={"expires_at": expires_at},
                where=MarkerRow.expires_at <= now,
            )
            .returning(MarkerRow.key)
        )
        return await self._db.run(lambda connection: connection.execute(query).first() is not None)

    async def get(self, key: str, now: int) -> int | None:
        query = select(MarkerRow.expires_at).where(MarkerRow.key == key, MarkerRow.expires_at > now)
        value = await self._db.run(lambda connection: connection.scalar(query))
        return None if value is None else int(value)

    async def take(self, key: str, now: int) -> bool:
        query = delete(MarkerRow).where(MarkerRow.key == key, MarkerRow.expires_at > now)
        return bool(await self._rowcount(query))

    async def purge(self, now: int) -> int:
        return await self._purge(MARKERS, MarkerRow.expires_at <= now)


class SqlEventStore(_Concern):
    async def add_many(self, events: Sequence[EventRecord]) -> None:
        if not events:
            return
        rows = [to_values(event) for event in events]
        await self._db.run(lambda connection: connection.execute(insert(EVENTS), rows))

    async def by_correlation_id(self, correlation_id: str) -> list[EventRecord]:
        query = (
            select(EVENTS)
            .where(EventRow.correlation_id == correlation_id)
            .order_by(EventRow.created_at, EventRow.event_id)
        )
        return await self._all(query, EventRecord)

    async def recent(self, limit: int) -> list[EventRecord]:
        query = (
            select(EVENTS)
            .order_by(EventRow.created_at.desc(), EventRow.event_id.desc())
            .limit(limit)
        )
        return await self._all(query, EventRecord)

    async def purge(self, before: int) -> int:
        return await self._purge(EVENTS, EventRow.created_at < before)


class SqlStore:
    """The ``Store`` on a ``Database`` (database.py). Create it with ``open_store()``."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.clients: ClientStore = SqlClientStore(db)
        self.users: UserStore = SqlUserStore(db)
        self.grants: GrantStore = SqlGrantStore(db)
        self.sessions: SessionStore = SqlSessionStore(db)
        self.consents: ConsentStore = SqlConsentStore(db)
        self.keys: KeyStore = SqlKeyStore(db)
        self.throttle: ThrottleStore = SqlThrottleStore(db)
        self.events: EventStore = SqlEventStore(db)
        self.apis: ApiStore = SqlApiStore(db)
        self.markers: MarkerStore = SqlMarkerStore(db)

    async def ping(self) -> None:
        await self.db.ping()

    async def close(self) -> None:
        await self.db.close()
