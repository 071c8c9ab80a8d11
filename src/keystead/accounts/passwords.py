"""Password hashing: argon2id with OWASP parameters, always off the event loop."""

from __future__ import annotations

import os
import secrets

import anyio
from argon2 import PasswordHasher as Argon2Hasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

# OWASP Password Storage Cheat Sheet: argon2id, m=19 MiB, t=2, p=1.
_ARGON2 = Argon2Hasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)


class PasswordHasher:
    """argon2id through a thread limiter sized to the CPU count, so hashing never blocks
    the event loop and a burst of logins cannot starve other requests of all threads."""

    def __init__(self, limit: int | None = None) -> None:
        self.limiter = anyio.CapacityLimiter(limit or os.cpu_count() or 1)
        self._dummy_hash: str | None = None

    async def hash(self, password: str) -> str:
        return await anyio.to_thread.run_sync(_ARGON2.hash, password, limiter=self.limiter)

    async def verify(self, password_hash: str, password: str) -> bool:
        return await anyio.to_thread.run_sync(
            _verify, password_hash, password, limiter=self.limiter
        )

    async def verify_dummy(self, password: str) -> bool:
        """Spend the same time as a real verification (unknown username), then fail."""
        if self._dummy_hash is None:
            self._dummy_hash = await self.hash(secrets.token_urlsafe(16))
        await self.verify(self._dummy_hash, password)
        return False


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _ARGON2.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
