"""openid-client (panva's, tests/rp_node) as the device of the device authorization grant
(RFC 8628) against a real `keystead serve`: ``initiateDeviceAuthorization``, then
``pollDeviceAuthorizationGrant`` while a scripted browser signs in at
``verification_uri_complete`` and approves; the device gets its tokens and an ID token for
the user. node and npm are required."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest

from keystead.protocol.device_authorization import GRANT_TYPE
from tests.e2e.conftest import form_fields
from tests.e2e.serving import serving
from tests.e2e.test_openid_client_logout import RP_DIR, rp_node  # noqa: F401 - the fixture
from tests.e2e.test_server_process import Cli, free_port

pytestmark = pytest.mark.timeout(180)
PASSWORD = "device user password"


def approve_in_browser(url: str, username: str) -> httpx.Response:
    """A person at a browser: verification_uri_complete, sign in, back at /device with the
    code filled in, see who asks, approve."""
    with httpx.Client(follow_redirects=True, timeout=20) as browser:
        login = browser.get(url)
        assert 'name="password"' in login.text, login.text[:500]
        fields = {**form_fields(login.text), "username": username, "password": PASSWORD}
        entry = browser.post(str(login.url.join("/login")), data=fields)
        assert "/device?user_code=" in str(entry.url), entry.text[:500]
        confirm = browser.post(str(entry.url.copy_with(query=None)), data=form_fields(entry.text))
        assert "TV app" in confirm.text, confirm.text[:500]
        data = {**form_fields(confirm.text), "decision": "approve"}
        return browser.post(str(entry.url.copy_with(query=None)), data=data)


def test_openid_client_device_flow(tmp_path: Path, rp_node: Path) -> None:  # noqa: F811
    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    cli = Cli(tmp_path / "data", issuer)
    tv = cli.json(
        "client", "create", "--name", "TV app", "--token-endpoint-auth-method", "none",
        "--grant-type", GRANT_TYPE, "--grant-type", "refresh_token",
    )  # fmt: skip
    user = cli.json("user", "create", "tess", "--password-stdin", stdin=PASSWORD + "\n")
    with serving(cli, port):
        device = subprocess.Popen(
            ["node", "rp.mjs", "device", issuer, tv["client_id"]],
            cwd=RP_DIR, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            assert device.stdout is not None
            shown: dict[str, Any] = json.loads(device.stdout.readline())
            assert shown["verification_uri"] == issuer + "/device"
            done = approve_in_browser(shown["verification_uri_complete"], "tess")
            assert done.status_code == 200 and "Device connected" in done.text
            out, err = device.communicate(timeout=60)
        finally:
            device.kill()
    assert device.returncode == 0, err
    tokens = json.loads(out)
    assert tokens["token_type"].lower() == "bearer" and tokens["refresh_token"]
    assert tokens["claims"]["sub"] == user["sub"] and tokens["claims"]["iss"] == issuer
    assert tokens["claims"]["amr"] == ["pwd"]
