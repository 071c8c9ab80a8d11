"""openid-client (panva's, tests/rp_node) with its DPoP handle (``getDPoPHandle`` with a key
from ``randomDPoPKeyPair``) against a real `keystead serve` requiring DPoP nonces (RFC 9449):
the code grant, UserInfo, a refresh and UserInfo again, every request with a proof, the
nonce learnt from keystead's ``use_dpop_nonce`` answers. The tokens are bound to the
client's key: as Bearer tokens they are refused. node and npm are required."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import form_fields
from tests.e2e.serving import serving
from tests.e2e.test_openid_client_logout import node, rp_node  # noqa: F401 - the fixture
from tests.e2e.test_server_process import Cli, free_port

pytestmark = pytest.mark.timeout(180)

PASSWORD = "openid client password"
CALLBACK = "http://127.0.0.1:9/callback"  # never fetched: the code is read off the redirect


def test_openid_client_code_refresh_userinfo_with_dpop(tmp_path: Path, rp_node: Path) -> None:  # noqa: F811
    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    cli = Cli(tmp_path / "data", issuer)
    cli.env["KEYSTEAD_DPOP_REQUIRE_NONCE"] = "true"
    client = cli.json(
        "client", "create", "--name", "node RP", "--redirect-uri", CALLBACK,
        "--token-endpoint-auth-method", "none", "--skip-consent",
        "--scope", "openid profile offline_access",
    )  # fmt: skip
    user = cli.json("user", "create", "rita", "--password-stdin", stdin=PASSWORD + "\n")
    client_id = client["client_id"]
    with serving(cli, port):
        started = node("start", issuer, client_id, CALLBACK, "openid profile offline_access")
        with httpx.Client(follow_redirects=False) as browser:
            page = browser.get(started["url"])
            data = form_fields(page.text) | {"username": "rita", "password": PASSWORD}
            done = browser.post(issuer + "/login", data=data)
            assert done.status_code == 303 and done.headers["location"].startswith(CALLBACK)
        result = node(
            "dpop", issuer, client_id, CALLBACK, done.headers["location"],
            started["verifier"], started["state"], started["nonce"],
        )  # fmt: skip
        assert result["token_type"].lower() == "dpop"
        assert result["refreshed_token_type"].lower() == "dpop"
        assert result["userinfo"]["sub"] == user["sub"] == result["userinfo2"]["sub"]
        # The tokens are bound to the client's key: as Bearer they are refused ...
        for token in (result["access_token"], result["refreshed_access_token"]):
            r = httpx.get(issuer + "/userinfo", headers={"Authorization": f"Bearer {token}"})
            assert r.status_code == 401 and r.json()["error"] == "invalid_token"
            assert r.headers["www-authenticate"].startswith("DPoP ")
        # ... and the public client's refresh token too, without a proof of that key.
        r = httpx.post(
            issuer + "/token",
            data={
                "grant_type": "refresh_token",
                "refresh_token": result["refresh_token"],
                "client_id": client_id,
            },
        )
        assert r.status_code == 400 and r.json()["error"] == "invalid_dpop_proof"
