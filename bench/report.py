"""The results of ``python -m bench.run``: the rates of every server side by side
(``print_columns``), the ratio rows with their targets (``Row``, ``print_table``) and the
JSON file with every raw figure (``write``)."""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import servers, wrk
from bench.measure import Target
from bench.servers import NOP_DIR, ROOT, can_pin
from bench.wrk import Measurement
from keystead.serving import serving_environ

LABELS = {
    "client_credentials": "client_credentials tokens/s",
    "refresh_token": "refresh_token/s",
    "introspection": "introspection/s",
    "jwks": "JWKS/s",
    "code_flow": "code flows/s (SSO session)",
    "password_login": "password logins/s",
}
RSS_LIMIT_MB = 120.0


@dataclass
class Row:
    metric: str
    keystead: float | None
    reference: float | None  # NOP, the argon2id limit, or the keystead baseline the metric names
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


def lat(m: Measurement | None) -> tuple[float, float] | None:
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
        keystead_latency=lat(ks),
        reference_latency=lat(ref),
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


def print_columns(targets: list[Target], metrics: list[str], labels: dict[str, str]) -> None:
    """Each metric's rate on every server side by side, with its p99 latency and the
    server's CPU per operation (+ its store's: Redis, PostgreSQL)."""

    def cell(m: Measurement | None) -> str:
        if m is None:
            return "—"
        cpu = m.detail.get("cpu_us_per_op") or 0
        backing = m.detail.get("backing_cpu_us_per_op")
        cpu_text = f"{cpu:.0f}" + (f"+{backing:.0f}" if backing is not None else "")
        failed = f", {m.failures} FAILED" if m.failures else ""
        return f"{m.rate:,.1f}  (p99 {m.p99_ms:.1f} ms, {cpu_text} µs CPU{failed})"

    lines = [("metric /s", *(t.label for t in targets))]
    lines += [(labels[m], *(cell(t.results.get(m)) for t in targets)) for m in metrics]
    print_columns_of(lines)
    print(
        "µs CPU: the server's CPU time per operation (+ its store's: redis-server for "
        "NOP+Redis, every postgres process for keystead PostgreSQL)"
    )


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
    print_columns_of(lines)
    print(
        "ratio: keystead ÷ NOP (or ÷ the limit or baseline the row names); per core: the same "
        "ratio of CPU time per operation (what one full core would give each; less sensitive to "
        "other load)"
    )
    for r in rows:
        if r.note:
            print(f"  note: {r.metric}: {r.note}")


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
        # The interpreter keystead's processes ran on (--python), and its version line.
        "keystead_python": {"path": servers.PYTHON, "version": args.keystead_python},
        # glibc's allocator settings of keystead's serving processes (keystead/serving.py sets
        # them for argon2id's buffers unless GLIBC_TUNABLES is given): None for the defaults.
        "keystead_glibc_tunables": serving_environ(os.environ).get("GLIBC_TUNABLES"),
        "node": out(["node", "--version"]),
        "oidc_provider": nop_version,
        "redis_server": out(["redis-server", "--version"]),
        "wrk": out(["wrk", "--version"]),
        "duration_s": args.duration,
        "connections": wrk.CONNECTIONS,
    }


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


def print_columns_of(lines: Sequence[Sequence[str]]) -> None:
    """Plain-text columns, the first line a heading underlined with dashes."""
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]
    for n, line in enumerate(lines):
        print("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)))
        if n == 0:
            print("  ".join("-" * w for w in widths))
