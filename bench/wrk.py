"""wrk runs: ``wrk -t1 -c16 -dS --latency -s bench/lua/bench.lua URL`` on the load core."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.servers import LOAD_CPUS, ROOT, pinned

SCRIPT = ROOT / "bench" / "lua" / "bench.lua"
THREADS = 1
CONNECTIONS = 16


class WrkMissing(RuntimeError):
    pass


def wrk_binary() -> str:
    wrk = shutil.which("wrk")
    if wrk is None:
        raise WrkMissing("wrk is missing: apt-get install wrk")
    return wrk


@dataclass(frozen=True)
class CodeFlow:
    """What the authorization-code mode of bench.lua needs."""

    authorize_path: str  # path and query of the authorization request
    cookie: str  # the SSO session
    redirect_uri: str
    verifier: str  # PKCE code_verifier of the request's code_challenge


@dataclass
class Measurement:
    """One load run: requests answered 200 per second, latency, failures."""

    requests: int
    ok: int
    seconds: float
    p50_ms: float
    p99_ms: float
    failures: int  # non-200 responses + socket errors
    detail: dict[str, Any]

    @property
    def rate(self) -> float:
        """Successful (200) requests per second."""
        return self.ok / self.seconds if self.seconds else 0.0

    def as_json(self) -> dict[str, Any]:
        return {
            "rate": round(self.rate, 1),
            "requests": self.requests,
            "ok": self.ok,
            "seconds": round(self.seconds, 3),
            "p50_ms": round(self.p50_ms, 3),
            "p99_ms": round(self.p99_ms, 3),
            "failures": self.failures,
            "detail": self.detail,
        }


def run(
    url: str,
    duration: float,
    *,
    method: str = "GET",
    body: str | None = None,
    authorization: str | None = None,
    refresh_tokens: Path | None = None,
    code_flow: CodeFlow | None = None,
    expect: str | None = None,
    connections: int = CONNECTIONS,
) -> Measurement:
    """``url`` is the endpoint (for code flows: the token endpoint). The rate counts 200s
    only; for code flows, completed flows (a 200 with an ID token from the token endpoint)."""
    env = {**os.environ, "BENCH_METHOD": method, "BENCH_THREADS": str(THREADS)}
    if body is not None:
        env["BENCH_BODY"] = body
    if authorization is not None:
        env["BENCH_AUTH"] = authorization
    if refresh_tokens is not None:
        env["BENCH_REFRESH"] = str(refresh_tokens)
    if expect is not None:
        env["BENCH_EXPECT"] = expect
    if code_flow is not None:
        env.update(
            BENCH_CODE=code_flow.authorize_path,
            BENCH_COOKIE=code_flow.cookie,
            BENCH_REDIRECT_URI=code_flow.redirect_uri,
            BENCH_VERIFIER=code_flow.verifier,
        )
    seconds = max(1, round(duration))
    argv = [
        wrk_binary(),
        f"-t{THREADS}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--latency",
        "--timeout",
        "10s",
        "-s",
        str(SCRIPT),
        url,
    ]
    proc = subprocess.run(  # noqa: S603
        pinned(LOAD_CPUS, argv),
        env=env,
        capture_output=True,
        text=True,
        timeout=seconds + 60,
        check=False,
    )
    line = next((x for x in proc.stdout.splitlines() if x.startswith("BENCH_JSON ")), None)
    if proc.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    data = json.loads(line.removeprefix("BENCH_JSON "))
    errors = data["errors"]
    socket_errors = errors["connect"] + errors["read"] + errors["write"] + errors["timeout"]
    if code_flow is not None:
        ok = data["flows"]
    else:
        ok = max(0, data["requests"] - data["non200"])  # a dry refresh queue shows as non-200
    latency = data["latency_us"]
    return Measurement(
        requests=data["requests"],
        ok=ok,
        seconds=data["duration_us"] / 1e6,
        p50_ms=latency["p50"] / 1000,
        p99_ms=latency["p99"] / 1000,
        failures=data["non200"] + socket_errors,
        detail=data,
    )
