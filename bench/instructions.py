"""Instructions per request: the keystead app called in-process, counted by callgrind.

    python -m bench.instructions introspection [--requests 200 600] [--src DIR]
    python -m bench.instructions --check [METRIC...]       # against bench/baseline/
    python -m bench.instructions --update-baseline --reason TEXT [METRIC...]

A server run on a VM whose speed drifts by ±10-20 % within minutes cannot show a change of a
few per cent; the number of instructions a request executes can, and it is the same from one
run to the next whatever else the machine does. This runs the app (``build_app``, its
lifespan, a provisioned bench client and the default log configuration, lines thrown away)
under ``valgrind --tool=callgrind``, warms it up, then runs two loops of requests (200 and
600) and prints the difference divided by the difference in requests: what one more request
costs, start-up and warm-up left out. Only the measured loops are counted
(``--collect-atstart=no``, collection switched on inside ``sys.call_tracing``, which wraps a
loop and nothing else; ``--dump-after`` gives each loop its own count). Nothing driven by the
clock runs inside a loop (under valgrind a second is a few requests): no housekeeping tick,
no cache reload, no timed log flush (``child``).

What it does not see: the kernel (system calls: ``strace -c``), uvicorn's HTTP handling (the
app is called as ASGI), waiting, and how fast each instruction runs. ``--src`` measures
another checkout's ``src`` (``git worktree add /tmp/a HEAD~1`` then ``--src /tmp/a/src``).
Needs valgrind (a Debian package). Metrics: client_credentials, introspection,
refresh_token, code_flow. The regression guard (``--check``; docs/performance.md, "The
regression guard") fails when one grew by more than ``LIMIT`` % over the committed baseline.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import dataclasses
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

METRICS = ("client_credentials", "introspection", "refresh_token", "code_flow")
ROOT = Path(__file__).resolve().parent.parent
Call = Callable[[], Awaitable[dict[str, Any]]]


async def _asgi(
    app: Any, method: str, path: str, body: bytes, headers: list[tuple[bytes, bytes]], query: bytes
) -> dict[str, Any]:
    """One request to the ASGI app: its status, headers and body."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query,
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }
    sent = False
    out: dict[str, Any] = {"body": b""}

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:  # nothing more: the app should not ask
            await asyncio.Event().wait()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            out["status"], out["headers"] = message["status"], dict(message["headers"])
        else:
            out["body"] += message.get("body", b"")

    await app(scope, receive, send)
    return out


async def _requests(app: Any, metric: str, creds: dict[str, str]) -> Call:
    """A function making one request (or, for code_flow, one flow) of ``metric``."""
    from bench.flows import FLOW_SCOPE, OFFLINE_SCOPE, authorize_url, token_body
    from bench.run import CC_BODY, OPAQUE_BODY
    from bench.servers import API, Credentials
    from keystead.accounts.sessions import create_session
    from keystead.protocol import refresh
    from keystead.secrets_util import random_token
    from keystead.store.base import Grant

    raw = f"{creds['client_id']}:{creds['client_secret']}".encode()
    form = [
        (b"content-type", b"application/x-www-form-urlencoded"),
        (b"authorization", b"Basic " + base64.b64encode(raw)),
    ]
    provider = app.state.provider

    async def post(path: str, body: bytes) -> dict[str, Any]:
        return await _asgi(app, "POST", path, body, form, b"")

    if metric == "client_credentials":
        return lambda: post("/token", CC_BODY.encode())
    if metric == "introspection":
        token = json.loads((await post("/token", OPAQUE_BODY.encode()))["body"])["access_token"]
        return lambda: post("/introspect", b"token=" + token.encode())
    user = await provider.store.users.get_by_username(creds["username"])
    assert user is not None
    if metric == "refresh_token":
        now = provider.now()
        grant = Grant(
            random_token(16),
            creds["client_id"],
            user.sub,
            OFFLINE_SCOPE,
            now,
            auth_time=now,
            resources=(API,),
            expires_at=now + 30 * 86400,
        )
        await provider.store.grants.add_grant(grant)
        value, first = refresh.new_token(provider, grant, grant.scope, now)
        await provider.store.grants.add_refresh_token(first)
        live = [value]

        async def rotate() -> dict[str, Any]:
            body = b"grant_type=refresh_token&refresh_token=" + live[0].encode()
            answer = await post("/token", body)
            live[0] = json.loads(answer["body"])["refresh_token"]
            return answer

        return rotate
    # code_flow: /authorize with the SSO session's cookie, then /token with the code
    cookie, _ = await create_session(provider, user)
    server = type("Issuer", (), {"issuer": ""})()
    bench_creds = Credentials(creds["client_id"], creds["client_secret"], "", "")
    query = urlsplit(authorize_url(server, bench_creds, FLOW_SCOPE)).query.encode()
    browser = [(b"cookie", b"keystead_session=" + cookie.encode())]

    async def flow() -> dict[str, Any]:
        redirect = await _asgi(app, "GET", "/authorize", b"", browser, query)
        location = redirect["headers"][b"location"].decode()
        code = parse_qs(urlsplit(location).query)["code"][0]
        return await post("/token", token_body(code))

    return flow


async def start(metric: str, stack: contextlib.AsyncExitStack, warm_up: int = 300) -> Call:
    """The app on a provisioned data dir (``KEYSTEAD_*``), its lifespan entered on ``stack``,
    warmed up (caches filled, statements prepared): the function making one request."""
    app = await _open_app(stack, user=metric in ("refresh_token", "code_flow"))
    return await _warm(app, metric, warm_up)


async def _open_app(stack: contextlib.AsyncExitStack, *, user: bool) -> Any:
    from bench.provision import provision
    from keystead.app import build_app
    from keystead.config import load_settings

    creds = await provision(user=user, opaque_api=True)
    app = build_app(load_settings())
    app.state.bench_creds = creds
    await stack.enter_async_context(app.router.lifespan_context(app))
    return app


async def _warm(app: Any, metric: str, warm_up: int) -> Call:
    call = await _requests(app, metric, app.state.bench_creds)
    for _ in range(warm_up):
        answer = await call()
        assert answer["status"] == 200, answer
    return call


async def _stop_housekeeping() -> None:
    """Cancel the lifespan's timed tasks — housekeeping (once a second) and the outbox's
    sender (a look every 2 s): under valgrind a second is a few requests, and how many ticks
    fell inside the measured loop would depend on the machine's speed."""
    from keystead import app, outbox

    codes = (app._housekeeping.__code__, outbox.Sender.run.__code__)  # noqa: SLF001
    tasks = [t for t in asyncio.all_tasks() if getattr(t.get_coro(), "cr_code", None) in codes]
    if len(tasks) != 2:
        raise SystemExit(f"expected housekeeping and the outbox sender, found {len(tasks)}")
    for task in tasks:
        task.cancel()
    await asyncio.wait(tasks)


def child(metrics: list[str], loops: list[int]) -> None:
    """Inside valgrind: set up, then for each metric a warm-up and each measured loop inside
    its own sys.call_tracing (its count dumped when it returns: ``--dump-after``)."""
    import gc
    import logging.config

    import uvloop

    from keystead.logs import BatchingStreamHandler, lean_records, log_config

    # Lines written 256 at a time, as under load, not every 0.5 s of valgrind's slow clock.
    BatchingStreamHandler.FLUSH_INTERVAL = 86400.0
    logging.config.dictConfig(log_config("text", "info"))  # the server's logging, lines lost
    lean_records()
    sys.stderr = open(os.devnull, "w")  # noqa: SIM115 - for the life of the process
    loop = uvloop.new_event_loop()
    asyncio.set_event_loop(loop)
    stack = contextlib.AsyncExitStack()
    user = bool({"refresh_token", "code_flow"} & set(metrics))
    app = loop.run_until_complete(_open_app(stack, user=user))
    loop.run_until_complete(_stop_housekeeping())
    provider = app.state.provider

    async def measured(call: Call, requests: int) -> None:
        for _ in range(requests):
            answer = await call()
            assert answer["status"] == 200, answer
        provider.events.summarize_repeats()  # what a housekeeping tick does, once a loop
        await provider.recorder.flush()

    for metric in metrics:
        call = loop.run_until_complete(_warm(app, metric, 300))
        loop.run_until_complete(provider.recorder.flush())  # the warm-up's events, uncounted
        for requests in loops:
            gc.collect()  # every loop starts with empty young generations
            sys.call_tracing(loop.run_until_complete, (measured(call, requests),))
    loop.run_until_complete(stack.aclose())


def counts(metrics: list[str], loops: list[int], src: Path | None = None) -> list[list[int]]:
    """Instructions callgrind counted in each measured loop of ``loops`` requests, for each
    metric, all in one process, one after the other."""
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is missing: apt-get install valgrind")
    with tempfile.TemporaryDirectory(prefix="keystead-instructions-") as work:
        out = Path(work) / "callgrind.out"
        env = {
            **os.environ,
            "KEYSTEAD_DATA_DIR": str(Path(work) / "data"),
            "KEYSTEAD_CACHE_TTL": "86400",  # no reload every 5 s of valgrind's slow clock
            "PYTHONHASHSEED": "0",  # the same str hashes, so the same dict and set layouts
        }
        if src is not None:
            env["PYTHONPATH"] = os.pathsep.join([str(src), str(ROOT)])
        argv = [
            "valgrind",
            "--tool=callgrind",
            "--collect-atstart=no",
            "--toggle-collect=sys_call_tracing",
            "--dump-after=sys_call_tracing",
            f"--callgrind-out-file={out}",
            sys.executable,
            "-m",
            "bench.instructions",
            "--child",
            ",".join(metrics),
            *map(str, loops),
        ]
        proc = subprocess.run(  # noqa: S603
            argv, env=env, cwd=ROOT, capture_output=True, text=True, check=False
        )
        dumps = [Path(f"{out}.{i}") for i in range(1, len(metrics) * len(loops) + 1)]
        if proc.returncode != 0 or not all(d.exists() for d in dumps):
            raise SystemExit(f"callgrind run failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
        totals = [_totals(d) for d in dumps]
        return [totals[i : i + len(loops)] for i in range(0, len(totals), len(loops))]


def _totals(dump: Path) -> int:
    for line in dump.read_text().splitlines():
        if line.startswith("totals:"):
            return int(line.split()[1])
    raise SystemExit(f"callgrind wrote no totals in {dump}")


def per_request(
    metrics: list[str],
    requests: tuple[int, int],
    src: Path | None = None,
    *,
    one_process: bool = False,
) -> dict[str, float]:
    """What one more request of each metric costs: the difference between a loop of
    ``requests[1]`` and one of ``requests[0]``, divided by the difference in requests. Each
    metric in a process of its own, or all in one (``one_process``: one start-up, ~40 s
    under valgrind, for all; each metric after the others' rows are in the database)."""
    low, high = requests
    groups = [metrics] if one_process else [[m] for m in metrics]
    result = {}
    for group in groups:
        for metric, (first, second) in zip(group, counts(group, [low, high], src), strict=True):
            result[metric] = (second - first) / (high - low)
    return result


# The regression guard: a committed baseline of instructions per request, and a check.
BASELINE = ROOT / "bench" / "baseline" / "instructions.json"
LIMIT = 5.0  # per cent of growth over the baseline that fails the check
DEFAULT_REQUESTS = (200, 600)
UPDATE = "python -m bench.instructions --update-baseline --reason '...'"


@dataclasses.dataclass(frozen=True)
class Verdict:
    ok: bool
    message: str


def compare(metric: str, measured: float, baseline: float | None, limit: float = LIMIT) -> Verdict:
    """``measured`` against ``baseline``: a failure when it grew by more than ``limit`` %,
    a hint (still a pass) when it fell by more, so that later growth is caught."""
    if baseline is None:
        return Verdict(False, f"{metric}: no baseline; measure one: {UPDATE} {metric}")
    change = (measured - baseline) / baseline * 100
    side = "over" if change >= 0 else "under"
    figures = f"{metric}: {measured:,.0f} instructions per request, {abs(change):.1f} % {side}"
    figures += f" the baseline {baseline:,.0f}"
    fix = f"{UPDATE} {metric} and commit it"
    if change > limit:
        growth = f" (limit +{limit:g} %); if this growth is intended, update the baseline: "
        return Verdict(False, figures + growth + fix)
    if change < -limit:
        return Verdict(True, f"{figures}: lower the baseline so that later growth is caught: {fix}")
    return Verdict(True, f"{figures} (limit +{limit:g} %): ok")


def load_baseline(path: Path = BASELINE) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {"metrics": {}}
    return data


def provenance(requests: tuple[int, int], reason: str) -> dict[str, Any]:
    """What produced a measurement: counts depend on the interpreter and the C libraries."""
    import datetime
    import sqlite3

    from cryptography.hazmat.backends.openssl.backend import backend

    def run(*argv: str) -> str:
        proc = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, check=False)  # noqa: S603
        return proc.stdout.strip()

    commit = run("git", "rev-parse", "HEAD")
    changed = ("git", "status", "--porcelain", "--untracked-files=no", "--", "src", "bench")
    if run(*changed, ":(exclude)bench/baseline"):  # the measured code, not the measurement
        commit += " (with uncommitted changes)"
    return {
        "requests": list(requests),
        "commit": commit,
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "openssl": backend.openssl_version_text(),  # cryptography's own: ECDSA, AES
        "valgrind": run("valgrind", "--version"),
        "machine": platform.machine(),
        "reason": reason,
    }


def update_baseline(
    metrics: list[str], requests: tuple[int, int], reason: str, path: Path = BASELINE
) -> None:
    data = load_baseline(path)
    for metric, value in per_request(metrics, requests).items():
        old = data["metrics"].get(metric, {}).get("instructions_per_request")
        entry = {"instructions_per_request": round(value), **provenance(requests, reason)}
        data["metrics"][metric] = entry
        was = f" (was {old:,})" if old is not None else ""
        print(f"{metric}: {value:,.0f} instructions per request{was}", flush=True)
    data["metrics"] = {m: data["metrics"][m] for m in METRICS if m in data["metrics"]}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n")
    print(f"written to {path}: commit it, with the reason in the message")


def check(
    metrics: list[str],
    requests: tuple[int, int] | None = None,
    *,
    one_process: bool = False,
    path: Path = BASELINE,
) -> bool:
    """Measure each metric and compare it with the baseline (a message per metric); True when
    none grew by more than ``LIMIT`` %. The baseline's request numbers unless ``requests``."""
    baseline = load_baseline(path)["metrics"]
    wanted = requests or tuple(baseline.get(metrics[0], {}).get("requests", DEFAULT_REQUESTS))
    measured = per_request(metrics, (wanted[0], wanted[1]), one_process=one_process)
    passed = True
    for metric, value in measured.items():
        entry = baseline.get(metric)
        verdict = compare(metric, value, entry["instructions_per_request"] if entry else None)
        print(verdict.message, flush=True)
        if entry and entry.get("python") != platform.python_version():  # another interpreter
            print(
                f"  (the baseline was measured on Python {entry.get('python')}, this is "
                f"{platform.python_version()}: counts of different builds differ)"
            )
        passed = passed and verdict.ok
    return passed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("metrics", nargs="*", choices=[[], *METRICS], metavar="METRIC")
    parser.add_argument("--requests", type=int, nargs=2, metavar="N")
    parser.add_argument("--src", type=Path, help="another checkout's src directory")
    parser.add_argument("--one-process", action="store_true", help="one start-up for all")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="compare with the baseline")
    mode.add_argument("--update-baseline", action="store_true", help="measure, write it")
    parser.add_argument("--reason", help="why the baseline changes (with --update-baseline)")
    if sys.argv[1:2] == ["--child"]:  # inside valgrind: --child METRIC[,METRIC...] N...
        child(sys.argv[2].split(","), [int(n) for n in sys.argv[3:]])
        return
    args = parser.parse_args()
    requests = None
    if args.requests:
        low, high = sorted(args.requests)
        if high <= low:
            parser.error("--requests needs two different numbers")
        requests = (low, high)
    metrics = args.metrics or list(METRICS)
    if (args.check or args.update_baseline) and args.src:
        parser.error("the baseline is of this checkout: no --src with --check or --update-baseline")
    if args.check:
        sys.exit(0 if check(metrics, requests, one_process=args.one_process) else 1)
    if args.update_baseline:
        if not (args.reason or "").strip():
            parser.error("--update-baseline needs --reason TEXT (why the counts changed)")
        if args.one_process:
            parser.error("the baseline is measured a process per metric (no --one-process)")
        update_baseline(metrics, requests or DEFAULT_REQUESTS, args.reason.strip())
        return
    if not args.metrics:
        parser.error("name a metric, or --check / --update-baseline")
    low, high = requests or DEFAULT_REQUESTS
    measured = per_request(metrics, (low, high), args.src, one_process=args.one_process)
    for metric, value in measured.items():
        print(f"{metric}: {value:,.0f} instructions per request ({low} and {high} requests)")


if __name__ == "__main__":
    main()
