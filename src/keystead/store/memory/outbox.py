"""``JobStore`` and ``ActionTokenStore`` in memory."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

from keystead.store.base import DuplicateError
from keystead.store.outbox import ActionToken, Job


class MemoryJobStore:
    def __init__(self) -> None:
        self.jobs: dict[str, Job] = {}

    async def add(self, job: Job) -> None:
        if job.job_id in self.jobs:
            raise DuplicateError("job already exists")
        self.jobs[job.job_id] = job

    async def get(self, job_id: str) -> Job | None:
        return self.jobs.get(job_id)

    async def recent(self, limit: int) -> list[Job]:
        return sorted(self.jobs.values(), key=lambda j: (-j.created_at, j.job_id))[:limit]

    async def claim(self, worker: str, now: int, lease: int, limit: int) -> list[Job]:
        due = sorted(
            (
                j
                for j in self.jobs.values()
                if j.sent_at is None
                and j.failed_at is None
                and j.next_attempt_at <= now
                and (j.claimed_until is None or j.claimed_until < now)
            ),
            key=lambda j: j.next_attempt_at,
        )[:limit]
        claimed = [
            dataclasses.replace(j, claimed_by=worker, claimed_until=now + lease) for j in due
        ]
        for job in claimed:
            self.jobs[job.job_id] = job
        return claimed

    def _mine(self, job_id: str, worker: str) -> Job | None:
        job = self.jobs.get(job_id)
        if job is None or job.claimed_by != worker or job.sent_at or job.failed_at:
            return None
        return job

    async def sent(self, job_id: str, worker: str, now: int) -> bool:
        job = self._mine(job_id, worker)
        if job is None:
            return False
        self.jobs[job_id] = dataclasses.replace(job, sent_at=now)
        return True

    async def retry(self, job_id: str, worker: str, next_attempt_at: int, error: str) -> bool:
        job = self._mine(job_id, worker)
        if job is None:
            return False
        self.jobs[job_id] = dataclasses.replace(
            job,
            attempts=job.attempts + 1,
            next_attempt_at=next_attempt_at,
            claimed_by=None,
            claimed_until=None,
            last_error=error[:1000],
        )
        return True

    async def give_up(self, job_id: str, worker: str, now: int, error: str) -> bool:
        job = self._mine(job_id, worker)
        if job is None:
            return False
        self.jobs[job_id] = dataclasses.replace(
            job, attempts=job.attempts + 1, failed_at=now, last_error=error[:1000]
        )
        return True

    async def purge(self, before: int) -> int:
        doomed = [
            k
            for k, j in self.jobs.items()
            if (j.sent_at is not None and j.sent_at < before)
            or (j.failed_at is not None and j.failed_at < before)
        ]
        for key in doomed:
            del self.jobs[key]
        return len(doomed)


class MemoryActionTokenStore:
    def __init__(self, jobs: MemoryJobStore, user_exists: Callable[[str], bool]) -> None:
        self._tokens: dict[str, ActionToken] = {}
        self._jobs = jobs
        self._user_exists = user_exists

    async def add(self, token: ActionToken, jobs: Sequence[Job] = ()) -> None:
        if not self._user_exists(token.sub):
            raise LookupError("action token: referenced row does not exist")
        if token.token_hash in self._tokens or any(j.job_id in self._jobs.jobs for j in jobs):
            raise DuplicateError("action token already exists")
        for key, old in self._tokens.items():
            if old.sub == token.sub and old.purpose == token.purpose and old.used_at is None:
                self._tokens[key] = dataclasses.replace(old, expires_at=token.created_at)
        self._tokens[token.token_hash] = token
        for job in jobs:
            self._jobs.jobs[job.job_id] = job

    async def get(self, token_hash: str) -> ActionToken | None:
        return self._tokens.get(token_hash)

    async def use(self, token_hash: str, purpose: str, now: int) -> ActionToken | None:
        token = self._tokens.get(token_hash)
        if (
            token is None
            or token.purpose != purpose
            or token.used_at is not None
            or token.expires_at <= now
        ):
            return None
        used = dataclasses.replace(token, used_at=now)
        self._tokens[token_hash] = used
        return used

    def delete_sub(self, sub: str, now: int) -> None:
        self._tokens = {k: t for k, t in self._tokens.items() if t.sub != sub}

    async def purge(self, before: int) -> int:
        doomed = [k for k, t in self._tokens.items() if t.expires_at < before]
        for key in doomed:
            del self._tokens[key]
        return len(doomed)
