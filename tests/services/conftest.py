"""Service tests run on the protocol tests' Provider: MemoryStore, fake clock, events kept."""

from __future__ import annotations

from tests.protocol.conftest import (  # noqa: F401 - fixtures
    clock,
    events,
    make_provider,
    provider,
    signing_keys,
)
