"""Password hashing: argon2id with OWASP parameters, on a few dedicated threads.

Parameters: OWASP Password Storage Cheat Sheet, "Argon2id" — "Use one of the following
minimum configurations":

    m=47104 (46 MiB), t=1, p=1
    m=19456 (19 MiB), t=2, p=1
    m=12288 (12 MiB), t=3, p=1
    m=9216 (9 MiB), t=4, p=1
    m=7168 (7 MiB), t=5, p=1

"These configuration settings provide an equal level of defense, and the only difference is a
trade off between CPU and RAM usage."
(https://cheatsheetseries.owasp.org/cheatsheets/Password_Storage_Cheat_Sheet.html#argon2id)

keystead uses m=9216, t=4, p=1: measured here, a verification costs ~26 ms of CPU against
~34 ms for m=19456, t=2 (the previous setting), and it needs half the memory per hash.
Hashes made with other parameters still verify (a PHC string carries its own parameters);
``needs_rehash`` tells the login to store a new hash with the current ones.

Threads: a hash runs on one of ``limit`` long-lived threads of the hasher's own pool (not
anyio's pool, whose threads come and go), so at most ``limit`` x 9 MiB are in use while
``limit`` hashes run. Left to its defaults, glibc keeps argon2's freed buffer in the malloc
arena of the thread that used it (9 MiB resident per thread that ever hashed); the serving
process started by ``keystead serve`` sets glibc's allocator so each buffer is mapped on
huge pages for its hash and returned after it (keystead/serving.py, ``allocator_tunables``).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import secrets

from argon2 import PasswordHasher as Argon2Hasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

TIME_COST = 4
MEMORY_COST = 9216  # KiB
PARALLELISM = 1
_ARGON2 = Argon2Hasher(time_cost=TIME_COST, memory_cost=MEMORY_COST, parallelism=PARALLELISM)


def usable_cpus() -> int:
    """The CPUs this process may run on (``taskset``, cpusets), not all the machine's."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):  # not Linux
        return os.cpu_count() or 1


class PasswordHasher:
    """argon2id on at most ``limit`` threads (default: the usable CPUs), so hashing never
    blocks the event loop, a burst of logins queues instead of taking every thread, and the
    memory argon2 keeps per thread is bounded."""

    def __init__(
        self,
        limit: int | None = None,
        *,
        time_cost: int = TIME_COST,
        memory_cost: int = MEMORY_COST,
        parallelism: int = PARALLELISM,
    ) -> None:
        """The argon2id parameters come from the settings (``KEYSTEAD_ARGON2_*``); a hash
        made with others verifies, and ``needs_rehash`` says to replace it."""
        self.limit = limit or usable_cpus()
        self._argon2 = (
            _ARGON2
            if (time_cost, memory_cost, parallelism) == (TIME_COST, MEMORY_COST, PARALLELISM)
            else Argon2Hasher(time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism)
        )
        # Threads start on the first hash and stay (they end with the hasher).
        self._pool = concurrent.futures.ThreadPoolExecutor(
            self.limit, thread_name_prefix="keystead-argon2"
        )
        self._dummy_hash: str | None = None

    async def hash(self, password: str) -> str:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, self._argon2.hash, password)

    async def verify(self, password_hash: str, password: str) -> bool:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            self._pool, _verify, self._argon2, password_hash, password
        )

    async def verify_dummy(self, password: str) -> bool:
        """Spend the same time as a real verification (unknown username), then fail."""
        if self._dummy_hash is None:
            self._dummy_hash = await self.hash(secrets.token_urlsafe(16))
        await self.verify(self._dummy_hash, password)
        return False

    def needs_rehash(self, password_hash: str) -> bool:
        """True if the hash was made with other parameters than the current ones: after a
        successful verification, hash the password again and store the new hash."""
        try:
            return self._argon2.check_needs_rehash(password_hash)
        except InvalidHashError:
            return False  # not an argon2 hash: it cannot have verified either


def _verify(argon2: Argon2Hasher, password_hash: str, password: str) -> bool:
    try:
        return argon2.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
