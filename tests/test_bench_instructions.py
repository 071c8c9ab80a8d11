"""bench/instructions.py: its in-process requests work (every CI run), and the callgrind
count itself on request (``pytest -m slow``: valgrind, about a minute per metric)."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
from pathlib import Path

import pytest
from bench import instructions

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("metric", instructions.METRICS)
async def test_each_metric_makes_good_requests(
    metric: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KEYSTEAD_DATA_DIR", str(tmp_path))
    async with contextlib.AsyncExitStack() as stack:
        call = await instructions.start(metric, stack, warm_up=2)
        for _ in range(3):  # the refresh token rotates, each flow needs a new code
            answer = await call()
            assert answer["status"] == 200, answer
            body = json.loads(answer["body"])
            assert body.get("active") is True or "access_token" in body


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_the_count_is_per_request(request: pytest.FixtureRequest) -> None:
    if "slow" not in (request.config.getoption("-m") or ""):
        pytest.skip("callgrind runs on request: pytest -m slow tests/test_bench_instructions.py")
    argv = [sys.executable, "-m", "bench.instructions", "introspection", "--requests", "20", "60"]
    proc = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, check=False)  # noqa: S603
    assert proc.returncode == 0, proc.stderr
    per_request = int(proc.stdout.split(": ")[1].split()[0].replace(",", ""))
    assert 50_000 < per_request < 5_000_000, proc.stdout
