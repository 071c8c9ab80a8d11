"""``UserStore`` on SQL."""

from __future__ import annotations

from sqlalchemy import bindparam, delete, func, select, tuple_, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from keystead.store.base import Position, User
from keystead.store.sql.concern import Concern, integrity_error
from keystead.store.sql.convert import to_values
from keystead.store.sql.models import ConsentRow, GrantRow, SessionRow, UserRow
from keystead.store.sql.prepared import Prepared
from keystead.store.sql.tables import BY_KEY, USERS

# Every password sign-in looks the user up by name: compiled once.
_BY_USERNAME = Prepared(select(USERS).where(UserRow.username == bindparam("username")))


class SqlUserStore(Concern):
    async def add(self, user: User) -> None:
        await self._add(USERS, user, f"user {user.username!r}")

    async def get(self, sub: str) -> User | None:
        return await self._first(BY_KEY[USERS], User, {"key": sub})

    async def get_by_username(self, username: str) -> User | None:
        return await self._first(_BY_USERNAME, User, {"username": username})

    async def list(self, after: Position | None = None, limit: int | None = None) -> list[User]:
        query = select(USERS).order_by(UserRow.created_at, UserRow.sub)
        if after is not None:
            query = query.where(tuple_(UserRow.created_at, UserRow.sub) > after)
        return await self._all(query if limit is None else query.limit(limit), User)

    async def get_by_email(self, email: str) -> list[User]:
        query = select(USERS).where(func.lower(UserRow.email) == email.lower())
        return await self._all(query.order_by(UserRow.created_at).limit(10), User)

    async def sign_out_everywhere(self, sub: str, now: int, keep: str | None = None) -> int:
        ended = delete(SessionRow).where(SessionRow.sub == sub)
        if keep is not None:
            ended = ended.where(SessionRow.session_hash != keep)
        revoked = (
            update(GrantRow)
            .where(GrantRow.sub == sub, GrantRow.revoked_at.is_(None))
            .values(revoked_at=now)
        )

        def work(connection: Connection) -> int:
            count = int(connection.execute(ended).rowcount)
            connection.execute(revoked)
            return count

        return await self._db.run(work)

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
            raise integrity_error(exc, f"user {user.username!r}") from exc

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
