from collections.abc import Iterator

import pytest

from tests import postgres


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """One throw-away PostgreSQL database for the whole session, migrated to head.

    Fails (never skips) when PostgreSQL is unreachable. Tests empty it as they need
    (``postgres.truncate_all``)."""
    from keystead.store.sql import migrate

    with postgres.temporary_database() as url:
        postgres.run_sync(migrate(url))
        yield url
