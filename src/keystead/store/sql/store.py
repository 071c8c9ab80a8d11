"""The SQL store: one small class per concern of ``store/base.py``, sharing one sessionmaker.

Each method is one short transaction. Single-use operations are one atomic statement
(``UPDATE ... WHERE consumed_at IS NULL RETURNING``) or begin with one (refresh token rotation:
``UPDATE ... WHERE rotated_at IS NULL``, then the successor's INSERT in the same transaction),
so they cannot succeed twice even when several processes share the database. Rows are
converted to the frozen dataclasses of ``base.py`` before leaving this module; callers never
see ORM objects.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, delete, exists, or_, select, text, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from keystead.store.base import (
    AccessToken,
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
    Session,
    SessionStore,
    StoredKey,
    ThrottleState,
    ThrottleStore,
    User,
    UserStore,
)
from keystead.store.sql.convert import from_mapping, from_row, to_row, to_values
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

Sessionmaker = async_sessionmaker[AsyncSession]


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
    def __init__(self, sessionmaker: Sessionmaker, dialect_name: str) -> None:
        self._sessionmaker = sessionmaker
        self._insert = _insert_dialect(dialect_name)

    async def _add(self, row: Base, what: str) -> None:
        """Insert one row: DuplicateError on a taken key, LookupError on a missing parent."""
        try:
            async with self._sessionmaker.begin() as session:
                session.add(row)
        except IntegrityError as exc:
            raise _integrity_error(exc, what) from exc


class SqlClientStore(_Concern):
    async def add(self, client: Client) -> None:
        await self._add(to_row(client, ClientRow), f"client_id {client.client_id!r}")

    async def get(self, client_id: str) -> Client | None:
        async with self._sessionmaker.begin() as session:
            row = await session.get(ClientRow, client_id)
            return None if row is None else from_row(row, Client)

    async def list(self) -> list[Client]:
        query = select(ClientRow).order_by(ClientRow.created_at, ClientRow.client_id)
        async with self._sessionmaker.begin() as session:
            return [from_row(row, Client) for row in await session.scalars(query)]

    async def delete(self, client_id: str) -> bool:
        # Grants (and through them codes, access and refresh tokens) and consents go with it:
        # ON DELETE CASCADE.
        query = delete(ClientRow).where(ClientRow.client_id == client_id)
        async with self._sessionmaker.begin() as session:
            result = await session.execute(query)
            return bool(result.rowcount)  # type: ignore[attr-defined]

    async def update(self, client: Client) -> bool:
        query = (
            update(ClientRow)
            .where(ClientRow.client_id == client.client_id)
            .values(**to_values(client, skip=("client_id", "created_at")))
        )
        async with self._sessionmaker.begin() as session:
            result = await session.execute(query)
            return bool(result.rowcount)  # type: ignore[attr-defined]


class SqlUserStore(_Concern):
    async def add(self, user: User) -> None:
        await self._add(to_row(user, UserRow), f"user {user.username!r}")

    async def get(self, sub: str) -> User | None:
        async with self._sessionmaker.begin() as session:
            row = await session.get(UserRow, sub)
            return None if row is None else from_row(row, User)

    async def get_by_username(self, username: str) -> User | None:
        query = select(UserRow).where(UserRow.username == username)
        async with self._sessionmaker.begin() as session:
            row = await session.scalar(query)
            return None if row is None else from_row(row, User)

    async def list(self) -> list[User]:
        query = select(UserRow).order_by(UserRow.created_at, UserRow.sub)
        async with self._sessionmaker.begin() as session:
            return [from_row(row, User) for row in await session.scalars(query)]

    async def set_password(self, sub: str, password_hash: str, now: int) -> bool:
        query = (
            update(UserRow)
            .where(UserRow.sub == sub)
            .values(password_hash=password_hash, updated_at=now)
        )
        async with self._sessionmaker.begin() as session:
            result = await session.execute(query)
            return bool(result.rowcount)  # type: ignore[attr-defined]

    async def update(self, user: User) -> bool:
        query = (
            update(UserRow)
            .where(UserRow.sub == user.sub)
            .values(**to_values(user, skip=("sub", "created_at")))
        )
        try:
            async with self._sessionmaker.begin() as session:
                result = await session.execute(query)
                return bool(result.rowcount)  # type: ignore[attr-defined]
        except IntegrityError as exc:
            raise _integrity_error(exc, f"user {user.username!r}") from exc

    async def delete(self, sub: str, now: int) -> bool:
        # One transaction: the user, their sessions and consents go; their grants are revoked
        # (not deleted: a revoked grant makes its recorded JWT access tokens inactive).
        async with self._sessionmaker.begin() as session:
            result = await session.execute(delete(UserRow).where(UserRow.sub == sub))
            if not result.rowcount:  # type: ignore[attr-defined]
                return False
            await session.execute(delete(SessionRow).where(SessionRow.sub == sub))
            await session.execute(delete(ConsentRow).where(ConsentRow.sub == sub))
            await session.execute(
                update(GrantRow)
                .where(GrantRow.sub == sub, GrantRow.revoked_at.is_(None))
                .values(revoked_at=now)
            )
            return True


class SqlGrantStore(_Concern):
    async def add_grant(self, grant: Grant) -> None:
        await self._add(to_row(grant, GrantRow), f"grant {grant.grant_id!r}")

    async def revoke_grant(self, grant_id: str, now: int) -> None:
        # The first revocation time is kept.
        query = (
            update(GrantRow)
            .where(GrantRow.grant_id == grant_id, GrantRow.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        async with self._sessionmaker.begin() as session:
            await session.execute(query)

    async def add_code(self, code: AuthorizationCode) -> None:
        await self._add(to_row(code, AuthorizationCodeRow), "authorization code")

    async def consume_code(self, code_hash: str, now: int) -> AuthorizationCode | None:
        # RFC 6749 §4.1.2: the code is single use. One conditional UPDATE: of any number of
        # concurrent callers (in any process), exactly one sees the row come back.
        query = (
            update(AuthorizationCodeRow)
            .where(
                AuthorizationCodeRow.code_hash == code_hash,
                AuthorizationCodeRow.consumed_at.is_(None),
            )
            .values(consumed_at=now)
            .returning(*AuthorizationCodeRow.__table__.columns)
        )
        async with self._sessionmaker.begin() as session:
            row = (await session.execute(query)).mappings().one_or_none()
            return None if row is None else from_mapping(row, AuthorizationCode)

    async def get_code(self, code_hash: str) -> AuthorizationCode | None:
        async with self._sessionmaker.begin() as session:
            row = await session.get(AuthorizationCodeRow, code_hash)
            return None if row is None else from_row(row, AuthorizationCode)

    async def add_access_token(self, token: AccessToken) -> None:
        await self._add(to_row(token, AccessTokenRow), "access token")

    async def get_access_token(self, token_hash: str) -> tuple[AccessToken, Grant] | None:
        query = (
            select(AccessTokenRow, GrantRow)
            .join(GrantRow, AccessTokenRow.grant_id == GrantRow.grant_id)
            .where(AccessTokenRow.token_hash == token_hash)
        )
        async with self._sessionmaker.begin() as session:
            result = (await session.execute(query)).one_or_none()
            if result is None:
                return None
            token_row, grant_row = result
            return from_row(token_row, AccessToken), from_row(grant_row, Grant)

    async def revoke_access_token(self, token_hash: str, now: int) -> None:
        # The first revocation time is kept.
        query = (
            update(AccessTokenRow)
            .where(AccessTokenRow.token_hash == token_hash, AccessTokenRow.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        async with self._sessionmaker.begin() as session:
            await session.execute(query)

    async def add_refresh_token(self, token: RefreshToken) -> None:
        await self._add(to_row(token, RefreshTokenRow), "refresh token")

    async def get_refresh_token(self, token_hash: str) -> tuple[RefreshToken, Grant] | None:
        query = (
            select(RefreshTokenRow, GrantRow)
            .join(GrantRow, RefreshTokenRow.grant_id == GrantRow.grant_id)
            .where(RefreshTokenRow.token_hash == token_hash)
        )
        async with self._sessionmaker.begin() as session:
            result = (await session.execute(query)).one_or_none()
            if result is None:
                return None
            token_row, grant_row = result
            return from_row(token_row, RefreshToken), from_row(grant_row, Grant)

    async def rotate_refresh_token(
        self, token_hash: str, successor: RefreshToken, successor_enc: str, now: int
    ) -> bool:
        # RFC 9700 §4.14.2: a refresh token is rotated once. The conditional UPDATE lets exactly
        # one caller (in any process) through; its successor is inserted in the same
        # transaction, so a failed INSERT rolls the rotation back too.
        query = (
            update(RefreshTokenRow)
            .where(RefreshTokenRow.token_hash == token_hash, RefreshTokenRow.rotated_at.is_(None))
            .values(
                rotated_at=now,
                successor_hash=successor.token_hash,
                successor_enc=successor_enc,
            )
        )
        try:
            async with self._sessionmaker.begin() as session:
                result = await session.execute(query)
                if result.rowcount != 1:  # type: ignore[attr-defined]
                    return False
                session.add(to_row(successor, RefreshTokenRow))
        except IntegrityError as exc:
            raise _integrity_error(exc, "refresh token") from exc
        return True

    async def clear_successors(self, rotated_before: int) -> int:
        query = (
            update(RefreshTokenRow)
            .where(
                RefreshTokenRow.rotated_at < rotated_before,
                RefreshTokenRow.successor_enc.is_not(None),
            )
            .values(successor_enc=None)
        )
        async with self._sessionmaker.begin() as session:
            result = await session.execute(query)
            return int(result.rowcount)  # type: ignore[attr-defined]

    async def purge_expired(self, before: int) -> int:
        # One short statement (and transaction) each: SQLite writers wait only briefly.
        code, token, refresh = AuthorizationCodeRow, AccessTokenRow, RefreshTokenRow
        idle_head = and_(refresh.rotated_at.is_(None), refresh.idle_expires_at < before)
        statements = [
            delete(code).where(code.expires_at < before),
            delete(token).where(token.expires_at < before),
            delete(refresh).where(or_(refresh.expires_at < before, idle_head)),
            # Dead or empty grants; what is left under them goes by ON DELETE CASCADE.
            delete(GrantRow).where(
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
                )
            ),
        ]
        removed = 0
        for statement in statements:
            async with self._sessionmaker.begin() as session:
                result = await session.execute(statement)
                removed += int(result.rowcount)  # type: ignore[attr-defined]
        return removed


class SqlSessionStore(_Concern):
    async def add(self, session: Session) -> None:
        await self._add(to_row(session, SessionRow), "session")

    async def get(self, session_hash: str) -> Session | None:
        async with self._sessionmaker.begin() as db:
            row = await db.get(SessionRow, session_hash)
            return None if row is None else from_row(row, Session)

    async def touch(self, session_hash: str, now: int) -> None:
        query = (
            update(SessionRow)
            .where(SessionRow.session_hash == session_hash)
            .values(last_active_at=now)
        )
        async with self._sessionmaker.begin() as db:
            await db.execute(query)

    async def delete(self, session_hash: str) -> None:
        query = delete(SessionRow).where(SessionRow.session_hash == session_hash)
        async with self._sessionmaker.begin() as db:
            await db.execute(query)

    async def purge_expired(self, before: int, idle_before: int) -> int:
        query = delete(SessionRow).where(
            or_(SessionRow.expires_at < before, SessionRow.last_active_at < idle_before)
        )
        async with self._sessionmaker.begin() as db:
            result = await db.execute(query)
            return int(result.rowcount)  # type: ignore[attr-defined]


class SqlConsentStore(_Concern):
    async def get(self, sub: str, client_id: str) -> Consent | None:
        async with self._sessionmaker.begin() as session:
            row = await session.get(ConsentRow, (sub, client_id))
            return None if row is None else from_row(row, Consent)

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
            async with self._sessionmaker.begin() as session:
                await session.execute(query)
        except IntegrityError as exc:
            if _is_foreign_key_violation(exc):
                raise LookupError(f"client_id {consent.client_id!r} does not exist") from exc
            raise


class SqlKeyStore(_Concern):
    async def list(self) -> list[StoredKey]:
        query = select(KeyRow).order_by(KeyRow.created_at, KeyRow.kid)
        async with self._sessionmaker.begin() as session:
            return [from_row(row, StoredKey) for row in await session.scalars(query)]

    async def add(self, key: StoredKey) -> None:
        await self._add(to_row(key, KeyRow), f"kid {key.kid!r}")

    async def set_retire_at(self, kid: str, retire_at: int | None) -> None:
        query = update(KeyRow).where(KeyRow.kid == kid).values(retire_at=retire_at)
        async with self._sessionmaker.begin() as session:
            await session.execute(query)


class SqlThrottleStore(_Concern):
    async def get(self, key: str) -> ThrottleState | None:
        async with self._sessionmaker.begin() as session:
            row = await session.get(ThrottleRow, key)
            return None if row is None else from_row(row, ThrottleState)

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
        async with self._sessionmaker.begin() as session:
            row = (await session.execute(query)).mappings().one()
            return from_mapping(row, ThrottleState)

    async def reset(self, key: str) -> None:
        query = delete(ThrottleRow).where(ThrottleRow.key == key)
        async with self._sessionmaker.begin() as session:
            await session.execute(query)

    async def purge(self, before: int) -> int:
        query = delete(ThrottleRow).where(ThrottleRow.last_failure_at < before)
        async with self._sessionmaker.begin() as session:
            result = await session.execute(query)
            return int(result.rowcount)  # type: ignore[attr-defined]


class SqlApiStore(_Concern):
    async def add(self, api: Api) -> None:
        await self._add(to_row(api, ApiRow), f"api {api.api_id!r} or {api.identifier!r}")

    async def get(self, api_id: str) -> Api | None:
        async with self._sessionmaker.begin() as session:
            row = await session.get(ApiRow, api_id)
            return None if row is None else from_row(row, Api)

    async def get_by_identifier(self, identifier: str) -> Api | None:
        query = select(ApiRow).where(ApiRow.identifier == identifier)
        async with self._sessionmaker.begin() as session:
            row = await session.scalar(query)
            return None if row is None else from_row(row, Api)

    async def list(self) -> list[Api]:
        query = select(ApiRow).order_by(ApiRow.created_at, ApiRow.api_id)
        async with self._sessionmaker.begin() as session:
            return [from_row(row, Api) for row in await session.scalars(query)]

    async def delete(self, api_id: str) -> bool:
        query = delete(ApiRow).where(ApiRow.api_id == api_id)
        async with self._sessionmaker.begin() as session:
            result = await session.execute(query)
            return bool(result.rowcount)  # type: ignore[attr-defined]

    async def update(self, api: Api) -> bool:
        query = (
            update(ApiRow)
            .where(ApiRow.api_id == api.api_id)
            .values(**to_values(api, skip=("api_id", "created_at")))
        )
        try:
            async with self._sessionmaker.begin() as session:
                result = await session.execute(query)
                return bool(result.rowcount)  # type: ignore[attr-defined]
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
        async with self._sessionmaker.begin() as session:
            return (await session.execute(query)).first() is not None

    async def get(self, key: str, now: int) -> int | None:
        query = select(MarkerRow.expires_at).where(MarkerRow.key == key, MarkerRow.expires_at > now)
        async with self._sessionmaker.begin() as session:
            value = await session.scalar(query)
            return None if value is None else int(value)

    async def take(self, key: str, now: int) -> bool:
        query = delete(MarkerRow).where(MarkerRow.key == key, MarkerRow.expires_at > now)
        async with self._sessionmaker.begin() as session:
            result = await session.execute(query)
            return bool(result.rowcount)  # type: ignore[attr-defined]

    async def purge(self, now: int) -> int:
        query = delete(MarkerRow).where(MarkerRow.expires_at <= now)
        async with self._sessionmaker.begin() as session:
            result = await session.execute(query)
            return int(result.rowcount)  # type: ignore[attr-defined]


class SqlEventStore(_Concern):
    async def add_many(self, events: Sequence[EventRecord]) -> None:
        if not events:
            return
        async with self._sessionmaker.begin() as session:
            session.add_all([to_row(event, EventRow) for event in events])

    async def by_correlation_id(self, correlation_id: str) -> list[EventRecord]:
        query = (
            select(EventRow)
            .where(EventRow.correlation_id == correlation_id)
            .order_by(EventRow.created_at, EventRow.event_id)
        )
        async with self._sessionmaker.begin() as session:
            return [from_row(row, EventRecord) for row in await session.scalars(query)]

    async def recent(self, limit: int) -> list[EventRecord]:
        query = (
            select(EventRow)
            .order_by(EventRow.created_at.desc(), EventRow.event_id.desc())
            .limit(limit)
        )
        async with self._sessionmaker.begin() as session:
            return [from_row(row, EventRecord) for row in await session.scalars(query)]

    async def purge(self, before: int) -> int:
        query = delete(EventRow).where(EventRow.created_at < before)
        async with self._sessionmaker.begin() as session:
            result = await session.execute(query)
            return int(result.rowcount)  # type: ignore[attr-defined]


class SqlStore:
    """The ``Store`` on an ``AsyncEngine``. Create it with ``open_store()``."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        sessionmaker = async_sessionmaker(engine, expire_on_commit=False)
        dialect = engine.dialect.name
        self.clients: ClientStore = SqlClientStore(sessionmaker, dialect)
        self.users: UserStore = SqlUserStore(sessionmaker, dialect)
        self.grants: GrantStore = SqlGrantStore(sessionmaker, dialect)
        self.sessions: SessionStore = SqlSessionStore(sessionmaker, dialect)
        self.consents: ConsentStore = SqlConsentStore(sessionmaker, dialect)
        self.keys: KeyStore = SqlKeyStore(sessionmaker, dialect)
        self.throttle: ThrottleStore = SqlThrottleStore(sessionmaker, dialect)
        self.events: EventStore = SqlEventStore(sessionmaker, dialect)
        self.apis: ApiStore = SqlApiStore(sessionmaker, dialect)
        self.markers: MarkerStore = SqlMarkerStore(sessionmaker, dialect)

    async def ping(self) -> None:
        async with self.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def close(self) -> None:
        await self.engine.dispose()
