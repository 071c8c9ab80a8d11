"""PostgreSQL's hot statements (store/sql/postgres.py ``AsyncDatabase.first``/``.rowcount``):
leased connections under more concurrent statements than leases, cancellation, errors."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import pytest

from keystead.store.base import AccessToken, Client, DuplicateError, Grant
from keystead.store.sql import migrate, open_store
from keystead.store.sql.postgres import HOT_CONNECTIONS, AsyncDatabase
from keystead.store.sql.store import SqlStore
from tests import postgres

pytestmark = pytest.mark.anyio


@pytest.fixture
def url() -> Iterator[str]:
    with postgres.temporary_database() as url:
        yield url


@pytest.fixture
async def store(url: str) -> AsyncIterator[SqlStore]:
    await migrate(url)
    store = await open_store(url)
    await store.clients.add(Client("c", "n", (), (), (), "openid", "none"))
    await store.grants.add_grant(Grant("g", "c", "s", "openid", 1, auth_time=1))
    for i in range(40):
        await store.grants.add_access_token(AccessToken(f"{i:064x}", "g", "c", "s", "x", 2**40, 1))
    yield store
    await store.close()


def _leases(store: SqlStore) -> tuple[int, int, int]:
    db = store.db
    assert isinstance(db, AsyncDatabase)
    return db._leased, len(db._idle), len(db._waiters)  # noqa: SLF001


async def test_more_concurrent_statements_than_leases_all_answer(store: SqlStore) -> None:
    reads = [store.grants.get_access_token_status(f"{i % 40:064x}") for i in range(200)]
    found = await asyncio.gather(*reads)
    assert all(status is not None and status.client_id == "c" for status in found)
    leased, idle, waiting = _leases(store)
    assert leased <= HOT_CONNECTIONS and idle == leased and waiting == 0


async def test_cancelled_statements_leave_no_lease_behind(store: SqlStore) -> None:
    tasks = [
        asyncio.ensure_future(store.grants.get_access_token_status(f"{i % 40:064x}"))
        for i in range(60)
    ]
    await asyncio.sleep(0)  # some are mid-statement, others wait for a lease
    for task in tasks[::3]:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    leased, idle, waiting = _leases(store)
    assert idle == leased and waiting == 0  # cancelled mid-statement: invalidated, not kept
    assert await store.grants.get_access_token_status(f"{1:064x}") is not None


async def test_a_taken_key_is_a_duplicate_and_the_connection_stays_usable(
    store: SqlStore,
) -> None:
    token = AccessToken(f"{1:064x}", "g", "c", "s", "x", 2**40, 1)
    with pytest.raises(DuplicateError):
        await store.grants.add_access_token(token)
    with pytest.raises(LookupError):  # a missing parent row: foreign key violation
        await store.grants.add_access_token(AccessToken("e" * 64, "nope", "c", "s", "x", 9, 1))
    assert await store.grants.get_access_token_status(f"{1:064x}") is not None
