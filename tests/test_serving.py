"""keystead/serving.py: the process `keystead serve` becomes. (tests/e2e/test_server_process.py
starts it for real: the demo quickstart checks the exec, the pipe and a whole login.)"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from keystead.services.demo import DemoData
from keystead.serving import (
    ALLOCATOR_TUNABLES,
    _demo_pipe,
    _read_demo,
    allocator_tunables,
    uvicorn_options,
)


def test_the_serving_process_loads_no_command_line() -> None:
    # Its reason to exist: the serving stack without Typer and the command modules.
    probe = (
        "import sys, keystead.serving, keystead.app, keystead.web.forwarded;"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'typer'"
        " or m.startswith('keystead.cli')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "[]", out.stdout


def test_demo_data_arrives_through_the_pipe() -> None:
    demo = DemoData("demo-app", "s3cret", "http://127.0.0.1:1/demo/callback", "demo", "pw")
    assert _read_demo(_demo_pipe(demo)) == demo


def test_uvicorn_options_keep_the_edge_settings(tmp_path) -> None:
    from keystead.config import Settings

    options = uvicorn_options(Settings(data_dir=tmp_path), "0.0.0.0", 8443, "warning")  # noqa: S104
    assert options["http"] == "keystead.web.wire:JoinedWritesProtocol"
    assert options["proxy_headers"] is False  # web/forwarded.py decides whom to believe
    assert options["server_header"] is False
    assert options["access_log"] is False
    assert (options["host"], options["port"], options["log_level"]) == ("0.0.0.0", 8443, "warning")  # noqa: S104


def _glibc_with_hugetlb() -> bool:
    try:
        name, _, version = os.confstr("CS_GNU_LIBC_VERSION").partition(" ")
    except (ValueError, OSError, AttributeError):
        return False
    return name == "glibc" and tuple(int(p) for p in version.split(".")[:2]) >= (2, 35)


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("always [madvise] never\n", ALLOCATOR_TUNABLES),
        ("[always] madvise never\n", ALLOCATOR_TUNABLES),
        ("always madvise [never]\n", None),  # 4 KiB faults on every verification: leave it
    ],
)
def test_allocator_tunables_need_huge_pages(tmp_path, mode: str, expected: str | None) -> None:
    thp = tmp_path / "enabled"
    thp.write_text(mode)
    got = allocator_tunables({}, thp_enabled=str(thp))
    assert got == (expected if _glibc_with_hugetlb() else None)


def test_allocator_tunables_leave_the_operators_own(tmp_path) -> None:
    thp = tmp_path / "enabled"
    thp.write_text("always [madvise] never\n")
    assert allocator_tunables({"GLIBC_TUNABLES": "glibc.malloc.arena_max=2"}, str(thp)) is None
    assert allocator_tunables({}, str(tmp_path / "missing")) is None  # no THP to be had
