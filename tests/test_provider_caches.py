"""The provider's caches: when one expires, the requests that find it expired together share
one reload (a listing runs on the database thread; one per waiting request stalled the loop),
and an invalidation during a reload is not answered with the older load."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from keystead.config import Settings
from keystead.jose.kek import KeyEncryptor
from keystead.provider import Provider
from keystead.store.base import Api
from keystead.store.memory import MemoryStore

pytestmark = pytest.mark.anyio


class SlowApis:
    """The API store of a MemoryStore whose listing takes a while and is counted."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.listings = 0
        self.gate = asyncio.Event()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def list(self) -> list[Api]:
        self.listings += 1
        await self.gate.wait()
        return list(await self.inner.list())


def provider(tmp_path: Path) -> tuple[Provider, SlowApis]:
    store = MemoryStore()
    slow = SlowApis(store.apis)
    store.apis = slow  # type: ignore[assignment]
    settings = Settings(issuer="https://id.example.com", data_dir=tmp_path, cache_ttl=3600)
    return Provider(settings=settings, store=store, kek=KeyEncryptor(b"k" * 32)), slow


async def test_concurrent_callers_share_one_reload(tmp_path: Path) -> None:
    p, slow = provider(tmp_path)
    callers = [asyncio.create_task(p.apis()) for _ in range(16)]
    await asyncio.sleep(0.01)
    assert slow.listings == 1  # not 16
    slow.gate.set()
    indexes = await asyncio.gather(*callers)
    assert all(index is indexes[0] for index in indexes)
    await p.apis()  # cached now
    assert slow.listings == 1


async def test_a_cancelled_caller_leaves_the_reload_to_the_others(tmp_path: Path) -> None:
    p, slow = provider(tmp_path)
    first = asyncio.create_task(p.apis())
    second = asyncio.create_task(p.apis())
    await asyncio.sleep(0.01)
    first.cancel()
    slow.gate.set()
    assert (await second).by_id == {}
    assert slow.listings == 1


async def test_an_invalidation_during_a_reload_starts_a_fresh_one(tmp_path: Path) -> None:
    p, slow = provider(tmp_path)
    early = asyncio.create_task(p.apis())
    await asyncio.sleep(0.01)
    p.forget_apis()  # an API was written meanwhile
    late = asyncio.create_task(p.apis())
    await asyncio.sleep(0.01)
    assert slow.listings == 2  # the late caller does not join the older load
    slow.gate.set()
    await asyncio.gather(early, late)


async def test_a_load_older_than_an_invalidation_is_not_kept(tmp_path: Path) -> None:
    store = MemoryStore()
    gates = [asyncio.Event(), asyncio.Event()]
    listings = 0
    inner_list = store.apis.list

    async def gated_list() -> list[Api]:
        nonlocal listings
        gate = gates[listings]
        listings += 1
        await gate.wait()
        return list(await inner_list())

    store.apis.list = gated_list  # type: ignore[method-assign]
    settings = Settings(issuer="https://id.example.com", data_dir=tmp_path, cache_ttl=3600)
    p = Provider(settings=settings, store=store, kek=KeyEncryptor(b"k" * 32))
    early = asyncio.create_task(p.apis())
    await asyncio.sleep(0.01)
    p.forget_apis()  # an API was written while the first listing ran
    late = asyncio.create_task(p.apis())
    await asyncio.sleep(0.01)
    gates[0].set()
    await early  # the older load settles first: its caller gets it, the cache does not
    joiner = asyncio.create_task(p.apis())
    await asyncio.sleep(0.01)
    assert listings == 2  # the joiner shares the newer load instead of using the older one
    assert not joiner.done()
    gates[1].set()
    assert (await late) is (await joiner)
