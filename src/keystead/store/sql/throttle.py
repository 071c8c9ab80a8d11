"""``ThrottleStore`` on SQL."""

from __future__ import annotations

from sqlalchemy import bindparam, delete

from keystead.store.base import ThrottleState
from keystead.store.sql.concern import Concern
from keystead.store.sql.convert import from_mapping
from keystead.store.sql.models import ThrottleRow
from keystead.store.sql.prepared import Prepared
from keystead.store.sql.tables import BY_KEY, THROTTLE

_RESET = Prepared(delete(THROTTLE).where(THROTTLE.c.key == bindparam("key")))


class SqlThrottleStore(Concern):
    async def get(self, key: str) -> ThrottleState | None:
        return await self._first(BY_KEY[THROTTLE], ThrottleState, {"key": key})

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
        return await self._db.statement(
            lambda connection: from_mapping(
                connection.execute(query).mappings().one(), ThrottleState
            )
        )

    async def reset(self, key: str) -> None:
        await self._db.rowcount(_RESET, {"key": key})  # every successful sign-in

    async def purge(self, before: int) -> int:
        return await self._purge(THROTTLE, ThrottleRow.last_failure_at < before)
