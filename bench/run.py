"""keystead vs node-oidc-provider, in one run: ``python -m bench.run`` (docs/performance.md).

    python -m bench.run                      # everything, 10 s per measurement
    python -m bench.run --duration 5 --only client_credentials introspection
    python -m bench.run --pg                 # also keystead on a throw-away PostgreSQL database
    python -m bench.run --smoke              # CI: keystead client_credentials + JWKS, ~1 s each

Both servers run on loopback, pinned to core 0 (``taskset -c 0``); wrk and the Python drivers
run on core 1. Single-request endpoints are measured with ``wrk -t1 -c16 --latency``
(bench/lua/bench.lua), multi-step flows with an httpx driver (bench/flows.py), the same way
against both servers. Measurements alternate between the servers metric by metric, so a
change in the machine's load hits both alike. The table goes to stdout and, as JSON, to
bench/results/latest.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from bench import flows, wrk
from bench.servers import (
    API,
    API_SCOPE,
    LOAD_CPUS,
    NOP_DIR,
    OPAQUE_API,
    OPAQUE_SCOPE,
    ROOT,
    Credentials,
    Keystead,
    Nop,
    Server,
    can_pin,
    pg_create,
    pg_drop,
)
from bench.wrk import Measurement

RESULTS = ROOT / "bench" / "results"
CC_BODY = urlencode({"grant_type": "client_credentials", "scope": API_SCOPE, "resource": API})
OPAQUE_BODY = urlencode(
    {"grant_type": "client_credentials", "scope": OPAQUE_SCOPE, "resource": OPAQUE_API}
)
# Code flows: wrk (bench.lua's authorization-code mode) by default; "httpx" drives them
# from Python instead (bench/flows.py), which costs ~1.5 ms of CPU per request: it
# saturates its core below node-oidc-provider's rate.
FLOW_DRIVER = "wrk"  # --flow-driver
REPEAT = 1  # --repeat: rounds per metric; each server's median run is reported
POOL = 2 * wrk.CONNECTIONS  # live refresh tokens per wrk run (more than connections)

# Throughput metrics, measured on every server of a phase.
ENDPOINT_METRICS = ("client_credentials", "refresh_token", "introspection", "jwks", "code_flow")
# Names for --only: the endpoint metrics and the comparisons.
ALL = (*ENDPOINT_METRICS, "password_login", "logging", "workers", "grants_1m")
ALIASES = {"cc": "client_credentials", "refresh": "refresh_token", "login": "password_login"}

TARGETS: dict[str, float] = {  # keystead / NOP
    "client_credentials": 1.5,
    "introspection": 1.5,
    "refresh_token": 1.2,
    "code_flow": 1.2,
}
LABELS = {
    "client_credentials": "client_credentials tokens/s",
    "refresh_token": "refresh_token/s",
    "introspection": "introspection/s",
    "jwks": "JWKS/s",
    "code_flow": "code flows/s (SSO session)",
    "password_login": "password logins/s",
}
LOGINS_PER_CORE = 40.0
RSS_LIMIT_MB = 120.0
GRANTS = 1_000_000


# --- preparing a server and measuring one metric ---


@dataclass
class Target:
    """A running server, its credentials and what its measurements need."""

    server: Server
    creds: Credentials
    label: str  # "keystead", "nop", "keystead (1M grants)" ...
    workdir: Path
    session: dict[str, str] = field(default_factory=dict)  # the SSO session's cookies
    results: dict[str, Measurement] = field(default_factory=dict)

    @property
    def basic(self) -> str:
        return flows.basic(self.creds)


def mint_opaque_token(t: Target) -> str:
    """An opaque access token to introspect, checked active. Minted just before each run, as
    NOP's in-memory adapter is an LRU of 1000 entries: the writes of the runs before (refresh
    tokens, code flows) evict a token minted earlier. Introspection itself writes nothing."""
    token: str = _post(t, "/token", OPAQUE_BODY)["access_token"]
    check = _post(t, "/introspect", urlencode({"token": token}))
    if check.get("active") is not True:
        raise RuntimeError(f"{t.label}: the opaque token does not introspect: {check}")
    return token


def _post(t: Target, path: str, body: str) -> dict[str, Any]:
    import httpx

    r = httpx.post(
        t.server.issuer + path,
        content=body.encode(),
        headers={"Authorization": t.basic, "Content-Type": "application/x-www-form-urlencoded"},
        timeout=30,
    )
    if r.status_code != 200:
        raise RuntimeError(f"{t.label} {path}: {r.status_code} {r.text[:300]}")
    data: dict[str, Any] = r.json()
    return data


def measure(
    t: Target, metric: str, seconds: float, before_run: Callable[[], None] = lambda: None
) -> Measurement:
    """One run of a metric against one server. ``before_run`` is called right before the
    load starts (after any tokens were minted): bench/profile.py starts py-spy there."""
    issuer = t.server.issuer
    if metric == "client_credentials":
        before_run()
        return wrk.run(
            issuer + "/token",
            seconds,
            method="POST",
            body=CC_BODY,
            authorization=t.basic,
            expect='"access_token"',
        )
    if metric == "introspection":
        body = urlencode({"token": mint_opaque_token(t)})
        before_run()
        return wrk.run(
            issuer + "/introspect",
            seconds,
            method="POST",
            body=body,
            authorization=t.basic,
            expect='"active":true',
        )
    if metric == "jwks":
        before_run()
        return wrk.run(issuer + "/jwks", seconds, expect='"keys"')
    if metric == "refresh_token":
        # Minted just before the run, as NOP's in-memory adapter is an LRU of 1000 entries:
        # tokens (and sessions) minted long before are gone by the time they are used.
        t.session = flows.run(flows.start_session(t.server, t.creds))
        tokens = flows.run(flows.mint_refresh_tokens(t.server, t.creds, t.session, POOL))
        pool = t.workdir / f"refresh-{t.label.replace(' ', '_')}.txt"
        pool.write_text("\n".join(tokens) + "\n")
        before_run()
        return wrk.run(
            issuer + "/token", seconds, method="POST", authorization=t.basic, refresh_tokens=pool
        )
    if metric == "code_flow":
        t.session = flows.run(flows.start_session(t.server, t.creds))  # as above: just before
        if FLOW_DRIVER == "httpx":
            before_run()
            coro = flows.code_flows(t.server, t.creds, t.session, seconds, wrk.CONNECTIONS)
            m: Measurement = flows.run(coro)
            return m
        url = flows.authorize_url(t.server, t.creds, flows.FLOW_SCOPE)
        flow = wrk.CodeFlow(
            authorize_path=url.removeprefix(issuer),
            cookie=flows.cookie_header(t.session),
            redirect_uri=flows.REDIRECT_URI,
            verifier=flows.VERIFIER,
        )
        before_run()
        return wrk.run(issuer + "/token", seconds, authorization=t.basic, code_flow=flow)
    if metric == "password_login":
        before_run()
        m = flows.run(flows.password_logins(t.server, t.creds, seconds, 8))
        return m
    raise ValueError(metric)


def compare(targets: list[Target], metrics: list[str], duration: float, warmup: float) -> None:
    """Each metric on each server in turn (warm-up run first, not recorded), ``REPEAT``
    rounds; each server's run with the median rate is the one reported (the others' rates
    are kept in its ``rates_of_runs``): on a machine whose speed drifts, one round can land
    on a slow minute for one server only."""
    for metric in metrics:
        runs: dict[str, list[Measurement]] = {t.label: [] for t in targets}
        for round_ in range(REPEAT):
            for t in targets:
                runs[t.label].append(_measured(t, metric, duration, warmup if round_ == 0 else 0))
        for t in targets:
            by_rate = sorted(runs[t.label], key=lambda m: m.rate)
            median = by_rate[len(by_rate) // 2]
            if REPEAT > 1:
                median.detail["rates_of_runs"] = [m.rate for m in runs[t.label]]
                # A failed request in any round fails the metric, whichever run is shown.
                median.failures = max(m.failures for m in runs[t.label])
            t.results[metric] = median


def _measured(t: Target, metric: str, duration: float, warmup: float) -> Measurement:
    """One measured run, with the server's CPU time per operation."""
    if warmup > 0:
        measure(t, metric, warmup)
    before: list[float] = []

    def mark(t: Target = t, before: list[float] = before) -> None:
        before[:] = [t.server.cpu_seconds(), time.perf_counter()]

    m = measure(t, metric, duration, before_run=mark)
    used = t.server.cpu_seconds() - before[0]
    # The server's CPU during the run: in cores (~1.0 per worker when CPU-bound, less
    # when it waits or is starved of CPU by other load), and per successful operation
    # (what a full core would give: 1e6 / cpu_us_per_op per second).
    m.detail["server_cores"] = round(used / (time.perf_counter() - before[1]), 2)
    m.detail["cpu_us_per_op"] = round(1e6 * used / m.ok, 1) if m.ok else None
    flag = f"  FAILURES: {m.failures}" if m.failures else ""
    print(
        f"  {t.label:28} {metric:20} {m.rate:10.1f}/s  p50 {m.p50_ms:7.2f} ms  "
        f"p99 {m.p99_ms:7.2f} ms  server {m.detail['server_cores']:.2f} cores, "
        f"{m.detail['cpu_us_per_op'] or 0:.0f} µs CPU/op{flag}",
        flush=True,
    )
    return m


# --- the table ---


@dataclass
class Row:
    metric: str
    keystead: float | None
    reference: float | None  # NOP, or the keystead baseline the metric names
    target: str
    passed: bool | None  # None: no target
    unit: str = "/s"
    keystead_latency: tuple[float, float] | None = None  # p50, p99 ms
    reference_latency: tuple[float, float] | None = None
    note: str = ""
    per_core_ratio: float | None = None  # reference CPU per op / keystead CPU per op

    @property
    def ratio(self) -> float | None:
        if self.keystead is None or not self.reference:
            return None
        return self.keystead / self.reference

    def as_json(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "unit": self.unit,
            "keystead": _round(self.keystead),
            "reference": _round(self.reference),
            "ratio": _round(self.ratio, 3),
            "target": self.target,
            "pass": self.passed,
            "keystead_p50_p99_ms": self.keystead_latency,
            "reference_p50_p99_ms": self.reference_latency,
            "per_core_ratio": _round(self.per_core_ratio, 3),
            "note": self.note,
        }


def count(n: int) -> str:
    """1000000 -> "1M", 100000 -> "100k"."""
    if n % 1_000_000 == 0:
        return f"{n // 1_000_000}M"
    return f"{n // 1000}k" if n % 1000 == 0 else str(n)


def _round(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


def _lat(m: Measurement | None) -> tuple[float, float] | None:
    return None if m is None else (round(m.p50_ms, 2), round(m.p99_ms, 2))


def ratio_row(
    metric: str,
    ks: Measurement | None,
    ref: Measurement | None,
    minimum: float | None,
    note: str = "",
) -> Row:
    row = Row(
        metric,
        ks.rate if ks else None,
        ref.rate if ref else None,
        f"≥ {minimum:g}×" if minimum is not None else "—",
        None,
        keystead_latency=_lat(ks),
        reference_latency=_lat(ref),
        note=note,
    )
    ks_cpu = ks.detail.get("cpu_us_per_op") if ks else None
    ref_cpu = ref.detail.get("cpu_us_per_op") if ref else None
    if ks_cpu and ref_cpu:
        row.per_core_ratio = ref_cpu / ks_cpu
    failures = (ks.failures if ks else 0) + (ref.failures if ref else 0)
    if failures:
        row.passed = False
        row.note = (row.note + f"; {failures} failed requests").lstrip("; ")
    elif minimum is not None and row.ratio is not None:
        row.passed = row.ratio >= minimum
    return row


def print_table(rows: list[Row]) -> None:
    head = (
        "metric",
        "keystead",
        "NOP / ref",
        "ratio",
        "target",
        "result",
        "per core",
        "ks p50/p99 ms",
        "ref p50/p99 ms",
    )

    def num(v: float | None) -> str:
        return "—" if v is None else f"{v:,.1f}"

    def lat(v: tuple[float, float] | None) -> str:
        return "—" if v is None else f"{v[0]:.2f} / {v[1]:.2f}"

    lines = [head]
    for r in rows:
        result = "—" if r.passed is None else ("pass" if r.passed else "FAIL")
        ratio = "—" if r.ratio is None else f"{r.ratio:.2f}×"
        lines.append(
            (
                r.metric + ("" if r.unit == "/s" else f" ({r.unit})"),
                num(r.keystead),
                num(r.reference),
                ratio,
                r.target,
                result,
                "—" if r.per_core_ratio is None else f"{r.per_core_ratio:.2f}×",
                lat(r.keystead_latency),
                lat(r.reference_latency),
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(head))]
    for n, line in enumerate(lines):
        print("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)))
        if n == 0:
            print("  ".join("-" * w for w in widths))
    print(
        "ratio: keystead ÷ NOP (or ÷ the baseline the metric names); per core: the same ratio "
        "of CPU time per operation (what one full core would give each; less sensitive to "
        "other load)"
    )
    for r in rows:
        if r.note:
            print(f"  note: {r.metric}: {r.note}")


# --- environment ---


def environment(args: argparse.Namespace) -> dict[str, Any]:
    def out(argv: list[str]) -> str:
        try:
            proc = subprocess.run(argv, capture_output=True, text=True, timeout=10, check=False)  # noqa: S603
        except OSError:
            return ""
        return (
            (proc.stdout or proc.stderr).strip().splitlines()[0]
            if (proc.stdout or proc.stderr)
            else ""
        )

    nop_version = ""
    package = NOP_DIR / "node_modules" / "oidc-provider" / "package.json"
    if package.exists():
        nop_version = json.loads(package.read_text())["version"]
    return {
        "command": "python -m bench.run " + " ".join(sys.argv[1:]),
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "git": out(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"]),
        "git_dirty": bool(out(["git", "-C", str(ROOT), "status", "--porcelain", "--", "src"])),
        "cpus": os.cpu_count(),
        "pinned": can_pin(),
        "loadavg_start": os.getloadavg(),
        "python": platform.python_version(),
        "node": out(["node", "--version"]),
        "oidc_provider": nop_version,
        "wrk": out(["wrk", "--version"]),
        "duration_s": args.duration,
        "connections": wrk.CONNECTIONS,
    }


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
            row.keystead_latency = _lat(m)
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
    write(output, args, env, rows, {"keystead": _raw(t)})
    return 0 if all(r.passed for r in rows) else 1


def _raw(t: Target) -> dict[str, Any]:
    return {metric: m.as_json() for metric, m in t.results.items()}


def write(
    path: Path, args: argparse.Namespace, env: dict[str, Any], rows: list[Row], raw: dict[str, Any]
) -> None:
    env = {**env, "loadavg_end": os.getloadavg(), "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    data = {
        "environment": env,
        "rows": [r.as_json() for r in rows],
        "raw": raw,
        "caveat": args.caveat,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n")
    print(f"\nwritten: {path}")


def full(args: argparse.Namespace) -> int:
    chosen = selected(args)
    wrk.wrk_binary()
    if can_pin():
        os.sched_setaffinity(0, {int(c) for c in LOAD_CPUS.split(",")})  # the drivers' core
    workdir = Path(tempfile.mkdtemp(prefix="keystead-bench-"))
    env = environment(args)
    print(f"keystead vs node-oidc-provider {env['oidc_provider']}; work dir {workdir}")
    print(f"load average at start: {env['loadavg_start']}", flush=True)
    duration, warmup = args.duration, args.warmup
    endpoint = [m for m in ENDPOINT_METRICS if m in chosen]
    rows: list[Row] = []
    raw: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    started: list[Server] = []

    def start(server: Server, launch: Callable[[], None]) -> None:
        started.append(server)
        launch()

    try:
        ks = Keystead(workdir)
        creds = ks.provision()
        start(ks, ks.start)
        main = Target(ks, creds, "keystead", workdir)
        nop = Nop(workdir)
        start(nop, lambda: nop.start(creds))
        other = Target(nop, creds, "nop", workdir)

        # 1. keystead vs NOP, endpoint by endpoint.
        if endpoint or "password_login" in chosen:
            print("\n== keystead vs node-oidc-provider (SQLite) ==", flush=True)
            compare([main, other], endpoint, duration, warmup)
            ks_rss, nop_rss = ks.rss_per_worker(), nop.rss_per_worker()
            if "password_login" in chosen:
                compare([main], ["password_login"], duration, min(warmup, 2))
            for metric in endpoint:
                rows.append(
                    ratio_row(
                        LABELS[metric],
                        main.results[metric],
                        other.results[metric],
                        TARGETS.get(metric),
                    )
                )
            if "password_login" in chosen:
                m = main.results["password_login"]
                row = Row(
                    LABELS["password_login"],
                    m.rate,
                    None,
                    f"≥ {LOGINS_PER_CORE:g}/s",
                    m.rate >= LOGINS_PER_CORE and not m.failures,
                    keystead_latency=_lat(m),
                    note="keystead only: NOP's dev interactions verify no password; "
                    "the server has one core (argon2id on one hasher thread)",
                )
                rows.append(row)
            rows.append(
                Row(
                    "RSS per worker",
                    max(ks_rss),
                    max(nop_rss),
                    f"< {RSS_LIMIT_MB:g} MB",
                    max(ks_rss) < RSS_LIMIT_MB,
                    unit="MB",
                    note="VmRSS after the endpoint runs above",
                )
            )
            extra["rss_mb"] = {"keystead": ks_rss, "nop": nop_rss}
            if "password_login" in chosen:
                after = ks.rss_per_worker()
                rows.append(
                    Row(
                        "RSS per worker, after password logins",
                        max(after),
                        None,
                        f"< {RSS_LIMIT_MB:g} MB",
                        max(after) < RSS_LIMIT_MB,
                        unit="MB",
                        note="argon2id (9 MiB each) on the hasher's fixed threads",
                    )
                )
                extra["rss_mb_after_logins"] = after
            for m in flows_driver_notes(main, other):
                print(f"  note: {m}")
                extra.setdefault("driver_notes", []).append(m)

        # 2. access log on (the default, level info) vs off (level warning).
        if "logging" in chosen:
            print("\n== keystead access log on (info) vs off (warning) ==", flush=True)
            quiet = Keystead(workdir, label="-quiet", data_dir=ks.data_dir)
            start(quiet, lambda: quiet.start(log_level="warning"))
            q = Target(quiet, creds, "keystead (log off)", workdir)
            on = Target(ks, creds, "keystead (log on)", workdir)
            compare([on, q], ["client_credentials"], duration, warmup)
            quiet.stop()
            rows.append(
                ratio_row(
                    "client_credentials: access log on vs off",
                    on.results["client_credentials"],
                    q.results["client_credentials"],
                    None,
                    "ratio < 1 is what the log line costs",
                )
            )

        # 3. one worker vs two (the second may use the load generator's core).
        if "workers" in chosen:
            print("\n== keystead 1 worker (core 0) vs 2 workers (cores 0-1) ==", flush=True)
            two = Keystead(workdir, label="-2workers", data_dir=ks.data_dir)
            start(two, lambda: two.start(workers=2, cpus="0,1"))
            t2 = Target(two, creds, "keystead (2 workers)", workdir)
            t1 = Target(ks, creds, "keystead (1 worker)", workdir)
            compare([t1, t2], ["client_credentials", "jwks"], duration, warmup)
            rss2 = two.rss_per_worker()
            two.stop()
            for metric in ("client_credentials", "jwks"):
                rows.append(
                    ratio_row(
                        f"{LABELS[metric]}: 2 workers vs 1",
                        t2.results[metric],
                        t1.results[metric],
                        1.0,
                        "wrk shares core 1 with the second worker",
                    )
                )
            rows.append(
                Row(
                    "RSS per worker, 2 workers",
                    max(rss2),
                    None,
                    f"< {RSS_LIMIT_MB:g} MB",
                    max(rss2) < RSS_LIMIT_MB,
                    unit="MB",
                )
            )
            extra["rss_mb_2_workers"] = rss2
            raw["keystead_1_worker"], raw["keystead_2_workers"] = _raw(t1), _raw(t2)

        # 4. 1,000,000 stored grants vs the (nearly) empty store of phase 1.
        if "grants_1m" in chosen:
            print(f"\n== keystead with {args.grants:,} stored grants vs empty ==", flush=True)
            big = Keystead(workdir, label="-1m")
            big_creds = big.provision(user=True)
            t0 = time.perf_counter()
            seed = subprocess.run(  # noqa: S603
                [
                    sys.executable,
                    "-m",
                    "bench.seed",
                    "--data-dir",
                    str(big.data_dir),
                    "--grants",
                    str(args.grants),
                ],
                cwd=ROOT,
                env=big.env,
                capture_output=True,
                text=True,
                check=False,
            )
            if seed.returncode != 0:
                raise RuntimeError(f"bench.seed failed:\n{seed.stderr}")
            seed_s = time.perf_counter() - t0
            print(f"  {seed.stdout.strip()} (wall {seed_s:.1f} s)", flush=True)
            extra["seed_seconds"] = round(seed_s, 1)
            # The seed writes ~0.5 GB without syncing: until the kernel has written it back,
            # every write() of both servers may be throttled and every fsync waits behind it
            # (p99 ~1 s measured). That is the set-up's cost, not the store's.
            t0 = time.perf_counter()
            os.sync()
            extra["sync_seconds"] = round(time.perf_counter() - t0, 1)
            start(big, big.start)
            time.sleep(3)  # the purge on start scans the seeded tables once
            metrics = ["client_credentials", "introspection", "refresh_token", "code_flow"]
            tb = Target(big, big_creds, f"keystead ({count(args.grants)} grants)", workdir)
            te = Target(ks, creds, "keystead (empty)", workdir)
            compare([te, tb], metrics, duration, warmup)
            big_rss = big.rss_per_worker()
            big.stop()
            for metric in metrics:
                rows.append(
                    ratio_row(
                        f"{LABELS[metric]}: {count(args.grants)} grants vs empty",
                        tb.results[metric],
                        te.results[metric],
                        0.9,
                    )
                )
            extra["rss_mb_1m"] = big_rss
            raw["keystead_empty"], raw["keystead_1m"] = _raw(te), _raw(tb)

        # 5. keystead on PostgreSQL vs NOP.
        if args.pg:
            pg_phase(args, workdir, endpoint, nop, creds, rows, raw, start)

        raw["keystead"], raw["nop"] = _raw(main), _raw(other)
    except Exception:
        for server in started:
            print(
                f"--- {server.name} log ({server.log_path}) ---\n{server.log_tail()}",
                file=sys.stderr,
            )
        raise
    finally:
        for server in started:
            server.stop()
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)

    print("\n== results ==")
    print_table(rows)
    print(f"\nload average at end: {os.getloadavg()}  (the servers and wrk share this machine)")
    raw["extra"] = extra
    write(args.output or RESULTS / "latest.json", args, env, rows, raw)
    return 0


def pg_phase(
    args: argparse.Namespace,
    workdir: Path,
    endpoint: list[str],
    nop: Nop,
    _creds: Credentials,
    rows: list[Row],
    raw: dict[str, Any],
    start: Callable[[Server, Callable[[], None]], None],
) -> None:
    print("\n== keystead on PostgreSQL vs node-oidc-provider ==", flush=True)
    try:
        name, url = pg_create()
    except Exception as exc:  # noqa: BLE001
        print(f"  skipped: PostgreSQL unavailable ({exc!r})")
        return
    try:
        pg = Keystead(workdir, database_url=url, label="-pg")
        try:
            pg_creds = pg.provision(user=True)
        except RuntimeError as exc:
            print(f"  skipped: keystead does not run on PostgreSQL here ({exc})")
            return
        start(pg, pg.start)
        tp = Target(pg, pg_creds, "keystead (PostgreSQL)", workdir)
        tn = Target(nop, _creds, "nop", workdir)
        compare([tp, tn], endpoint, args.duration, args.warmup)
        for metric in endpoint:
            rows.append(
                ratio_row(
                    f"[PostgreSQL] {LABELS[metric]}",
                    tp.results[metric],
                    tn.results[metric],
                    TARGETS.get(metric),
                )
            )
        rows.append(
            Row(
                "[PostgreSQL] RSS per worker",
                max(pg.rss_per_worker()),
                None,
                f"< {RSS_LIMIT_MB:g} MB",
                max(pg.rss_per_worker()) < RSS_LIMIT_MB,
                unit="MB",
            )
        )
        pg.stop()
        raw["keystead_pg"], raw["nop_pg_phase"] = _raw(tp), _raw(tn)
    finally:
        pg_drop(name)


def flows_driver_notes(*targets: Target) -> list[str]:
    """Where the Python driver itself was near its core's limit, its figure is a floor."""
    notes = []
    for t in targets:
        for metric, m in t.results.items():
            share = m.detail.get("driver_cpu_share")
            if share is not None and share > 0.85:
                notes.append(
                    f"{t.label} {metric}: the driver used {share:.0%} of its core; "
                    "the server may be faster than measured"
                )
    return notes


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.run", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--smoke", action="store_true", help="keystead only, ~1 s per metric")
    parser.add_argument("--duration", type=float, default=None, help="seconds per measurement")
    parser.add_argument("--warmup", type=float, default=None, help="seconds of warm-up per run")
    parser.add_argument("--only", nargs="+", metavar="NAME", help=f"some of: {', '.join(ALL)}")
    parser.add_argument("--pg", action="store_true", help="also keystead on PostgreSQL")
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
    args = parser.parse_args(argv)
    if args.duration is None:
        args.duration = 1.0 if args.smoke else 10.0
    if args.warmup is None:
        args.warmup = 0.0 if args.smoke else 2.0
    return args


def main(argv: list[str] | None = None) -> int:
    global FLOW_DRIVER, REPEAT
    args = parse(argv)
    FLOW_DRIVER = args.flow_driver
    REPEAT = max(1, args.repeat)
    return smoke(args) if args.smoke else full(args)


if __name__ == "__main__":
    sys.exit(main())
