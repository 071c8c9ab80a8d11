"""``GrantStore`` on SQL: grants, authorization codes, access and refresh tokens.

Single-use operations are one atomic statement (``UPDATE ... WHERE consumed_at IS NULL
RETURNING``) or begin with one (refresh token rotation: ``UPDATE ... WHERE rotated_at IS
NULL``, then the successor's INSERT in the same transaction), so they cannot succeed twice
even when several processes share the database.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from sqlalchemy import Table, and_, bindparam, exists, or_, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from keystead.store.base import (
    AccessToken,
    AccessTokenStatus,
    AuthorizationCode,
    Grant,
    JwtStatus,
    RefreshToken,
)
from keystead.store.sql import pg_statements
from keystead.store.sql.concern import Concern, integrity_error
from keystead.store.sql.convert import from_values, to_values
from keystead.store.sql.models import (
    AccessTokenRow,
    AuthorizationCodeRow,
    GrantRow,
    RefreshTokenRow,
)
from keystead.store.sql.prepared import Prepared
from keystead.store.sql.tables import (
    ACCESS_TOKENS,
    BY_KEY,
    CODES,
    COLUMNS,
    GRANTS,
    INSERT,
    REFRESH_TOKENS,
)

T = TypeVar("T")
U = TypeVar("U")

# Statements built once, as in tables.py. Tokens read with their grant (one round trip):
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
        ACCESS_TOKENS.c.jkt,
        ACCESS_TOKENS.c.x5t_s256,
        ACCESS_TOKENS.c.authorization_details,
    )
    .join(GRANTS, ACCESS_TOKENS.c.grant_id == GRANTS.c.grant_id)
    .where(ACCESS_TOKENS.c.token_hash == bindparam("key"))
)
# A JWT access token of a grant: the grant's state and the token's revocation, if any (the
# only row a JWT access token has). Column names are JwtStatus's field names.
_JWT_STATUS = Prepared(
    select(
        GRANTS.c.sub,
        GRANTS.c.revoked_at.label("grant_revoked_at"),
        GRANTS.c.claims,
        select(ACCESS_TOKENS.c.revoked_at)
        .where(ACCESS_TOKENS.c.token_hash == bindparam("key"))
        .scalar_subquery()
        .label("revoked_at"),
    ).where(GRANTS.c.grant_id == bindparam("grant_id"))
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


def _issued_rows(
    access_tokens: Sequence[AccessToken], refresh_tokens: Sequence[RefreshToken]
) -> list[tuple[Table, dict[str, Any]]]:
    """The rows of the tokens a code redemption or a rotation stores in its transaction."""
    rows = [(ACCESS_TOKENS, to_values(token)) for token in access_tokens]
    return rows + [(REFRESH_TOKENS, to_values(token)) for token in refresh_tokens]


def _pg_issued(
    access_tokens: Sequence[AccessToken], refresh_tokens: Sequence[RefreshToken], extra: Any
) -> tuple[tuple[tuple[str, ...], ...], tuple[tuple[str, ...], ...], dict[str, Any]]:
    """For pg_statements: the column names of each access and refresh token row (the
    statement's shape) and the parameters, named ``a0_``... and ``r0_``... as it names them."""
    access = [to_values(token) for token in access_tokens]
    refresh = [to_values(token) for token in refresh_tokens]
    prefixed = [(f"a{i}_", v) for i, v in enumerate(access)]
    prefixed += [(f"r{i}_", v) for i, v in enumerate(refresh)]
    names = tuple(tuple(v) for v in access), tuple(tuple(v) for v in refresh)
    return *names, pg_statements.params(prefixed, extra)


def _insert_rows(connection: Connection, rows: list[tuple[Table, dict[str, Any]]]) -> None:
    for table, values in rows:
        INSERT[table].rowcount(connection, values)


def _pair(
    row: Any, first: Table, first_cls: type[T], second: Table, second_cls: type[U]
) -> tuple[T, U]:
    """Split a row of ``select(first, second)`` into its two records, by column position."""
    return (
        from_values(row, first_cls, COLUMNS[first]),
        from_values(row, second_cls, COLUMNS[second], len(first.columns)),
    )


class SqlGrantStore(Concern):
    async def add_grant(self, grant: Grant, code: AuthorizationCode | None = None) -> None:
        if code is None:
            await self._add(GRANTS, grant, f"grant {grant.grant_id!r}")
            return
        rows = to_values(grant), to_values(code)
        if self._db.dialect_name == "postgresql":  # one statement: one round trip
            names = tuple(rows[0]), tuple(rows[1])
            both = pg_statements.params([("g_", rows[0]), ("c_", rows[1])])
            try:
                await self._db.first(pg_statements.grant_and_code(*names), both, write=True)
            except IntegrityError as exc:
                raise integrity_error(exc, f"grant {grant.grant_id!r} or its code") from exc
            return

        def work(connection: Connection) -> None:  # one transaction: both rows or neither
            INSERT[GRANTS].rowcount(connection, rows[0])
            INSERT[CODES].rowcount(connection, rows[1])  # after its grant (foreign key)

        try:
            await self._db.run(work)
        except IntegrityError as exc:
            raise integrity_error(exc, f"grant {grant.grant_id!r} or its code") from exc

    async def revoke_grant(self, grant_id: str, now: int) -> None:
        # The first revocation time is kept.
        query = (
            update(GrantRow)
            .where(GrantRow.grant_id == grant_id, GrantRow.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        await self._rowcount(query)

    async def participants(
        self, sub: str, sids: Sequence[str] | None = None
    ) -> list[tuple[str, str | None]]:
        if sids is not None and not sids:
            return []
        query = select(GrantRow.client_id, GrantRow.sid).distinct().where(GrantRow.sub == sub)
        if sids is not None:
            query = query.where(GrantRow.sid.in_(list(sids)))  # ix_grants_sub_sid (0010)

        def work(connection: Connection) -> list[tuple[str, str | None]]:
            rows = connection.execute(query).all()
            return sorted(((r[0], r[1]) for r in rows), key=lambda p: (p[0], p[1] or ""))

        return await self._db.read(work)

    async def list_for(self, sub: str) -> list[Grant]:
        query = (
            select(GRANTS)
            .where(GrantRow.sub == sub, GrantRow.revoked_at.is_(None))
            .order_by(GrantRow.created_at.desc(), GrantRow.grant_id)
        )
        return await self._all(query, Grant)

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
        if self._db.dialect_name == "postgresql":  # one statement: one round trip
            access, refresh, both = _pg_issued(access_tokens, refresh_tokens, params)
            try:
                statement = pg_statements.consume_code(access, refresh)
                row = await self._db.first(statement, both, write=True)
            except IntegrityError as exc:
                raise integrity_error(exc, "token") from exc
            return None if row is None else from_values(row, AuthorizationCode, COLUMNS[CODES])
        rows = _issued_rows(access_tokens, refresh_tokens)

        def work(connection: Connection) -> AuthorizationCode | None:
            row = _CONSUME_CODE.first(connection, params)
            if row is None:
                return None
            _insert_rows(connection, rows)
            return from_values(row, AuthorizationCode, COLUMNS[CODES])

        try:
            return await self._db.run(work)
        except IntegrityError as exc:
            raise integrity_error(exc, "token") from exc

    async def get_code(self, code_hash: str) -> AuthorizationCode | None:
        return await self._first(BY_KEY[CODES], AuthorizationCode, {"key": code_hash})

    async def add_access_token(self, token: AccessToken) -> None:
        await self._add(ACCESS_TOKENS, token, "access token")

    async def get_access_token(self, token_hash: str) -> tuple[AccessToken, Grant] | None:
        row = await self._db.first(_WITH_GRANT[ACCESS_TOKENS], {"key": token_hash})
        return None if row is None else _pair(row, ACCESS_TOKENS, AccessToken, GRANTS, Grant)

    async def get_access_token_status(self, token_hash: str) -> AccessTokenStatus | None:
        row = await self._db.first(_TOKEN_STATUS, {"key": token_hash})
        return None if row is None else from_values(row, AccessTokenStatus, _TOKEN_STATUS.columns)

    async def get_jwt_status(self, grant_id: str, token_hash: str) -> JwtStatus | None:
        row = await self._db.first(_JWT_STATUS, {"grant_id": grant_id, "key": token_hash})
        return None if row is None else from_values(row, JwtStatus, _JWT_STATUS.columns)

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
        row = await self._db.first(_WITH_GRANT[REFRESH_TOKENS], {"key": token_hash})
        return None if row is None else _pair(row, REFRESH_TOKENS, RefreshToken, GRANTS, Grant)

    async def rotate_refresh_token(
        self,
        token_hash: str,
        successor: RefreshToken,
        successor_enc: str | None,
        now: int,
        access_tokens: Sequence[AccessToken] = (),
    ) -> bool:
        # RFC 9700 §4.14.2: a refresh token is rotated once. The conditional UPDATE lets exactly
        # one caller (in any process) through; its successor (and the access tokens issued
        # with it) are inserted in the same transaction, so a failed INSERT rolls the rotation
        # back too — and one commit serves the whole refresh.
        params = {"key": token_hash, "now": now, "hash": successor.token_hash, "enc": successor_enc}
        if self._db.dialect_name == "postgresql":  # one statement: one round trip
            access, refresh, both = _pg_issued(access_tokens, [successor], params)
            try:
                statement = pg_statements.rotate(access, refresh[0])
                row = await self._db.first(statement, both, write=True)
            except IntegrityError as exc:
                raise integrity_error(exc, "refresh token") from exc
            return row is not None
        rows = _issued_rows(access_tokens, [successor])

        def work(connection: Connection) -> bool:
            if _ROTATE.rowcount(connection, params) != 1:
                return False
            _insert_rows(connection, rows)
            return True

        try:
            return await self._db.run(work)
        except IntegrityError as exc:
            raise integrity_error(exc, "refresh token") from exc

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
