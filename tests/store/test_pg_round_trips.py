"""Round trips to PostgreSQL per hot operation, counted on the wire (tests/pgproxy.py).

Issue 19: on PostgreSQL the time of a token operation is its round trips (each costs the
driver, SQLAlchemy and a wake-up of the event loop, besides the database's own work). These
figures are docs/performance.md's "Round trips"; a change that adds one fails here, not in
a benchmark. A change that removes one updates ``ROUND_TRIPS`` (and the docs).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from bench import instructions

from tests import postgres
from tests.pgproxy import counting

pytestmark = pytest.mark.anyio

# Per operation, as served by the app (code_flow: /authorize with an SSO session, then /token).
ROUND_TRIPS = {
    "client_credentials": 0,  # a JWT access token: nothing stored
    "introspection": 1,  # the token with its grant's state, one SELECT in autocommit
    "refresh_token": 2,  # the token with its grant; the rotation and what it issues, one statement
    "code_flow": 4,  # session; grant + code, one statement; the code; its consumption + tokens
}


@pytest.fixture
def database() -> Iterator[str]:
    with postgres.temporary_database() as url:
        yield url


@pytest.mark.parametrize("metric", sorted(ROUND_TRIPS))
async def test_round_trips_per_operation(
    metric: str, database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with contextlib.AsyncExitStack() as stack:
        url, proxy = await stack.enter_async_context(counting(database))
        monkeypatch.setenv("KEYSTEAD_DATA_DIR", str(tmp_path))
        monkeypatch.setenv("KEYSTEAD_DATABASE_URL", url)
        call = await instructions.start(metric, stack, warm_up=5)  # statements prepared
        counts = []
        for _ in range(5):
            before = proxy.count
            answer = await call()
            assert answer["status"] == 200, answer
            counts.append(proxy.count - before)
    expected = ROUND_TRIPS[metric]
    assert max(counts) <= expected, (
        f"{metric}: {max(counts)} round trips to PostgreSQL, {expected} expected: a change "
        "added a round trip to a hot operation (see docs/performance.md, 'Round trips')"
    )
    assert min(counts) == expected, (
        f"{metric}: {min(counts)} round trips, fewer than the {expected} recorded: lower "
        "ROUND_TRIPS here and the figure in docs/performance.md"
    )
