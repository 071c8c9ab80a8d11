"""The benchmark harness (bench/, docs/performance.md): its few-second smoke runs everywhere;
the full keystead vs node-oidc-provider run only on request (``pytest -m slow``)."""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from keystead.serving import allocator_tunables

ROOT = Path(__file__).resolve().parent.parent


def bench(*args: str, timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bench.run", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def need_wrk() -> None:
    if shutil.which("wrk") is None:
        pytest.fail("wrk is missing: apt-get install wrk (the benchmark's load generator)")


@pytest.mark.timeout(45)  # ~15 s: keystead's start-up, then ~1 s of wrk per metric
def test_bench_smoke(tmp_path: Path) -> None:
    need_wrk()
    out = tmp_path / "smoke.json"
    proc = bench("--smoke", "--output", str(out), timeout=40)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data: dict[str, Any] = json.loads(out.read_text())
    rows = {row["metric"]: row for row in data["rows"]}
    assert set(rows) == {"client_credentials tokens/s", "JWKS/s"}
    for row in rows.values():
        assert row["keystead"] > 0 and row["pass"] is True, row
    for metric, run in data["raw"]["keystead"].items():
        # every response was a 200 (bench.lua's response hook) and no socket failed
        assert run["detail"]["non200"] == 0 and run["failures"] == 0, (metric, run)
        assert run["ok"] == run["requests"] > 0, (metric, run)
    # the interpreter keystead ran on is recorded (--python; by default the bench's own)
    ran_on = data["environment"]["keystead_python"]
    assert ran_on["path"] == sys.executable
    assert ran_on["version"].split()[0] == platform.python_version()
    # ... and the C allocator's settings its serving process got (keystead/serving.py)
    expected = os.environ.get("GLIBC_TUNABLES") or allocator_tunables(os.environ)
    assert data["environment"]["keystead_glibc_tunables"] == expected


@pytest.mark.timeout(30)
def test_bench_python_must_import_keystead(tmp_path: Path) -> None:
    """--python names a venv's interpreter; one without keystead (or no interpreter at all)
    is refused before any server starts, with the command that makes a venv."""
    bare = tmp_path / "python"
    bare.write_text("#!/bin/sh\necho 'No module named keystead' >&2\nexit 1\n")
    bare.chmod(0o755)
    proc = bench("--smoke", "--python", str(bare), timeout=25)
    assert proc.returncode != 0
    assert "cannot import keystead" in proc.stderr and "VENV=.venv-opt" in proc.stderr
    assert "No module named keystead" in proc.stderr
    proc = bench("--smoke", "--python", str(tmp_path / "missing"), timeout=25)
    assert proc.returncode != 0 and "--python" in proc.stderr


@pytest.mark.timeout(30)
def test_bench_redis_keeps_default_persistence(tmp_path: Path) -> None:
    """The bench's own redis-server (NOP+Redis's store): Redis's default RDB snapshots, its
    file in the work dir, on loopback; stopped at the end."""
    if shutil.which("redis-server") is None:
        pytest.fail("redis-server is missing: apt-get install redis-server (NOP+Redis)")
    import redis
    from bench.servers import RedisServer

    server = RedisServer(tmp_path)
    server.start()
    try:
        client = redis.Redis.from_url(server.url)
        assert client.config_get("save") == {"save": "3600 1 300 100 60 10000"}
        assert client.config_get("appendonly") == {"appendonly": "no"}
        assert client.config_get("dir") == {"dir": str(tmp_path / "redis")}
        assert client.config_get("bind") == {"bind": "127.0.0.1"}
        client.set("k", "v")
        client.close()
    finally:
        server.stop()
    assert server.proc is None and not server.ping()
    assert (tmp_path / "redis" / "dump.rdb").exists()  # the shutdown's snapshot


def _slow_requested(config: pytest.Config) -> bool:
    return "slow" in (config.getoption("-m") or "") or bool(os.environ.get("KEYSTEAD_BENCH"))


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_bench_full(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """Every metric against both servers (needs node and npm for node-oidc-provider). Not in
    CI: ``pytest -m slow tests/test_bench_smoke.py`` or KEYSTEAD_BENCH=1."""
    if not _slow_requested(request.config):
        pytest.skip("the full benchmark runs on request: pytest -m slow tests/test_bench_smoke.py")
    need_wrk()
    out = tmp_path / "full.json"
    proc = bench("--duration", "3", "--warmup", "1", "--output", str(out), timeout=1700)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    data: dict[str, Any] = json.loads(out.read_text())
    for row in data["rows"]:
        assert row["keystead"] is not None and row["keystead"] > 0, row
        assert "failed requests" not in row["note"], row  # the harness worked; targets may not
    for server in ("keystead", "nop", "nop_redis"):
        for metric, run in data["raw"][server].items():
            assert run["failures"] == 0 and run["ok"] > 0, (server, metric, run)
