"""Fixtures of the grant tests (the protocol fixtures are in tests/protocol/conftest.py)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

GRANT_WRITES = (
    "add_grant",
    "revoke_grant",
    "add_code",
    "consume_code",
    "add_access_token",
    "revoke_access_token",
    "add_refresh_token",
    "rotate_refresh_token",
    "clear_successors",
    "purge_expired",
)


@pytest.fixture
def writes(provider: Any, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the grant store's write calls, in order: a token response is one write."""
    calls: list[str] = []
    grants = provider.store.grants

    def counted(name: str) -> Callable[..., Awaitable[Any]]:
        method = getattr(grants, name)

        async def call(*args: Any, **kwargs: Any) -> Any:
            calls.append(name)
            return await method(*args, **kwargs)

        return call

    for name in GRANT_WRITES:
        monkeypatch.setattr(grants, name, counted(name))
    return calls
