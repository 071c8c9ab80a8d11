"""Fixtures of the federation tests: one stand-in upstream per session, reset per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.federation.standin import Upstream


@pytest.fixture(scope="session")
def _upstream_server() -> Iterator[Upstream]:
    server = Upstream().start()
    yield server
    server.stop()


@pytest.fixture
def upstream(_upstream_server: Upstream) -> Iterator[Upstream]:
    _upstream_server.reset()
    yield _upstream_server
    _upstream_server.reset()
