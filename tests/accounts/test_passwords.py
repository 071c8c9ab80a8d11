"""argon2id parameters, old hashes, rehash detection and the hasher's own threads
(accounts/passwords.py)."""

from __future__ import annotations

import os
import threading

import anyio
import pytest
from argon2 import PasswordHasher as Argon2Hasher

from keystead.accounts import passwords
from keystead.accounts.passwords import PasswordHasher, usable_cpus

pytestmark = pytest.mark.anyio

PASSWORD = "correct horse battery staple"
# What keystead stored before the switch to m=9216, t=4 (OWASP's first-listed alternative).
OLD = Argon2Hasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)


async def test_hashes_with_owasp_m9216_t4_p1() -> None:
    hasher = PasswordHasher(limit=1)
    password_hash = await hasher.hash(PASSWORD)
    assert password_hash.startswith("$argon2id$v=19$m=9216,t=4,p=1$")
    assert await hasher.verify(password_hash, PASSWORD) is True
    assert await hasher.verify(password_hash, "wrong") is False
    assert hasher.needs_rehash(password_hash) is False


async def test_hashes_with_the_old_parameters_still_verify_and_need_a_rehash() -> None:
    hasher = PasswordHasher(limit=1)
    old_hash = OLD.hash(PASSWORD)
    assert await hasher.verify(old_hash, PASSWORD) is True
    assert await hasher.verify(old_hash, "wrong") is False
    assert hasher.needs_rehash(old_hash) is True


@pytest.mark.parametrize("bad", ["", "not a hash", "$argon2id$new", "$2b$12$abcdefghijklmnop"])
async def test_a_malformed_hash_fails_and_needs_no_rehash(bad: str) -> None:
    hasher = PasswordHasher(limit=1)
    assert await hasher.verify(bad, PASSWORD) is False
    assert hasher.needs_rehash(bad) is False


async def test_dummy_verification_fails_and_hashes_once() -> None:
    hasher = PasswordHasher(limit=1)
    assert await hasher.verify_dummy(PASSWORD) is False
    first = hasher._dummy_hash
    assert await hasher.verify_dummy(PASSWORD) is False
    assert hasher._dummy_hash == first


def test_default_limit_is_the_usable_cpus() -> None:
    assert PasswordHasher().limit == usable_cpus()
    if hasattr(os, "sched_getaffinity"):
        assert usable_cpus() == len(os.sched_getaffinity(0))


async def test_hashing_runs_on_at_most_limit_long_lived_threads(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """glibc keeps argon2's buffer in the arena of each thread that hashed: the hasher must
    use the same few threads, never more than ``limit`` at once, and not the event loop's."""
    lock = threading.Lock()
    both = threading.Barrier(2)  # one thread alone cannot pass: proves two run at once
    names: set[str] = set()
    running = peak = 0

    def fake_verify(argon2: object, password_hash: str, password: str) -> bool:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
            names.add(threading.current_thread().name)
        both.wait(timeout=10)
        with lock:
            running -= 1
        return password == PASSWORD

    monkeypatch.setattr(passwords, "_verify", fake_verify)
    hasher = PasswordHasher(limit=2)
    results: list[bool] = []

    async def login() -> None:
        results.append(await hasher.verify("$argon2id$...", PASSWORD))

    for _ in range(3):  # bursts, as logins come: the same threads each time
        async with anyio.create_task_group() as tg:
            for _ in range(6):
                tg.start_soon(login)
    assert results == [True] * 18
    assert peak == 2
    assert len(names) == 2
    assert all(name.startswith("keystead-argon2") for name in names)


async def test_parameters_from_the_settings_and_a_rehash_towards_them() -> None:
    from keystead.bootstrap import open_provider  # noqa: F401 - the settings' path is bootstrap's
    from keystead.config import Settings

    settings = Settings(argon2_time_cost=3, argon2_memory_cost=12288, argon2_parallelism=1)
    hasher = PasswordHasher(
        limit=1,
        time_cost=settings.argon2_time_cost,
        memory_cost=settings.argon2_memory_cost,
        parallelism=settings.argon2_parallelism,
    )
    made = await hasher.hash(PASSWORD)
    assert made.startswith("$argon2id$v=19$m=12288,t=3,p=1$")
    default_made = await PasswordHasher(limit=1).hash(PASSWORD)
    assert await hasher.verify(default_made, PASSWORD)  # older parameters still verify
    assert hasher.needs_rehash(default_made) and not hasher.needs_rehash(made)
    with pytest.raises(ValueError):
        Settings(argon2_memory_cost=1024)  # below OWASP's smallest configuration
