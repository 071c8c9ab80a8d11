"""openid-client (panva's, tests/rp_node) as the relying party of a real `keystead serve`:
discovery, the code flow with PKCE, state and nonce, its ID token checks, then RP-Initiated
Logout through the end-session URL it builds — after which the client's back-channel
receiver has a verified logout token for the session and `prompt=none` says login_required.
node and npm are required (npm ci from tests/rp_node/package-lock.json); never skipped."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.e2e.conftest import form_fields
from tests.e2e.logout_receiver import Receiver, check_logout_token
from tests.e2e.serving import serving
from tests.e2e.test_server_process import Cli, free_port

pytestmark = pytest.mark.timeout(180)

RP_DIR = Path(__file__).resolve().parents[1] / "rp_node"
PASSWORD = "openid client password"
CALLBACK = "http://127.0.0.1:9/callback"  # never fetched: the code is read off the redirect
BYE = "http://127.0.0.1:9/bye"


@pytest.fixture(scope="session")
def rp_node() -> Path:
    if not (RP_DIR / "node_modules" / "openid-client").is_dir():
        npm = shutil.which("npm")
        if npm is None:
            pytest.fail("npm is required for the openid-client test (apt-get install npm)")
        proc = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"],
            cwd=RP_DIR, capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip
        assert proc.returncode == 0, f"npm ci failed:\n{proc.stdout}\n{proc.stderr}"
    return RP_DIR


def run_rp(script: str, *args: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    """One step of an openid-client script in tests/rp_node: its JSON answer."""
    proc = subprocess.run(
        ["node", script, *args], cwd=RP_DIR, capture_output=True, text=True, timeout=60,
        check=False, env=env,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    result: dict[str, Any] = json.loads(proc.stdout)
    return result


def node(*args: str) -> dict[str, Any]:
    return run_rp("rp.mjs", *args)


@pytest.fixture
def served(tmp_path: Path, rp_node: Path) -> Iterator[tuple[str, str, Receiver]]:
    with Receiver() as receiver:
        port = free_port()
        issuer = f"http://127.0.0.1:{port}"
        cli = Cli(tmp_path / "data", issuer)
        cli.env["KEYSTEAD_ALLOW_PRIVATE_NETWORK_FETCH"] = "true"  # the receiver is on loopback
        client = cli.json(
            "client", "create", "--name", "node RP", "--redirect-uri", CALLBACK,
            "--token-endpoint-auth-method", "none", "--skip-consent", "--scope", "openid profile",
            "--post-logout-redirect-uri", BYE,
            "--backchannel-logout-uri", receiver.uri("node"),
            "--backchannel-logout-session-required",
        )  # fmt: skip
        cli.json("user", "create", "rita", "--password-stdin", stdin=PASSWORD + "\n")
        with serving(cli, port):
            yield issuer, client["client_id"], receiver


def test_openid_client_signs_in_and_logs_out(served: tuple[str, str, Receiver]) -> None:
    issuer, client_id, receiver = served
    started = node("start", issuer, client_id, CALLBACK)
    with httpx.Client(follow_redirects=False) as browser:
        page = browser.get(started["url"])
        assert page.status_code == 200 and 'name="password"' in page.text
        data = form_fields(page.text) | {"username": "rita", "password": PASSWORD}
        action = issuer + "/login"
        done = browser.post(action, data=data)
        assert done.status_code == 303 and done.headers["location"].startswith(CALLBACK)
        finished = node(
            "finish", issuer, client_id, CALLBACK, done.headers["location"],
            started["verifier"], started["state"], started["nonce"], BYE,
        )  # fmt: skip
        claims = finished["claims"]
        assert claims["iss"] == issuer and claims["aud"] == client_id and claims["sid"]
        assert claims["amr"] == ["pwd"] and claims["acr"] == "1"
        out = browser.get(finished["end_session_url"])  # id_token_hint: no confirmation
        assert out.status_code == 303
        assert parse_qs(urlsplit(out.headers["location"]).query)["state"] == ["bye-state"]
        assert out.headers["location"].startswith(BYE)
        silent = browser.get(started["url"].replace("&state=", "&prompt=none&state=", 1))
        assert parse_qs(urlsplit(silent.headers["location"]).query)["error"] == ["login_required"]
    deadline = time.monotonic() + 20  # the server's outbox sends it (it polls every 2 s)
    while not receiver.tokens("node") and time.monotonic() < deadline:
        time.sleep(0.1)
    [token] = receiver.tokens("node")
    keys = httpx.get(issuer + "/jwks").json()
    logout = check_logout_token(token, keys, issuer=issuer, client_id=client_id)
    assert logout["sid"] == claims["sid"] and logout["sub"] == claims["sub"]
