"""mTLS client metadata (RFC 8705 §2.1.2, §2.2, §3.4) through every channel: dynamic
registration (RFC 7591), the admin API and the CLI, with the refusals each one words."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from keystead.protocol.registration import mint_initial_access_token
from tests.e2e.conftest import Env
from tests.e2e.test_admin_api import ADMIN, admin, admin_token

SERVICE = {
    "client_name": "mTLS service",
    "grant_types": ["client_credentials"],
    "redirect_uris": [],
    "response_types": [],
    "token_endpoint_auth_method": "tls_client_auth",
}


@pytest.mark.anyio
async def test_dynamic_registration(env: Env) -> None:
    token, _ = await mint_initial_access_token(env.provider, expires_in=3600, reusable=True)
    headers = {"Authorization": f"Bearer {token}"}
    good = {
        **SERVICE,
        "tls_client_auth_subject_dn": "CN=svc.example.com,O=Example,C=SE",
        "tls_client_certificate_bound_access_tokens": True,
    }
    async with env.client() as http:
        created = await http.post("/register", json=good, headers=headers)
        assert created.status_code == 201, created.text
        body = created.json()
        assert body["token_endpoint_auth_method"] == "tls_client_auth"
        assert body["tls_client_auth_subject_dn"] == "CN=svc.example.com,O=Example,C=SE"
        assert body["tls_client_certificate_bound_access_tokens"] is True
        assert "client_secret" not in body or body["client_secret"] is None
        two = {**good, "tls_client_auth_san_dns": "svc.example.com"}
        refused = await http.post("/register", json=two, headers=headers)
        assert refused.status_code == 400
        assert refused.json()["error"] == "invalid_client_metadata"
        assert "exactly one" in refused.json()["error_description"]
        none = {**SERVICE}
        refused = await http.post("/register", json=none, headers=headers)
        assert refused.status_code == 400 and "tls_client_auth" in refused.text
        self_signed = {**SERVICE, "token_endpoint_auth_method": "self_signed_tls_client_auth"}
        refused = await http.post("/register", json=self_signed, headers=headers)
        assert refused.status_code == 400 and "jwks" in refused.json()["error_description"]


@pytest.mark.anyio
async def test_admin_api(env: Env) -> None:
    token = await admin_token(env)
    async with admin(env, token) as http:
        body = {**SERVICE, "tls_client_auth_san_dns": "svc.example.com"}
        created = await http.post(f"{ADMIN}/clients", json=body)
        assert created.status_code == 201, created.text
        client_id = created.json()["client_id"]
        assert created.json()["tls_client_auth_san_dns"] == "svc.example.com"
        # Switch to an IP subject: null removes the DNS name.
        changed = await http.patch(
            f"{ADMIN}/clients/{client_id}",
            json={"tls_client_auth_san_dns": None, "tls_client_auth_san_ip": "192.0.2.7"},
        )
        assert changed.status_code == 200, changed.text
        shown = changed.json()
        assert shown["tls_client_auth_san_ip"] == "192.0.2.7"
        assert "tls_client_auth_san_dns" not in shown
        bad = await http.patch(
            f"{ADMIN}/clients/{client_id}", json={"tls_client_auth_san_ip": "not-an-address"}
        )
        assert bad.status_code == 422
        assert bad.json()["errors"][0]["field"] == "tls_client_auth_san_ip"


def test_cli(run: Any, tmp_path: Path) -> None:
    created = run(
        "client",
        "create",
        *("--name", "svc", "--grant-type", "client_credentials", "--scope", ""),
        *("--token-endpoint-auth-method", "tls_client_auth"),
        *("--tls-client-auth-san-uri", "spiffe://example.org/svc"),
    )
    assert created["tls_client_auth_san_uri"] == "spiffe://example.org/svc"
    updated = run(
        "client",
        "update",
        created["client_id"],
        *("--tls-client-auth-subject-dn", "CN=svc,O=Example"),
        "--tls-client-certificate-bound-access-tokens",
    )
    assert updated["tls_client_auth_subject_dn"] == "CN=svc,O=Example"
    assert "tls_client_auth_san_uri" not in updated  # one subject: the new one replaces it
    assert updated["tls_client_certificate_bound_access_tokens"] is True
    refused = run(
        "client",
        "create",
        *("--name", "svc2", "--grant-type", "client_credentials", "--scope", ""),
        *("--token-endpoint-auth-method", "tls_client_auth"),
        ok=False,
    )
    assert "--tls-client-auth-subject-dn" in str(refused)
