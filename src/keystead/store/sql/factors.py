"""``FactorStore`` on SQL: each use is one conditional UPDATE (atomic across processes)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import bindparam, delete, func, insert, select, update
from sqlalchemy.engine import Connection

from keystead.store.factors import Factor, RecoveryCodes
from keystead.store.sql.concern import Concern
from keystead.store.sql.models import FactorRow, RecoveryCodeRow
from keystead.store.sql.prepared import Prepared
from keystead.store.sql.tables import FACTORS

# The first row is all that is read (a user has a handful of factors; no LIMIT, which would
# be a parameter of its own).
_ANY_FACTOR = Prepared(select(FACTORS.c.factor_id).where(FACTORS.c.sub == bindparam("sub")))


class SqlFactorStore(Concern):
    async def add(self, factor: Factor) -> None:
        await self._add(FACTORS, factor, "factor")

    async def get(self, factor_id: str) -> Factor | None:
        return await self._first(select(FACTORS).where(FactorRow.factor_id == factor_id), Factor)

    async def get_by_credential(self, credential_id: str) -> Factor | None:
        query = select(FACTORS).where(FactorRow.credential_id == credential_id)
        return await self._first(query, Factor)

    async def list(self, sub: str) -> list[Factor]:
        query = (
            select(FACTORS)
            .where(FactorRow.sub == sub)
            .order_by(FactorRow.created_at, FactorRow.factor_id)
        )
        return await self._all(query, Factor)

    async def has_any(self, sub: str) -> bool:
        # Asked on every password sign-in: one prepared statement (the index on sub).
        return await self._db.first(_ANY_FACTOR, {"sub": sub}) is not None

    async def delete(self, sub: str, factor_id: str) -> bool:
        query = delete(FactorRow).where(FactorRow.sub == sub, FactorRow.factor_id == factor_id)
        return bool(await self._rowcount(query))

    async def reset(self, sub: str) -> int:
        def work(connection: Connection) -> int:
            gone = connection.execute(delete(FactorRow).where(FactorRow.sub == sub)).rowcount
            connection.execute(delete(RecoveryCodeRow).where(RecoveryCodeRow.sub == sub))
            return int(gone)

        return await self._db.run(work)

    async def use_totp(self, factor_id: str, step: int, now: int) -> bool:
        # RFC 6238 §5.2: a code is accepted once — the step must be newer than the last one.
        query = (
            update(FactorRow)
            .where(FactorRow.factor_id == factor_id, FactorRow.last_step < step)
            .values(last_step=step, last_used_at=now)
        )
        return bool(await self._rowcount(query))

    async def use_passkey(
        self, factor_id: str, old_count: int, new_count: int, backup_state: bool, now: int
    ) -> bool:
        query = (
            update(FactorRow)
            .where(FactorRow.factor_id == factor_id, FactorRow.sign_count == old_count)
            .values(sign_count=new_count, backup_state=backup_state, last_used_at=now)
        )
        return bool(await self._rowcount(query))

    async def set_recovery_codes(self, sub: str, code_hashes: Sequence[str], now: int) -> None:
        rows = [{"code_hash": h, "sub": sub, "created_at": now} for h in code_hashes]

        def work(connection: Connection) -> None:
            connection.execute(delete(RecoveryCodeRow).where(RecoveryCodeRow.sub == sub))
            if rows:
                connection.execute(insert(RecoveryCodeRow), rows)

        await self._db.run(work)

    async def use_recovery_code(self, sub: str, code_hash: str, now: int) -> bool:
        query = (
            update(RecoveryCodeRow)
            .where(
                RecoveryCodeRow.code_hash == code_hash,
                RecoveryCodeRow.sub == sub,
                RecoveryCodeRow.used_at.is_(None),
            )
            .values(used_at=now)
        )
        return bool(await self._rowcount(query))

    async def recovery_codes(self, sub: str) -> RecoveryCodes:
        query = select(
            func.count(RecoveryCodeRow.code_hash).filter(RecoveryCodeRow.used_at.is_(None)),
            func.min(RecoveryCodeRow.created_at),
            func.max(RecoveryCodeRow.used_at),
        ).where(RecoveryCodeRow.sub == sub)
        row = await self._db.read(lambda connection: connection.execute(query).one())
        return RecoveryCodes(int(row[0] or 0), row[1], row[2])
