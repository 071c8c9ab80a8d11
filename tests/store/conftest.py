"""The ``store`` fixture: every contract test runs once per Store implementation."""

from __future__ import annotations

import pathlib
from collections.abc import AsyncIterator

import pytest

from keystead.store.base import Store
from keystead.store.memory import MemoryStore
from keystead.store.sql import default_sqlite_url, migrate, open_store
from tests import postgres


@pytest.fixture
def sqlite_url(tmp_path: pathlib.Path) -> str:
    return default_sqlite_url(tmp_path / "data")


@pytest.fixture(params=["memory", "sqlite", "postgresql"])
async def store(
    request: pytest.FixtureRequest, tmp_path: pathlib.Path, anyio_backend: str
) -> AsyncIterator[Store]:
    if request.param == "memory":
        memory = MemoryStore()
        yield memory
        await memory.close()
        return
    if request.param == "sqlite":
        url = default_sqlite_url(tmp_path / "data")
        await migrate(url)
    else:
        # One database per session (see tests/conftest.py), emptied before every test.
        url = request.getfixturevalue("postgres_url")
        await postgres.truncate_all(url)
    sql = await open_store(url)
    yield sql
    await sql.close()
