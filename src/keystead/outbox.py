"""The one sender loop for everything that leaves keystead later (ARCHITECTURE.md, "one
durable outbox"): mail now, back-channel logout tokens and CIBA pings next — one handler per
job kind.

Jobs are written by the stores in the same transaction as their cause (store/outbox.py). Each
instance runs a ``Sender``: it claims due jobs for ``LEASE`` seconds (no other instance takes
them meanwhile), delivers each, and records the outcome: sent; retried later with exponential
backoff; or given up after a permanent error or ``MAX_ATTEMPTS`` — an event either way. A job
whose sender died mid-delivery is claimed again when its lease runs out, so a crash loses
nothing; that job may then be delivered twice (at least once is what any outbox can promise
for a remote side that cannot deduplicate; the lease makes it rare).
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

from keystead.secrets_util import random_token
from keystead.store.outbox import Job

if TYPE_CHECKING:
    from keystead.provider import Provider

log = logging.getLogger("keystead.outbox")

LEASE = 120  # seconds a claimed job is the claimer's; longer than any one delivery
MAX_ATTEMPTS = 12  # about a day and a half of retries with the backoff below
BATCH = 20
POLL = 2.0  # seconds between looks at the table when idle (sooner when woken)
_AAD = b"keystead job payload|"


class DeliveryError(Exception):
    """A delivery that failed: ``permanent`` ones are not retried (a refused recipient)."""

    def __init__(self, reason: str, *, permanent: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent


Deliver = Callable[["Provider", dict[str, Any]], Awaitable[None]]


def new_job(provider: Provider, kind: str, payload: dict[str, Any]) -> Job:
    """A job due now, its payload encrypted (bound to the job id)."""
    job_id = random_token(16)
    data = json.dumps(payload, separators=(",", ":")).encode()
    now = provider.now()
    sealed = provider.kek.encrypt(data, _AAD + job_id.encode())
    return Job(job_id, kind, sealed, created_at=now, next_attempt_at=now)


def payload_of(provider: Provider, job: Job) -> dict[str, Any]:
    data = provider.kek.decrypt(job.payload_enc, _AAD + job.job_id.encode())
    payload: dict[str, Any] = json.loads(data)
    return payload


def backoff(attempts: int, first: int = 30) -> int:
    """Seconds before attempt ``attempts + 1``: ``first`` doubling to an hour, ±10 % jitter."""
    base = min(first * 2 ** min(attempts, 20), 3600)
    return max(1, round(base * random.uniform(0.9, 1.1)))  # noqa: S311 - spreading, not secrecy


class Sender:
    def __init__(
        self, provider: Provider, handlers: Mapping[str, Deliver], worker: str | None = None
    ) -> None:
        self.provider = provider
        self.handlers = dict(handlers)
        self.worker = worker or random_token(8)
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """A job was just written here: look now instead of at the next poll."""
        self._wake.set()

    async def run_once(self, limit: int = BATCH) -> int:
        """Claim and deliver the due jobs; how many were claimed."""
        provider = self.provider
        jobs = await provider.store.jobs.claim(self.worker, provider.now(), LEASE, limit)
        for job in jobs:
            await self._deliver(job)
        return len(jobs)

    async def run(self) -> None:
        while True:
            try:
                if await self.run_once():
                    continue
            except Exception:  # noqa: BLE001 - the loop must not stop (a database blip)
                log.exception("the outbox sender failed; trying again")
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), POLL)
            except TimeoutError:
                pass

    async def _deliver(self, job: Job) -> None:
        provider, jobs = self.provider, self.provider.store.jobs
        try:
            handler = self.handlers.get(job.kind)
            if handler is None:
                raise DeliveryError(f"no handler for jobs of kind {job.kind!r}", permanent=True)
            await handler(provider, payload_of(provider, job))
        except DeliveryError as exc:
            await self._failed(job, exc.reason, permanent=exc.permanent)
        except Exception as exc:  # noqa: BLE001 - a handler's bug is retried, and logged
            log.exception("delivering job %s (%s) failed", job.job_id, job.kind)
            await self._failed(job, f"{type(exc).__name__}: {exc}", permanent=False)
        else:
            await jobs.sent(job.job_id, self.worker, provider.now())
            provider.events.emit("outbox.sent", job_id=job.job_id, kind=job.kind)

    async def _failed(self, job: Job, reason: str, *, permanent: bool) -> None:
        provider, jobs = self.provider, self.provider.store.jobs
        now = provider.now()
        if permanent or job.attempts + 1 >= MAX_ATTEMPTS:
            await jobs.give_up(job.job_id, self.worker, now, reason)
            provider.events.emit(
                "outbox.failed", job_id=job.job_id, kind=job.kind, reason=reason[:300]
            )
            return
        delay = backoff(job.attempts, provider.settings.outbox_retry_base)
        await jobs.retry(job.job_id, self.worker, now + delay, reason)
        provider.events.emit(
            "outbox.retried", job_id=job.job_id, kind=job.kind, attempts=job.attempts + 1
        )
