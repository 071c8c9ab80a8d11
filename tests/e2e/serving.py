"""A real `keystead serve` process for the browser and client-library tests: started on
127.0.0.1:PORT with the CLI's environment (its KEYSTEAD_ISSUER may say localhost), ready once
its JWKS answers, stopped at the end."""

from __future__ import annotations

import contextlib
import subprocess
import time
from collections.abc import Iterator

import httpx

from tests.e2e.test_server_process import KEYSTEAD, Cli


@contextlib.contextmanager
def serving(cli: Cli, port: int, *, within: float = 30) -> Iterator[subprocess.Popen[bytes]]:
    issuer = cli.env["KEYSTEAD_ISSUER"]
    server = subprocess.Popen(
        [*KEYSTEAD, "serve", "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
        env=cli.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + within
        while True:
            try:
                httpx.get(issuer + "/jwks").raise_for_status()
                break
            except httpx.HTTPError:
                assert server.poll() is None, "keystead exited"
                assert time.monotonic() < deadline, "keystead did not start"
                time.sleep(0.1)
        yield server
    finally:
        server.terminate()
        server.wait(10)
