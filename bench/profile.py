"""Profile keystead under wrk load with py-spy and print where the time goes.

    pip install --target /tmp/pyspy py-spy          # not a project dependency
    python -m bench.profile [--metric client_credentials] [--seconds 15] [--py-spy PATH]

Starts keystead (one worker, core 0, access log at its default level), provisions the bench
client, runs wrk on core 1 for the metric while ``py-spy record --format raw`` samples the
worker (GIL-holding and idle frames excluded), then prints the functions with the most
samples: inclusive (anywhere on the stack) and self (on top). The collapsed stacks are kept
in $TMPDIR/keystead-profile-<metric>.txt (flamegraph.pl or speedscope read them).
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import tempfile
from collections import Counter
from pathlib import Path

from bench.run import Target, measure
from bench.servers import LOAD_CPUS, Keystead, can_pin


def find_py_spy(given: str | None) -> str:
    for candidate in (given, shutil.which("py-spy"), "/tmp/pyspy/bin/py-spy"):  # noqa: S108
        if candidate and Path(candidate).exists():
            return candidate
    raise SystemExit("py-spy is missing: pip install --target /tmp/pyspy py-spy")


def _function(frame: str) -> str:
    """ "f (path/file.py:123)" -> "f (path/file.py)": samples of one function add up."""
    name, _, where = frame.partition(" (")
    return f"{name} ({where.rsplit(':', 1)[0]})" if where else frame


# What a request's time goes to, by the frames on its stack (first match wins).
CATEGORIES = (
    ("ES256 signature (cryptography)", ("sign_es256",)),
    ("logging (access log + event log lines)", ("Logger.info", "Logger._log", "log_event")),
    ("prometheus metrics", ("prometheus_client", "observe_request", "Metrics.")),
    ("client authentication", ("authenticate_client",)),
    ("form parsing", ("oauth_request", "read_form", "parse_qsl", "from_pairs")),
    ("JSON response", ("json_response", "JSONEncoder", "json.dumps")),
    ("database (SQLAlchemy, sqlite3)", ("sqlalchemy", "SqliteDatabase", "sqlite3")),
)


# Leaf frames of threads that wait rather than work, which py-spy's idle detection misses:
# the database and hasher threads blocked on their executors' queues, uvloop's loop (C) in
# epoll_wait.
IDLE_LEAVES = (
    "_worker (concurrent/futures/thread.py:81)",
    "Runner.run (asyncio/runners.py:118)",
)


def summarize(collapsed: Path, top: int) -> str:
    inclusive: Counter[str] = Counter()
    self_time: Counter[str] = Counter()
    categories: Counter[str] = Counter()
    total = idle = 0
    for line in collapsed.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        n = int(count)
        raw_frames = stack.split(";")
        if raw_frames[-1] in IDLE_LEAVES:
            idle += n
            continue
        total += n
        frames = [_function(f) for f in raw_frames]
        for frame in set(frames):
            inclusive[frame] += n
        self_time[frames[-1]] += n
        joined = ";".join(frames)
        for category, needles in CATEGORIES:
            if any(needle in joined for needle in needles):
                categories[category] += n
                break
        else:
            categories["everything else (uvicorn, Starlette, keystead's code)"] += n
    out = [
        f"{total} busy samples of one process ({idle} more were waiting threads: left out); "
        "percentages of the busy samples",
        "\n-- by category --",
    ]
    for category, n in categories.most_common():
        out.append(f"{100 * n / total:5.1f}%  {category}")
    for title, counter in (("inclusive", inclusive), ("self", self_time)):
        out.append(f"\n-- top {top} functions, {title} --")
        for frame, n in counter.most_common(top):
            out.append(f"{100 * n / total:5.1f}%  {frame}")
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--metric",
        default="client_credentials",
        choices=(
            "client_credentials",
            "introspection",
            "jwks",
            "refresh_token",
            "code_flow",
            "password_login",
        ),
    )
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--rate", type=int, default=250, help="py-spy samples per second")
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--summarize", type=Path, help="only summarize these collapsed stacks")
    parser.add_argument("--output", type=Path, help="collapsed stacks (default: temp dir)")
    parser.add_argument("--py-spy", dest="py_spy")
    parser.add_argument("--log-level", default="info")
    args = parser.parse_args()
    if args.summarize:
        print(summarize(args.summarize, args.top))
        return
    py_spy = find_py_spy(args.py_spy)
    if can_pin():
        os.sched_setaffinity(0, {int(c) for c in LOAD_CPUS.split(",")})
    workdir = Path(tempfile.mkdtemp(prefix="keystead-profile-"))
    ks = Keystead(workdir)
    try:
        creds = ks.provision()
        ks.start(log_level=args.log_level)
        t = Target(ks, creds, "keystead", workdir)
        measure(t, args.metric, 2)  # warm up
        out = args.output or Path(tempfile.gettempdir()) / f"keystead-profile-{args.metric}.txt"
        assert ks.proc is not None
        argv = [
            py_spy,
            "record",
            "--pid",
            str(ks.proc.pid),
            "--format",
            "raw",
            "--output",
            str(out),
            "--rate",
            str(args.rate),
            "--nonblocking",
        ]
        # Recorded until stopped (SIGINT): the run only, for refresh_token and code_flow
        # after their tokens were minted and their session started (that takes a moment).
        spy: subprocess.Popen[bytes] | None = None

        def start_spy() -> None:
            nonlocal spy
            spy = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # noqa: S603

        m = measure(t, args.metric, args.seconds, before_run=start_spy)
        assert spy is not None
        spy.send_signal(signal.SIGINT)
        spy.wait(60)
        print(f"{args.metric}: {m.rate:.1f}/s under py-spy ({m.failures} failures)")
        print(summarize(out, args.top))
        print(f"\ncollapsed stacks: {out}")
    finally:
        ks.stop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
