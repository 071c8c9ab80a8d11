"""The client metadata of PAR, JAR and JARM through every channel that sets it: dynamic
registration (RFC 7591), the command line (``--require-par`` ...) and the admin API — and
what a refusal says."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from joserfc.jwk import ECKey

from keystead.protocol.registration import mint_initial_access_token
from tests.e2e.conftest import REDIRECT_URI, Env
from tests.e2e.test_admin_api import ADMIN, admin, admin_token

pytestmark = pytest.mark.anyio

JWKS = {"keys": [ECKey.generate_key("P-256").as_dict(private=False)]}


async def test_dynamic_registration(env: Env) -> None:
    token, _ = await mint_initial_access_token(env.provider, expires_in=3600, reusable=True)
    base: dict[str, Any] = {"redirect_uris": [REDIRECT_URI], "jwks": JWKS}
    wanted = {
        "request_uris": ["https://rp.example.com/ro/1"],
        "request_object_signing_alg": "ES256",
        "authorization_signed_response_alg": "PS256",
        "require_pushed_authorization_requests": True,
    }
    async with env.client(headers={"Authorization": f"Bearer {token}"}) as http:
        r = await http.post("/register", json=base | wanted)
        assert r.status_code == 201, r.text
        assert {k: r.json()[k] for k in wanted} == wanted
        bad = await http.post(
            "/register", json=base | {"authorization_signed_response_alg": "none"}
        )
        assert bad.status_code == 400 and bad.json()["error"] == "invalid_client_metadata"
        assert "authorization_signed_response_alg" in bad.json()["error_description"]
        keyless = await http.post(
            "/register",
            json={"redirect_uris": [REDIRECT_URI], "request_object_signing_alg": "ES256"},
        )
        assert keyless.status_code == 400 and "jwks" in keyless.json()["error_description"]
    client = await env.provider.store.clients.get(r.json()["client_id"])
    assert client is not None and client.extra["require_pushed_authorization_requests"] is True


def test_command_line(run: Any, tmp_path: Path) -> None:
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps(JWKS))
    created = run(
        "client", "create", "--name", "PAR app", "--redirect-uri", REDIRECT_URI,
        "--jwks", str(jwks), "--require-par", "--request-object-signing-alg", "ES256",
        "--request-uri", "https://rp.example.com/ro/1",
        "--authorization-signed-response-alg", "ES256",
    )  # fmt: skip
    assert created["require_pushed_authorization_requests"] is True
    assert created["request_uris"] == ["https://rp.example.com/ro/1"]
    client_id = created["client_id"]
    updated = run("client", "update", client_id, "--no-require-par")
    assert "require_pushed_authorization_requests" not in updated
    assert updated["request_object_signing_alg"] == "ES256"  # untouched
    out = run("client", "update", client_id, "--request-object-signing-alg", "HS256", ok=False)
    assert "--request-object-signing-alg" in out


async def test_admin_api(env: Env) -> None:
    token = await admin_token(env)
    async with admin(env, token) as http:
        r = await http.post(
            f"{ADMIN}/clients",
            json={
                "client_name": "Admin-made",
                "redirect_uris": [REDIRECT_URI],
                "require_pushed_authorization_requests": True,
                "authorization_signed_response_alg": "ES256",
            },
        )
        assert r.status_code == 201, r.text
        client_id = r.json()["client_id"]
        assert r.json()["require_pushed_authorization_requests"] is True
        patched = await http.patch(
            f"{ADMIN}/clients/{client_id}", json={"require_pushed_authorization_requests": None}
        )
        assert patched.status_code == 200, patched.text
        assert "require_pushed_authorization_requests" not in patched.json()
        assert patched.json()["authorization_signed_response_alg"] == "ES256"
