"""The ``store`` fixture: every contract test runs once per Store implementation."""

from __future__ import annotations

import pathlib
from collections.abc import AsyncIterator

import pytest

from keystead.store.base import Store
from keystead.store.memory import MemoryStore
from keystead.store.sql import default_sqlite_url, migrate, open_store


@pytest.fixture
def sqlite_url(tmp_path: pathlib.Path) -> str:
    return default_sqlite_url(tmp_path / "data")


@pytest.fixture(params=["memory", "sqlite"])
async def store(
    request: pytest.FixtureRequest, sqlite_url: str, anyio_backend: str
) -> AsyncIterator[Store]:
    if request.param == "memory":
        memory = MemoryStore()
        yield memory
        await memory.close()
    else:
        await migrate(sqlite_url)
        sql = await open_store(sqlite_url)
        yield sql
        await sql.close()
