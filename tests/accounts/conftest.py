"""Accounts unit-test fixtures: a Provider on MemoryStore with a fake clock (no signing keys)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from argon2 import PasswordHasher as Argon2Hasher

from keystead.accounts import passwords
from keystead.accounts.passwords import PasswordHasher
from keystead.config import Settings
from keystead.events import Event, Events
from keystead.jose.kek import KeyEncryptor
from keystead.provider import Provider
from keystead.store.base import User
from keystead.store.memory import MemoryStore

NOW = 1_700_000_000
PASSWORD = "correct horse battery staple"


class FakeClock:
    def __init__(self, now: int = NOW) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now

    def advance(self, seconds: int) -> None:
        self.now += seconds


@pytest.fixture(scope="session")
def password_hash() -> str:
    # argon2 takes tens of milliseconds: hash once, with keystead's parameters.
    return Argon2Hasher(
        time_cost=passwords.TIME_COST,
        memory_cost=passwords.MEMORY_COST,
        parallelism=passwords.PARALLELISM,
    ).hash(PASSWORD)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def events() -> list[Event]:
    return []


@pytest.fixture
def make_provider(tmp_path: Any, clock: FakeClock, events: list[Event]):
    def make(**settings: Any) -> Provider:
        return Provider(
            settings=Settings(
                issuer="https://id.example.com", data_dir=tmp_path, cache_ttl=0, **settings
            ),
            store=MemoryStore(),
            kek=KeyEncryptor(b"k" * 32),
            clock=clock,
            hasher=PasswordHasher(limit=2),
            events=Events([events.append]),
        )

    return make


@pytest.fixture
def provider(make_provider: Callable[..., Provider]) -> Provider:
    return make_provider()


@pytest.fixture
def add_user(password_hash: str) -> Callable[[Provider], Awaitable[User]]:
    async def add(provider: Provider) -> User:
        user = User(
            sub="u-5d1f0c7e",
            username="alice",
            password_hash=password_hash,
            created_at=NOW,
            updated_at=NOW,
        )
        await provider.store.users.add(user)
        return user

    return add
