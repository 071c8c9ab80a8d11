"""``JobStore`` and ``ActionTokenStore`` on SQL.

A claim is one UPDATE of the rows a sub-select picks; on PostgreSQL the sub-select locks them
``FOR UPDATE SKIP LOCKED``, so concurrent senders pick different jobs instead of waiting;
SQLite has one writer at a time, so its UPDATE is atomic anyway (the clause is not emitted).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import and_, insert, or_, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from keystead.store.outbox import ActionToken, Job
from keystead.store.sql.concern import Concern, integrity_error
from keystead.store.sql.convert import from_mapping, to_values
from keystead.store.sql.models import ActionTokenRow, JobRow
from keystead.store.sql.tables import ACTION_TOKENS, JOBS

_PENDING = and_(JobRow.sent_at.is_(None), JobRow.failed_at.is_(None))


class SqlJobStore(Concern):
    async def add(self, job: Job) -> None:
        await self._add(JOBS, job, "job")

    async def get(self, job_id: str) -> Job | None:
        return await self._first(select(JOBS).where(JobRow.job_id == job_id), Job)

    async def recent(self, limit: int) -> list[Job]:
        query = select(JOBS).order_by(JobRow.created_at.desc(), JobRow.job_id).limit(limit)
        return await self._all(query, Job)

    async def claim(self, worker: str, now: int, lease: int, limit: int) -> list[Job]:
        due = (
            select(JobRow.job_id)
            .where(
                _PENDING,
                JobRow.next_attempt_at <= now,
                or_(JobRow.claimed_until.is_(None), JobRow.claimed_until < now),
            )
            .order_by(JobRow.next_attempt_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        )
        statement = (
            update(JobRow)
            .where(JobRow.job_id.in_(due))
            .values(claimed_by=worker, claimed_until=now + lease)
            .returning(*JOBS.columns)
        )

        def work(connection: Connection) -> list[Job]:
            return [from_mapping(m, Job) for m in connection.execute(statement).mappings()]

        return await self._db.run(work)

    def _mine(self, job_id: str, worker: str) -> object:
        return and_(JobRow.job_id == job_id, JobRow.claimed_by == worker, _PENDING)

    async def sent(self, job_id: str, worker: str, now: int) -> bool:
        query = update(JobRow).where(self._mine(job_id, worker)).values(sent_at=now)
        return bool(await self._rowcount(query))

    async def retry(self, job_id: str, worker: str, next_attempt_at: int, error: str) -> bool:
        query = (
            update(JobRow)
            .where(self._mine(job_id, worker))
            .values(
                attempts=JobRow.attempts + 1,
                next_attempt_at=next_attempt_at,
                claimed_by=None,
                claimed_until=None,
                last_error=error[:1000],
            )
        )
        return bool(await self._rowcount(query))

    async def give_up(self, job_id: str, worker: str, now: int, error: str) -> bool:
        query = (
            update(JobRow)
            .where(self._mine(job_id, worker))
            .values(attempts=JobRow.attempts + 1, failed_at=now, last_error=error[:1000])
        )
        return bool(await self._rowcount(query))

    async def purge(self, before: int) -> int:
        done = or_(JobRow.sent_at < before, JobRow.failed_at < before)
        return await self._purge(JOBS, done)


class SqlActionTokenStore(Concern):
    async def add(self, token: ActionToken, jobs: Sequence[Job] = ()) -> None:
        earlier = (
            update(ActionTokenRow)
            .where(
                ActionTokenRow.sub == token.sub,
                ActionTokenRow.purpose == token.purpose,
                ActionTokenRow.used_at.is_(None),
            )
            .values(expires_at=token.created_at)  # only the newest link counts
        )

        def work(connection: Connection) -> None:
            connection.execute(earlier)
            connection.execute(insert(ACTION_TOKENS), to_values(token))
            for job in jobs:  # the mail that carries it, in the same transaction
                connection.execute(insert(JOBS), to_values(job))

        try:
            await self._db.run(work)
        except IntegrityError as exc:
            raise integrity_error(exc, "action token") from exc

    async def get(self, token_hash: str) -> ActionToken | None:
        query = select(ACTION_TOKENS).where(ActionTokenRow.token_hash == token_hash)
        return await self._first(query, ActionToken)

    async def use(self, token_hash: str, purpose: str, now: int) -> ActionToken | None:
        statement = (
            update(ActionTokenRow)
            .where(
                ActionTokenRow.token_hash == token_hash,
                ActionTokenRow.purpose == purpose,
                ActionTokenRow.used_at.is_(None),
                ActionTokenRow.expires_at > now,
            )
            .values(used_at=now)
            .returning(*ACTION_TOKENS.columns)
        )

        def work(connection: Connection) -> ActionToken | None:
            row = connection.execute(statement).mappings().first()
            return None if row is None else from_mapping(row, ActionToken)

        return await self._db.run(work)

    async def purge(self, before: int) -> int:
        return await self._purge(ACTION_TOKENS, ActionTokenRow.expires_at < before)
