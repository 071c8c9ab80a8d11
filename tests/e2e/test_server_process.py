"""The real thing: `keystead` CLI commands and `keystead serve` in a separate process, driven
over TCP by Authlib's client and a form-following browser."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from authlib.integrations.httpx_client import OAuth2Client

from keystead.serving import allocator_tunables
from tests.e2e.conftest import form_action, form_fields, query_of

KEYSTEAD = [sys.executable, "-m", "keystead"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Cli:
    def __init__(self, data_dir: Path, issuer: str) -> None:
        self.env = {**os.environ, "KEYSTEAD_DATA_DIR": str(data_dir), "KEYSTEAD_ISSUER": issuer}

    def run(self, *args: str, stdin: str = "", ok: bool = True) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            [*KEYSTEAD, *args],
            input=stdin,
            capture_output=True,
            text=True,
            env=self.env,
            timeout=60,
            check=False,
        )
        if ok:
            assert proc.returncode == 0, proc.stderr
        return proc

    def json(self, *args: str, stdin: str = "") -> Any:
        return json.loads(self.run(*args, "--json", stdin=stdin).stdout)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[Cli, str, list[str]]]:
    """(cli, issuer, serve-extra-args) — the server is started by `start`."""
    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    cli = Cli(tmp_path / "data", issuer)
    procs: list[subprocess.Popen[str]] = []

    def start(*extra: str) -> subprocess.Popen[str]:
        proc = subprocess.Popen(
            [*KEYSTEAD, "serve", "--port", str(port), "--log-level", "warning", *extra],
            env=cli.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        procs.append(proc)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(issuer + "/.well-known/openid-configuration").status_code == 200:
                    return proc
            except httpx.TransportError:
                time.sleep(0.1)
            assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
        raise AssertionError("server did not start")

    cli.start = start  # type: ignore[attr-defined]
    yield cli, issuer, []
    for proc in procs:
        proc.terminate()
        proc.wait(10)
        if proc.stdout:
            proc.stdout.close()


def browser_login(http: httpx.Client, url: str, username: str, password: str) -> httpx.Response:
    page = http.get(url)
    assert page.status_code == 200, page.text[:300]
    data = {**form_fields(page.text), "username": username, "password": password}
    page = http.post(form_action(page.text), data=data)
    if 'name="decision"' in page.text:
        page = http.post(
            form_action(page.text), data={**form_fields(page.text), "decision": "approve"}
        )
    return page


def test_cli_and_server_full_flow(server: tuple[Cli, str, list[str]]) -> None:
    cli, issuer, _ = server
    created = cli.json(
        "client",
        "create",
        "--name",
        "CLI App",
        "--redirect-uri",
        "https://rp.example.com/cb",
        "--scope",
        "openid email",
        "--token-endpoint-auth-method",
        "client_secret_basic",
    )
    assert created["client_secret"] and created["id_token_signed_response_alg"] == "ES256"
    shown = cli.json("client", "show", created["client_id"])
    assert "client_secret" not in shown  # shown once only
    user = cli.json(
        "user",
        "create",
        "erin",
        "--password-stdin",
        "--email",
        "erin@example.com",
        "--name",
        "Erin",
        stdin="erins long password\n",
    )
    assert user["email_verified"] is False
    assert [u["username"] for u in cli.json("user", "list")["users"]] == ["erin"]

    cli.start()  # type: ignore[attr-defined]
    meta = httpx.get(issuer + "/.well-known/openid-configuration").json()
    assert meta["issuer"] == issuer
    rp = OAuth2Client(
        client_id=created["client_id"],
        client_secret=created["client_secret"],
        scope="openid email",
        redirect_uri="https://rp.example.com/cb",
        code_challenge_method="S256",
    )
    verifier = "k" * 64
    url, state = rp.create_authorization_url(
        meta["authorization_endpoint"], code_verifier=verifier, nonce="nn"
    )
    with httpx.Client(follow_redirects=False) as http:
        done = browser_login(http, url, "erin", "erins long password")
    assert done.status_code == 303
    token = rp.fetch_token(
        meta["token_endpoint"],
        authorization_response=done.headers["location"],
        code_verifier=verifier,
    )
    info = rp.get(meta["userinfo_endpoint"]).json()
    assert info["email"] == "erin@example.com" and info["sub"] == user["sub"]
    assert token["id_token"].count(".") == 2

    # a password change from the CLI applies to the running server
    cli.run("user", "set-password", "erin", "--password-stdin", stdin="a brand new password\n")
    with httpx.Client(follow_redirects=False) as http:
        url, _ = rp.create_authorization_url(meta["authorization_endpoint"], code_verifier=verifier)
        page = browser_login(http, url, "erin", "erins long password")
        assert "Incorrect username or password." in page.text
    # deleting a client stops it at once for new authorizations (cache is a few seconds at most)
    cli.json("client", "delete", created["client_id"])
    time.sleep(6)
    r = httpx.get(url)
    assert r.status_code == 400


def test_cli_refuses_bad_input_clearly(server: tuple[Cli, str, list[str]]) -> None:
    cli, _, _ = server
    bad = cli.run(
        "client", "create", "--name", "X", "--redirect-uri", "http://rp.example.com/cb", ok=False
    )
    assert bad.returncode == 1 and "use https" in bad.stderr
    short = cli.run("user", "create", "x", "--password-stdin", stdin="short\n", ok=False)
    assert short.returncode == 1 and "at least 8" in short.stderr
    cli.run("user", "create", "y", "--password-stdin", stdin="long enough pw\n")
    dup = cli.run("user", "create", "y", "--password-stdin", stdin="long enough pw\n", ok=False)
    assert "already exists" in dup.stderr
    missing = cli.run("client", "show", "nope", ok=False)
    assert missing.returncode == 1


def test_demo_quickstart(server: tuple[Cli, str, list[str]]) -> None:
    cli, issuer, _ = server
    proc = cli.start("--demo")  # type: ignore[attr-defined]
    assert proc.stdout is not None
    banner = ""
    while "user:" not in banner:
        banner += proc.stdout.readline()
    password = re.search(r"user:\s+demo / (\S+)", banner)
    assert password, banner
    # `serve` replaced itself (same pid) with the lean serving process (keystead/serving.py);
    # the demo's secret and password reached it through a pipe, not its command line or
    # environment (which other tools on the machine can read).
    secret = re.search(r"client_secret:\s+(\S+)", banner)
    assert secret, banner
    cmdline = Path(f"/proc/{proc.pid}/cmdline").read_bytes()
    assert b"keystead.serving" in cmdline, cmdline
    environ = Path(f"/proc/{proc.pid}/environ").read_bytes()
    for text in (cmdline, environ):
        assert password.group(1).encode() not in text
        assert secret.group(1).encode() not in text
    # ... and with glibc's allocator set for argon2id's buffers where huge pages are had
    # (glibc cuts the variable short in place as it parses it: only its name is compared).
    has_tunables = any(e.startswith(b"GLIBC_TUNABLES=") for e in environ.split(b"\0"))
    assert has_tunables == (allocator_tunables(cli.env) is not None)
    with httpx.Client(follow_redirects=True) as http:
        start = http.get(issuer + "/demo")
        data = {**form_fields(start.text), "username": "demo", "password": password.group(1)}
        consent = http.post(form_action(start.text), data=data)
        result = http.post(
            form_action(consent.text), data={**form_fields(consent.text), "decision": "approve"}
        )
    assert result.status_code == 200
    assert "demo@example.com" in result.text  # userinfo fetched by the demo RP


def test_key_rotation_publishes_before_signing(server: tuple[Cli, str, list[str]]) -> None:
    cli, issuer, _ = server
    cli.run("init")
    before = {k["kid"] for k in cli.json("keys", "list")}
    rotated = cli.json("keys", "rotate", "--alg", "ES256")
    assert rotated[0]["status"] == "next"
    cli.start()  # type: ignore[attr-defined]
    published = {k["kid"] for k in httpx.get(issuer + "/jwks").json()["keys"]}
    assert rotated[0]["kid"] in published and before <= published
    statuses = {k["kid"]: k["status"] for k in cli.json("keys", "list")}
    assert statuses[rotated[0]["kid"]] == "next"
    assert query_of("x?a=1") == {"a": "1"}
