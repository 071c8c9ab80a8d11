"""Instructions per request: the keystead app called in-process, counted by callgrind.

    python -m bench.instructions introspection [--requests 200 600] [--src DIR]

A server run on a VM whose speed drifts by ±10-20 % within minutes cannot show a change of a
few per cent; the number of instructions a request executes can, and it is the same from one
run to the next whatever else the machine does. This runs the app (``build_app``, its
lifespan, a provisioned bench client and the default log configuration, lines thrown away)
under ``valgrind --tool=callgrind`` twice, with two numbers of requests, and prints the
difference divided by the difference in requests: what one more request costs, start-up and
warm-up left out. Only the measured requests are counted (``--collect-atstart=no``, collection
switched on inside ``sys.call_tracing``, which wraps the measured loop and nothing else).

What it does not see: the kernel (system calls: ``strace -c``), uvicorn's HTTP handling (the
app is called as ASGI), waiting, and how fast each instruction runs. ``--src`` measures
another checkout's ``src`` (``git worktree add /tmp/a HEAD~1`` then ``--src /tmp/a/src``).
Needs valgrind (a Debian package). Metrics: client_credentials, introspection,
refresh_token, code_flow.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import os
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
    browser = [(b"cookie", b"ks_session=" + cookie.encode())]

    async def flow() -> dict[str, Any]:
        redirect = await _asgi(app, "GET", "/authorize", b"", browser, query)
        location = redirect["headers"][b"location"].decode()
        code = parse_qs(urlsplit(location).query)["code"][0]
        return await post("/token", token_body(code))

    return flow


async def start(metric: str, stack: contextlib.AsyncExitStack, warm_up: int = 300) -> Call:
    """The app on a provisioned data dir (``KEYSTEAD_*``), its lifespan entered on ``stack``,
    warmed up (caches filled, statements prepared): the function making one request."""
    from bench.provision import provision
    from keystead.app import build_app
    from keystead.config import load_settings

    creds = await provision(user=metric in ("refresh_token", "code_flow"), opaque_api=True)
    app = build_app(load_settings())
    await stack.enter_async_context(app.router.lifespan_context(app))
    call = await _requests(app, metric, creds)
    for _ in range(warm_up):
        answer = await call()
        assert answer["status"] == 200, answer
    return call


def child(metric: str, requests: int) -> None:
    """Inside valgrind: set up, then the measured requests inside sys.call_tracing."""
    import logging.config

    import uvloop

    from keystead.logs import lean_records, log_config

    logging.config.dictConfig(log_config("text", "info"))  # the server's logging, lines lost
    lean_records()
    sys.stderr = open(os.devnull, "w")  # noqa: SIM115 - for the life of the process
    loop = uvloop.new_event_loop()
    asyncio.set_event_loop(loop)
    stack = contextlib.AsyncExitStack()
    call = loop.run_until_complete(start(metric, stack))

    async def measured() -> None:
        for _ in range(requests):
            answer = await call()
            assert answer["status"] == 200, answer

    sys.call_tracing(loop.run_until_complete, (measured(),))
    loop.run_until_complete(stack.aclose())


def count(metric: str, requests: int, src: Path | None) -> int:
    """Instructions callgrind counted in ``requests`` measured requests."""
    with tempfile.TemporaryDirectory(prefix="keystead-instructions-") as work:
        out = Path(work) / "callgrind.out"
        env = {**os.environ, "KEYSTEAD_DATA_DIR": str(Path(work) / "data")}
        if src is not None:
            env["PYTHONPATH"] = os.pathsep.join([str(src), str(ROOT)])
        argv = [
            "valgrind",
            "--tool=callgrind",
            "--collect-atstart=no",
            "--toggle-collect=sys_call_tracing",
            f"--callgrind-out-file={out}",
            sys.executable,
            "-m",
            "bench.instructions",
            "--child",
            metric,
            str(requests),
        ]
        proc = subprocess.run(  # noqa: S603
            argv, env=env, cwd=ROOT, capture_output=True, text=True, check=False
        )
        if proc.returncode != 0 or not out.exists():
            raise SystemExit(f"callgrind run failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
        for line in out.read_text().splitlines():
            if line.startswith("totals:"):
                return int(line.split()[1])
    raise SystemExit("callgrind wrote no totals")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("metric", choices=METRICS)
    parser.add_argument("--requests", type=int, nargs=2, default=(200, 600), metavar="N")
    parser.add_argument("--src", type=Path, help="another checkout's src directory")
    if sys.argv[1:2] == ["--child"]:  # inside valgrind: --child METRIC REQUESTS
        child(sys.argv[2], int(sys.argv[3]))
        return
    args = parser.parse_args()
    low, high = sorted(args.requests)
    if high <= low:
        parser.error("--requests needs two different numbers")
    first, second = count(args.metric, low, args.src), count(args.metric, high, args.src)
    per_request = (second - first) / (high - low)
    print(f"{args.metric}: {per_request:,.0f} instructions per request ({low} and {high} requests)")


if __name__ == "__main__":
    main()
