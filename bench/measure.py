"""Measuring one metric against one server, and metric by metric against several
(``compare``): the part of ``python -m bench.run`` that drives the load (bench/wrk.py for
single-request endpoints and code flows, bench/flows.py for the other multi-step flows)."""

from __future__ import annotations

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
    OPAQUE_API,
    OPAQUE_SCOPE,
    REDIRECT_URI,
    Credentials,
    Server,
    SystemService,
)
from bench.wrk import Measurement

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


@dataclass
class Target:
    """A running server, its credentials and what its measurements need."""

    server: Server
    creds: Credentials
    label: str  # "keystead", "nop", "keystead (1M grants)" ...
    workdir: Path
    # The store's processes (NOP's Redis, keystead's PostgreSQL): their CPU is recorded
    # beside the server's, not added to it.
    backing: Server | SystemService | None = None
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
            redirect_uri=REDIRECT_URI,
            verifier=flows.VERIFIER,
        )
        before_run()
        return wrk.run(issuer + "/token", seconds, authorization=t.basic, code_flow=flow)
    if metric == "password_login":
        before_run()
        m = flows.run(flows.password_logins(t.server, t.creds, seconds, 8))
        return m
    raise ValueError(metric)


def compare(
    targets: list[Target],
    metrics: list[str],
    duration: float,
    warmup: float,
    after_round: Callable[[], None] | None = None,
) -> None:
    """Each metric on each server in turn (warm-up run first, not recorded), ``REPEAT``
    rounds; each server's run with the median rate is the one reported (the others' rates
    are kept in its ``rates_of_runs``): on a machine whose speed drifts, one round can land
    on a slow minute for one server only. ``after_round`` runs after each round (a
    reference measured alternately with the servers, as the argon2id limit is)."""
    for metric in metrics:
        runs: dict[str, list[Measurement]] = {t.label: [] for t in targets}
        for round_ in range(REPEAT):
            for t in targets:
                runs[t.label].append(_measured(t, metric, duration, warmup if round_ == 0 else 0))
            if after_round is not None:
                after_round()
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
    backing = t.backing

    def mark(t: Target = t, before: list[float] = before) -> None:
        before[:] = [
            t.server.cpu_seconds(),
            time.perf_counter(),
            backing.cpu_seconds() if backing else 0.0,
        ]

    m = measure(t, metric, duration, before_run=mark)
    used = t.server.cpu_seconds() - before[0]
    if backing is not None and m.ok:
        m.detail["backing_cpu_us_per_op"] = round(
            1e6 * (backing.cpu_seconds() - before[2]) / m.ok, 1
        )
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


def raw_results(t: Target) -> dict[str, Any]:
    return {metric: m.as_json() for metric, m in t.results.items()}
