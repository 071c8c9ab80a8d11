"""The comparisons of ``python -m bench.run`` that keystead makes with itself: access log on
vs off, one worker vs two, a store of 1,000,000 grants vs an empty one."""

from __future__ import annotations

import argparse
import os
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import servers
from bench.measure import Target, compare, raw_results
from bench.report import LABELS, RSS_LIMIT_MB, Row, count, ratio_row
from bench.servers import ROOT, Credentials, Keystead, Server


@dataclass
class Context:
    """What every phase needs: the run's arguments, work dir and main keystead (SQLite,
    one worker, core 0), and where results go."""

    args: argparse.Namespace
    workdir: Path
    ks: Keystead
    creds: Credentials
    rows: list[Row]
    raw: dict[str, Any]
    extra: dict[str, Any]
    start: Callable[[Server, Callable[[], None]], None]


def logging(ctx: Context) -> None:
    """The access log on (the default, level info) vs off (level warning)."""
    args, workdir, ks, creds = ctx.args, ctx.workdir, ctx.ks, ctx.creds
    rows, start = ctx.rows, ctx.start
    duration, warmup = args.duration, args.warmup
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


def workers(ctx: Context) -> None:
    """One worker vs two (the second may use the load generator's core)."""
    args, workdir, ks, creds = ctx.args, ctx.workdir, ctx.ks, ctx.creds
    rows, raw, extra, start = ctx.rows, ctx.raw, ctx.extra, ctx.start
    duration, warmup = args.duration, args.warmup
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
    raw["keystead_1_worker"], raw["keystead_2_workers"] = raw_results(t1), raw_results(t2)


def grants_1m(ctx: Context) -> None:
    """A store of ``--grants`` grants vs the (nearly) empty one of the main phase."""
    args, workdir, ks, creds = ctx.args, ctx.workdir, ctx.ks, ctx.creds
    rows, raw, extra, start = ctx.rows, ctx.raw, ctx.extra, ctx.start
    duration, warmup = args.duration, args.warmup
    print(f"\n== keystead with {args.grants:,} stored grants vs empty ==", flush=True)
    big = Keystead(workdir, label="-1m")
    big_creds = big.provision(user=True)
    t0 = time.perf_counter()
    seed = subprocess.run(  # noqa: S603
        [
            servers.PYTHON,
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
    raw["keystead_empty"], raw["keystead_1m"] = raw_results(te), raw_results(tb)
