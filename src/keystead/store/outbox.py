"""The durable outbox (everything that leaves keystead later: mail now; back-channel logout
tokens and CIBA pings next) and the single-use action tokens whose mail it carries (password
reset, email verification, invitations).

A job is written in the same transaction as the action that causes it (``ActionTokenStore.
add`` writes the token and its mail together), so a crash loses neither; a sender claims due
jobs for a lease (outbox.py), so several instances never work on one job at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

MAIL = "mail"


@dataclass(frozen=True, slots=True)
class Job:
    job_id: str
    kind: str  # MAIL ...
    # The job's JSON payload encrypted under the key-encryption key: a mail holds a
    # single-use link, which must not sit in the database in clear.
    payload_enc: str
    created_at: int
    next_attempt_at: int
    attempts: int = 0
    claimed_by: str | None = None
    claimed_until: int | None = None
    sent_at: int | None = None
    failed_at: int | None = None  # given up: permanent error or too many attempts
    last_error: str | None = None


class JobStore(Protocol):
    async def add(self, job: Job) -> None: ...

    async def claim(self, worker: str, now: int, lease: int, limit: int) -> list[Job]:
        """Up to ``limit`` due jobs (not sent, not given up, ``next_attempt_at <= now``, not
        claimed or their lease over), now claimed by ``worker`` until ``now + lease`` —
        atomically: concurrent claimers never get the same job."""
        ...

    async def sent(self, job_id: str, worker: str, now: int) -> bool: ...

    async def retry(self, job_id: str, worker: str, next_attempt_at: int, error: str) -> bool:
        """Count the attempt and release the claim until ``next_attempt_at``."""
        ...

    async def give_up(self, job_id: str, worker: str, now: int, error: str) -> bool: ...
    async def get(self, job_id: str) -> Job | None: ...
    async def recent(self, limit: int) -> list[Job]: ...  # newest first (for operators)
    async def purge(self, before: int) -> int: ...  # sent or given up before ``before``


@dataclass(frozen=True, slots=True)
class ActionToken:
    """A single-use link's token, stored as its SHA-256 only."""

    token_hash: str
    purpose: str  # "reset" | "verify_email" | "invite"
    sub: str
    created_at: int
    expires_at: int
    email: str | None = None  # verify_email: the address being verified
    used_at: int | None = None
    data: dict[str, Any] = field(default_factory=dict)  # e.g. the sign-in to continue


class ActionTokenStore(Protocol):
    async def add(self, token: ActionToken, jobs: Sequence[Job] = ()) -> None:
        """The token and the jobs that carry it (its mail), in one transaction; earlier
        unused tokens of the same user and purpose stop working (only the newest link
        counts). LookupError: no such user."""
        ...

    async def get(self, token_hash: str) -> ActionToken | None: ...

    async def use(self, token_hash: str, purpose: str, now: int) -> ActionToken | None:
        """Mark the token used, only if it has this purpose, is unused and unexpired: the
        token for the one caller that did; None otherwise (across processes)."""
        ...

    async def purge(self, before: int) -> int: ...  # expired before ``before``
