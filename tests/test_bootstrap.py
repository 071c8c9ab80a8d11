"""Start-up work (migrations, first signing keys) runs once across processes: several
processes starting together on an empty database end up with exactly one key per alg."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from keystead.bootstrap import open_provider
from keystead.config import Settings
from keystead.jose.keys import SUPPORTED_ALGS
from keystead.store.sql import default_sqlite_url, open_store
from tests import postgres

pytestmark = pytest.mark.anyio

OPEN_IN_A_PROCESS = """
import asyncio, sys, time
from keystead.bootstrap import open_provider
from keystead.config import Settings
time.sleep(max(0.0, float(sys.argv[1]) - time.time()))
async def main():
    provider = await open_provider(Settings())
    await provider.close()
asyncio.run(main())
"""


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield default_sqlite_url(tmp_path / "data")
    else:
        with postgres.temporary_database() as url:
            yield url


async def test_parallel_start_creates_one_key_per_alg(database_url: str, tmp_path: Path) -> None:
    env = {
        **os.environ,
        "KEYSTEAD_DATA_DIR": str(tmp_path / "data"),
        "KEYSTEAD_DATABASE_URL": database_url,
    }
    start_at = time.time() + 2.0  # after every interpreter has started and imported keystead
    processes = [
        subprocess.Popen(  # noqa: ASYNC220
            [sys.executable, "-c", OPEN_IN_A_PROCESS, str(start_at)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    outcomes = [await asyncio.to_thread(p.communicate, timeout=60) for p in processes]
    for process, (_, stderr) in zip(processes, outcomes, strict=True):
        assert process.returncode == 0, stderr

    store = await open_store(database_url)
    try:
        keys = await store.keys.list()
    finally:
        await store.close()
    assert sorted(k.alg for k in keys) == sorted(SUPPORTED_ALGS)


async def test_password_threads_setting_sizes_the_hasher(tmp_path: Path) -> None:
    from keystead.accounts.passwords import usable_cpus

    provider = await open_provider(Settings(data_dir=tmp_path, password_threads=3))
    try:
        assert provider.hasher.limit == 3
    finally:
        await provider.close()
    provider = await open_provider(Settings(data_dir=tmp_path))
    try:
        assert provider.hasher.limit == usable_cpus()
    finally:
        await provider.close()
