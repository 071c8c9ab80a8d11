"""keystead/serving.py: the process `keystead serve` becomes. (tests/e2e/test_server_process.py
starts it for real: the demo quickstart checks the exec, the pipe and a whole login.)"""

from __future__ import annotations

import subprocess
import sys

from keystead.services.demo import DemoData
from keystead.serving import _demo_pipe, _read_demo, uvicorn_options


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
