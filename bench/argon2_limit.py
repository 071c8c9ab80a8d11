"""The argon2id limit of password logins: verifications per second on one core with keystead's
own password hasher (keystead.accounts.passwords: its parameters, its hasher thread), one
after the other, as the benchmarked server (one core) can at best run them.

    python -m bench.argon2_limit --seconds 5     # prints one JSON line

``bench.run`` runs it pinned to the servers' core (``limit``) and compares the password logins
measured in the same run with it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import time
from typing import Any

from bench import servers
from bench.servers import ROOT, SERVER_CPUS, pinned
from keystead.serving import serving_environ

PASSWORD = "bench-password-0123456789"  # noqa: S105 - a throw-away hash's password


async def _verifies(seconds: float) -> dict[str, Any]:
    from keystead.accounts import passwords

    hasher = passwords.PasswordHasher(limit=1)
    stored = await hasher.hash(PASSWORD)
    assert await hasher.verify(stored, PASSWORD)  # warm: the thread and its buffer exist
    done = 0
    start = time.perf_counter()
    deadline = start + seconds
    while time.perf_counter() < deadline:
        if not await hasher.verify(stored, PASSWORD):
            raise RuntimeError("argon2id verification failed")
        done += 1
    wall = time.perf_counter() - start
    return {
        "verifies_per_s": round(done / wall, 2),
        "verifies": done,
        "seconds": round(wall, 3),
        "ms_per_verify": round(1000 * wall / done, 2),
        "params": {
            "time_cost": passwords.TIME_COST,
            "memory_cost_kib": passwords.MEMORY_COST,
            "parallelism": passwords.PARALLELISM,
        },
    }


def limit(seconds: float, cpus: str | None = SERVER_CPUS) -> dict[str, Any]:
    """Measured in a subprocess pinned to ``cpus`` (the server's core)."""
    # keystead's hasher on the interpreter keystead runs on (bench.run --python).
    argv = [servers.PYTHON, "-m", "bench.argon2_limit", "--seconds", str(seconds)]
    # With the C allocator's settings `keystead serve` gives its serving process (argon2id's
    # buffer mapped per verification: keystead/serving.py), so the limit is like for like.
    env = serving_environ(os.environ)
    proc = subprocess.run(  # noqa: S603
        pinned(cpus, argv),
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=seconds + 60,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"bench.argon2_limit failed:\n{proc.stderr}")
    data: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    data["cpus"] = cpus
    data["glibc_tunables"] = env.get("GLIBC_TUNABLES")
    return data


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.argon2_limit")
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(_verifies(args.seconds))))


if __name__ == "__main__":
    main()
