"""keystead vs node-oidc-provider, in one run: ``python -m bench.run`` (docs/performance.md).

    python -m bench.run                      # everything, 10 s per measurement
    python -m bench.run --duration 5 --only client_credentials introspection
    python -m bench.run --pg                 # also keystead on a throw-away PostgreSQL database
    python -m bench.run --smoke              # CI: keystead client_credentials + JWKS, ~1 s each

The servers run on loopback, pinned to core 0 (``taskset -c 0``); wrk and the Python drivers
run on core 1; the bench's own redis-server (NOP+Redis's store, and keystead-on-PostgreSQL's
invalidation channel) and PostgreSQL are not pinned. Up to four servers per endpoint metric:
keystead on SQLite, keystead on PostgreSQL (``--pg``), node-oidc-provider with its in-memory
adapter and with a Redis adapter (bench/nop/redis_adapter.js). Single-request endpoints are
measured with ``wrk -t1 -c16 --latency`` (bench/lua/bench.lua), multi-step flows the same way
against every server. Measurements alternate between the servers metric by metric, so a change
in the machine's load hits them alike. The tables go to stdout and, as JSON with every raw
figure, to bench/results/latest.json.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import argon2_limit, phases, servers, wrk
from bench import measure as measure_module

# CC_BODY, OPAQUE_BODY, Target and measure are bench/instructions.py's and bench/profile.py's.
from bench.measure import CC_BODY as CC_BODY
from bench.measure import OPAQUE_BODY as OPAQUE_BODY
from bench.measure import Target as Target
from bench.measure import compare, flows_driver_notes, raw_results
from bench.measure import measure as measure
from bench.report import (
    LABELS,
    RSS_LIMIT_MB,
    Row,
    environment,
    lat,
    print_columns,
    print_table,
    ratio_row,
    write,
)
from bench.servers import (
    LOAD_CPUS,
    ROOT,
    Keystead,
    Nop,
    RedisServer,
    Server,
    SystemService,
    can_pin,
    pg_create,
    pg_drop,
    redis_binary,
)

RESULTS = ROOT / "bench" / "results"

# Throughput metrics, measured on every server of the main phase.
ENDPOINT_METRICS = ("client_credentials", "refresh_token", "introspection", "jwks", "code_flow")
# Names for --only: the endpoint metrics and the comparisons.
ALL = (*ENDPOINT_METRICS, "password_login", "logging", "workers", "grants_1m")
ALIASES = {"cc": "client_credentials", "refresh": "refresh_token", "login": "password_login"}

SQLITE_TARGETS: dict[str, float] = {  # keystead on SQLite / NOP in-memory
    "client_credentials": 1.8,
    "introspection": 1.5,
    "refresh_token": 1.3,
    "code_flow": 1.3,
}
PG_TARGET = 1.2  # keystead on PostgreSQL / NOP+Redis, every endpoint metric
LOGIN_SHARE = 0.8  # password logins / the argon2id limit measured in the same run
GRANTS = 1_000_000


# --- the runs ---


def selected(args: argparse.Namespace) -> set[str]:
    if not args.only:
        return set(ALL)
    chosen = {ALIASES.get(name, name) for name in args.only}
    unknown = chosen - set(ALL)
    if unknown:
        raise SystemExit(
            f"unknown metric(s): {', '.join(sorted(unknown))}; known: {', '.join(ALL)}"
        )
    return chosen


def smoke(args: argparse.Namespace) -> int:
    """A few seconds: keystead alone, client_credentials and JWKS for ~1 s each with wrk; every
    response must be a 200 and both rates above 0."""
    wrk.wrk_binary()  # fail early, with the apt-get hint
    env = environment(args)
    workdir = Path(tempfile.mkdtemp(prefix="keystead-bench-smoke-"))
    ks = Keystead(workdir)
    rows: list[Row] = []
    try:
        creds = ks.provision(user=False, opaque_api=False)
        ks.start()
        t = Target(ks, creds, "keystead", workdir)
        compare([t], ["client_credentials", "jwks"], args.duration, 0)
        for metric in ("client_credentials", "jwks"):
            m = t.results[metric]
            row = Row(LABELS[metric], m.rate, None, "> 0, all 200", m.rate > 0 and m.failures == 0)
            row.keystead_latency = lat(m)
            if m.failures:
                row.note = f"{m.failures} requests failed or were not 200"
            rows.append(row)
    except Exception:
        print(ks.log_tail(), file=sys.stderr)
        raise
    finally:
        ks.stop()
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    print_table(rows)
    output = args.output or Path(tempfile.gettempdir()) / "keystead-bench-smoke.json"
    write(output, args, env, rows, {"keystead": raw_results(t)})
    return 0 if all(r.passed for r in rows) else 1


def full(args: argparse.Namespace) -> int:
    chosen = selected(args)
    wrk.wrk_binary()
    redis_binary()
    if can_pin():
        os.sched_setaffinity(0, {int(c) for c in LOAD_CPUS.split(",")})  # the drivers' core
    workdir = Path(tempfile.mkdtemp(prefix="keystead-bench-"))
    env = environment(args)
    print(f"keystead vs node-oidc-provider {env['oidc_provider']}; work dir {workdir}")
    print(f"load average at start: {env['loadavg_start']}", flush=True)
    rows: list[Row] = []
    raw: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    started: list[Server] = []
    databases: list[str] = []

    def start(server: Server, launch: Callable[[], None]) -> None:
        started.append(server)
        launch()

    try:
        redis = RedisServer(workdir)
        start(redis, redis.start)
        ks = Keystead(workdir)
        creds = ks.provision()
        start(ks, ks.start)
        ctx = phases.Context(args, workdir, ks, creds, rows, raw, extra, start)
        main_phase(ctx, chosen, redis, databases)
        if "logging" in chosen:
            phases.logging(ctx)
        if "workers" in chosen:
            phases.workers(ctx)
        if "grants_1m" in chosen:
            phases.grants_1m(ctx)
    except Exception:
        for server in started:
            print(
                f"--- {server.name} log ({server.log_path}) ---\n{server.log_tail()}",
                file=sys.stderr,
            )
        raise
    finally:
        for server in reversed(started):
            server.stop()
        for name in databases:
            pg_drop(name)
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)

    print("\n== results ==")
    print_table(rows)
    print(f"\nload average at end: {os.getloadavg()}  (the servers and wrk share this machine)")
    raw["extra"] = extra
    write(args.output or RESULTS / "latest.json", args, env, rows, raw)
    return 0


def main_phase(
    ctx: phases.Context, chosen: set[str], redis: RedisServer, databases: list[str]
) -> None:
    """keystead (SQLite; with --pg also PostgreSQL) vs NOP (in-memory and Redis), endpoint by
    endpoint; then the password logins against the argon2id limit, and the RSS."""
    endpoint = [m for m in ENDPOINT_METRICS if m in chosen]
    if not endpoint and "password_login" not in chosen:
        return
    args, workdir, creds = ctx.args, ctx.workdir, ctx.creds
    main = Target(ctx.ks, creds, "keystead SQLite", workdir)
    pg = start_pg(ctx, redis, databases) if args.pg else None
    nop = Nop(workdir)
    ctx.start(nop, lambda: nop.start(creds))
    memory = Target(nop, creds, "NOP in-memory", workdir)
    nop_redis = Nop(workdir, redis_url=redis.url, label="-redis")
    ctx.start(nop_redis, lambda: nop_redis.start(creds))
    on_redis = Target(nop_redis, creds, "NOP+Redis", workdir, backing=redis)
    targets = [t for t in (main, pg, memory, on_redis) if t is not None]

    print(f"\n== {' vs '.join(t.label for t in targets)} ==", flush=True)
    compare(targets, endpoint, args.duration, args.warmup)
    rss = {t.label: t.server.rss_per_worker() for t in targets}
    if endpoint:
        print()
        print_columns(targets, endpoint, LABELS)
    # (keystead, NOP, the name of the comparison, its target per metric: None for none)
    comparisons: list[tuple[Target | None, Target, str, dict[str, float] | float | None]] = [
        (main, memory, "SQLite ÷ NOP in-memory", SQLITE_TARGETS),
        (pg, on_redis, "PostgreSQL ÷ NOP+Redis", PG_TARGET),
        (main, on_redis, "SQLite ÷ NOP+Redis", None),
    ]
    for ours, theirs, name, target in comparisons:
        if ours is None:  # no PostgreSQL
            continue
        for metric in endpoint:
            goal = target.get(metric) if isinstance(target, dict) else target
            row = ratio_row(
                f"{LABELS[metric]} [{name}]",
                ours.results[metric],
                theirs.results[metric],
                goal,
            )
            ctx.rows.append(row)
    rss_rows(ctx, main, memory, rss, "")
    if pg is not None:
        rss_rows(ctx, pg, on_redis, rss, "[PostgreSQL] ")
    ctx.extra["rss_mb"] = rss
    if "password_login" in chosen:
        password_logins(ctx, main)
    for note in flows_driver_notes(*targets):
        print(f"  note: {note}")
        ctx.extra.setdefault("driver_notes", []).append(note)
    ctx.raw["keystead"], ctx.raw["nop"] = raw_results(main), raw_results(memory)
    ctx.raw["nop_redis"] = raw_results(on_redis)
    if pg is not None:
        ctx.raw["keystead_pg"] = raw_results(pg)


def start_pg(ctx: phases.Context, redis: RedisServer, databases: list[str]) -> Target | None:
    """keystead on a throw-away PostgreSQL database, with the bench's Redis for cache
    invalidation (pub/sub), as deployed on more than one machine."""
    try:
        name, url = pg_create()
    except Exception as exc:  # noqa: BLE001
        print(f"  skipped keystead on PostgreSQL: PostgreSQL unavailable ({exc!r})")
        return None
    databases.append(name)
    pg = Keystead(ctx.workdir, database_url=url, redis_url=redis.url, label="-pg")
    pg_creds = pg.provision(user=True)
    ctx.start(pg, pg.start)
    return Target(
        pg, pg_creds, "keystead PostgreSQL", ctx.workdir, backing=SystemService("postgres")
    )


def rss_rows(
    ctx: phases.Context, ks: Target, nop: Target, rss: dict[str, list[float]], prefix: str
) -> None:
    mine, theirs = rss[ks.label], rss[nop.label]
    ctx.rows.append(
        Row(
            f"{prefix}RSS per worker",
            max(mine),
            max(theirs),
            f"< {RSS_LIMIT_MB:g} MB",
            max(mine) < RSS_LIMIT_MB,
            unit="MB",
            note=f"VmRSS after the endpoint runs, {ks.label} and {nop.label}",
        )
    )


def password_logins(ctx: phases.Context, main: Target) -> None:
    """keystead's password logins on one core, beside the argon2id limit of that core:
    keystead's own hasher verifying one password after the other, measured in this run."""
    args = ctx.args
    # The limit is measured after each round of logins, so the machine's drift hits both
    # alike; its median is the reference, as the logins' median run is.
    limits: list[dict[str, Any]] = []
    seconds = max(args.duration, 3.0)
    compare(
        [main],
        ["password_login"],
        args.duration,
        min(args.warmup, 2),
        after_round=lambda: limits.append(argon2_limit.limit(seconds)),
    )
    limit = sorted(limits, key=lambda x: x["verifies_per_s"])[len(limits) // 2]
    limit["verifies_per_s_of_runs"] = [x["verifies_per_s"] for x in limits]
    m = main.results["password_login"]
    ceiling = limit["verifies_per_s"]
    params = limit["params"]
    print(
        f"  argon2id limit: {ceiling:.1f} verifies/s on core {limit['cpus']} "
        f"(m={params['memory_cost_kib']} KiB, t={params['time_cost']}, "
        f"p={params['parallelism']}; {limit['ms_per_verify']:.1f} ms each)",
        flush=True,
    )
    ctx.extra["argon2_limit"] = limit
    row = Row(
        f"{LABELS['password_login']} ÷ argon2id limit",
        m.rate,
        ceiling,
        f"≥ {LOGIN_SHARE:g}×",
        m.rate >= LOGIN_SHARE * ceiling and not m.failures,
        keystead_latency=lat(m),
        note="keystead only (NOP's bench interaction verifies no password); the limit: "
        "keystead's hasher verifying one password after the other on the server's core",
    )
    if m.failures:
        row.note += f"; {m.failures} failed requests"
    ctx.rows.append(row)
    after = main.server.rss_per_worker()
    ctx.rows.append(
        Row(
            "RSS per worker, after password logins",
            max(after),
            None,
            f"< {RSS_LIMIT_MB:g} MB",
            max(after) < RSS_LIMIT_MB,
            unit="MB",
            note="argon2id's buffers (9 MiB per hashing thread) are returned after each "
            "verification where `keystead serve` could set glibc's allocator for it "
            "(keystead/serving.py)",
        )
    )
    ctx.extra["rss_mb_after_logins"] = after


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.run", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--smoke", action="store_true", help="keystead only, ~1 s per metric")
    parser.add_argument("--duration", type=float, default=None, help="seconds per measurement")
    parser.add_argument("--warmup", type=float, default=None, help="seconds of warm-up per run")
    parser.add_argument("--only", nargs="+", metavar="NAME", help=f"some of: {', '.join(ALL)}")
    parser.add_argument(
        "--pg",
        action="store_true",
        help="also keystead on a throw-away PostgreSQL database (with Redis for invalidation)",
    )
    parser.add_argument("--grants", type=int, default=GRANTS, help="stored grants for grants_1m")
    parser.add_argument(
        "--output",
        type=Path,
        help="JSON results (default bench/results/latest.json; --smoke: in the temp dir)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the work dir (logs, DBs)")
    parser.add_argument(
        "--flow-driver",
        choices=("wrk", "httpx"),
        default="wrk",
        help="what drives the code flows (default wrk; httpx: bench/flows.py)",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="rounds per metric, alternating the servers; the median run is reported",
    )
    parser.add_argument("--caveat", default="", help="a note stored with the results")
    parser.add_argument(
        "--python",
        default=None,
        help="the interpreter keystead runs on: a venv's python (default: this one); "
        "docs/performance.md, 'The interpreter'",
    )
    args = parser.parse_args(argv)
    if args.duration is None:
        args.duration = 1.0 if args.smoke else 10.0
    if args.warmup is None:
        args.warmup = 0.0 if args.smoke else 2.0
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    measure_module.FLOW_DRIVER = args.flow_driver
    measure_module.REPEAT = max(1, args.repeat)
    if args.python is not None:
        servers.PYTHON = args.python
    args.keystead_python = servers.interpreter(servers.PYTHON)
    print(f"keystead runs on {servers.PYTHON}: Python {args.keystead_python}", flush=True)
    return smoke(args) if args.smoke else full(args)


if __name__ == "__main__":
    sys.exit(main())
