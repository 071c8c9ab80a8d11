"""Trusted issuers and the token_exchange policy through both operator channels: the command
line (``keystead trusted-issuer ...``, ``keystead client create|update --grant-type
urn:...:token-exchange --token-exchange-...``) and the admin API (/admin/api/trusted-issuers,
the client member ``token_exchange``), with the refusals naming the flag or field."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from joserfc.jwk import ECKey

from keystead.protocol.grants.jwt_bearer import GRANT_TYPE as JWT_BEARER
from keystead.protocol.grants.token_exchange import GRANT_TYPE as TOKEN_EXCHANGE
from tests.e2e.conftest import Env
from tests.e2e.test_admin_api import ADMIN, admin, admin_token

pytestmark = pytest.mark.anyio

PUBLIC_JWK = ECKey.generate_key("P-256", parameters={"kid": "k1"}).as_dict(private=False)


def test_cli_trusted_issuer_and_client_policy(run: Any, tmp_path: Path) -> None:
    api = run("api", "create", "--identifier", "https://orders.example", "--scope", "o:read")
    client = run(
        "client",
        "create",
        *("--name", "orders-svc", "--scope", "o:read"),
        *("--grant-type", TOKEN_EXCHANGE, "--grant-type", JWT_BEARER),
        *("--token-exchange-audience", api["identifier"], "--token-exchange-delegate"),
    )
    assert set(client["grant_types"]) == {TOKEN_EXCHANGE, JWT_BEARER}
    assert client["token_exchange"] == {
        "audiences": ["https://orders.example"],
        "impersonate": False,
        "delegate": True,
    }
    cid = client["client_id"]
    updated = run("client", "update", cid, "--token-exchange-impersonate")
    assert updated["token_exchange"]["impersonate"] is True
    assert updated["token_exchange"]["delegate"] is True  # unchanged: only given flags change
    assert updated["token_exchange"]["audiences"] == ["https://orders.example"]
    words = run("client", "update", cid, "--token-exchange-audience", "not-a-uri", ok=False)
    assert "--token-exchange-audience" in words

    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps({"keys": [PUBLIC_JWK]}))
    issuer = run(
        "trusted-issuer",
        "create",
        *("--issuer", "https://idp.example", "--jwks", str(jwks)),
        *("--subject-mapping", "email", "--client", cid),
    )
    assert issuer["subject_mapping"] == "email" and issuer["allowed_client_ids"] == [cid]
    assert run("trusted-issuer", "show", "https://idp.example")["issuer_id"] == issuer["issuer_id"]
    assert [i["issuer"] for i in run("trusted-issuer", "list")] == ["https://idp.example"]
    # refusals name the flag
    words = run("trusted-issuer", "create", "--issuer", "https://b.example", ok=False)
    assert "--jwks" in words
    words = run(
        "trusted-issuer",
        "create",
        *("--issuer", "https://c.example", "--jwks-uri", "https://c.example/jwks"),
        *("--subject-mapping", "phone"),
        ok=False,
    )
    assert "--subject-mapping" in words
    words = run(
        "trusted-issuer",
        "create",
        *("--issuer", "https://idp.example", "--jwks-uri", "https://c.example/jwks"),
        ok=False,
    )
    assert "already trusted" in words
    words = run(
        "trusted-issuer",
        "create",
        *("--issuer", "https://d.example", "--jwks-uri", "https://d.example/jwks"),
        *("--client", "nobody"),
        ok=False,
    )
    assert "--client" in words
    assert run("trusted-issuer", "delete", issuer["issuer_id"]) == {"deleted": issuer["issuer_id"]}
    assert run("trusted-issuer", "list") == []


async def test_admin_api_trusted_issuers_and_policy(env: Env) -> None:
    token = await admin_token(env)
    async with admin(env, token) as http:
        r = await http.post(
            f"{ADMIN}/clients",
            json={
                "client_name": "svc",
                "redirect_uris": [],
                "response_types": [],
                "grant_types": [TOKEN_EXCHANGE],
                "token_exchange": {"audiences": ["https://a.example"], "impersonate": True},
            },
        )
        assert r.status_code == 201, r.text
        client = r.json()
        assert client["token_exchange"] == {
            "audiences": ["https://a.example"],
            "impersonate": True,
            "delegate": False,
        }
        r = await http.patch(
            f"{ADMIN}/clients/{client['client_id']}", json={"token_exchange": {"nope": 1}}
        )
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "token_exchange"

        body = {
            "issuer": "https://idp.example",
            "jwks": {"keys": [PUBLIC_JWK]},
            "allowed_client_ids": [client["client_id"]],
        }
        r = await http.post(f"{ADMIN}/trusted-issuers", json=body)
        assert r.status_code == 201, r.text
        issuer_id = r.json()["issuer_id"]
        assert r.headers["location"].endswith(f"/trusted-issuers/{issuer_id}")
        r = await http.post(f"{ADMIN}/trusted-issuers", json={**body, "jwks": {"keys": "x"}})
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "jwks"
        private = {"keys": [{**PUBLIC_JWK, "d": "AAAA"}]}
        r = await http.post(
            f"{ADMIN}/trusted-issuers",
            json={**body, "issuer": "https://x.example", "jwks": private},
        )
        assert r.status_code == 422 and "private" in r.text
        listed = (await http.get(f"{ADMIN}/trusted-issuers")).json()
        assert [i["issuer_id"] for i in listed["items"]] == [issuer_id]
        assert (await http.get(f"{ADMIN}/trusted-issuers/{issuer_id}")).status_code == 200
        assert (await http.delete(f"{ADMIN}/trusted-issuers/{issuer_id}")).status_code == 204
        assert (await http.get(f"{ADMIN}/trusted-issuers/{issuer_id}")).status_code == 404
        doc = (await http.get(f"{ADMIN}/openapi.json")).json()
        assert "/trusted-issuers/{issuer_id}" in doc["paths"]
