"""The admin API's second-factor operations (/users/{sub}/factors, /factors/totp) and the
client policy require_mfa: the admin guard (401 without a token, 403 without keystead:admin),
the admin error shape (404 unknown sub, 422 per field for a bad secret, 409 for a second app),
imported secrets whose codes verify, audit events naming the caller."""

from __future__ import annotations

import time

import pyotp
import pytest

from keystead.accounts import totp
from tests.e2e.conftest import Env
from tests.e2e.test_admin_api import ADMIN, admin, admin_token

pytestmark = pytest.mark.anyio


@pytest.fixture
async def token(env: Env) -> str:
    return await admin_token(env)


async def test_import_list_reset(env: Env, token: str) -> None:
    sub = await env.add_user()
    secret = pyotp.random_base32()
    async with admin(env, token) as http:
        r = await http.get(f"{ADMIN}/users/{sub}/factors")
        assert r.status_code == 200, r.text
        assert r.json() == {
            "sub": sub,
            "factors": [],
            "recovery_codes": {"left": 0, "generated_at": None, "last_used_at": None},
        }
        r = await http.put(
            f"{ADMIN}/users/{sub}/factors/totp", json={"secret": secret.lower(), "name": "Phone"}
        )
        assert r.status_code == 201, r.text
        factor = r.json()
        assert factor["kind"] == "totp" and factor["name"] == "Phone"
        assert set(factor) == {"factor_id", "kind", "name", "created_at", "last_used_at"}
        assert r.headers["location"] == env.settings.url(f"{ADMIN}/users/{sub}/factors")
        assert r.headers["cache-control"] == "no-store"

        (stored,) = await env.provider.store.factors.list(sub)
        assert stored.factor_id == factor["factor_id"] and stored.secret_enc
        unsealed = totp.unseal(env.provider.kek, sub, stored.secret_enc)
        now = int(time.time())
        assert totp.matching_step(unsealed, pyotp.TOTP(secret).at(now), now) == totp.step_of(now)

        r = await http.put(f"{ADMIN}/users/{sub}/factors/totp", json={"secret": secret})
        assert r.status_code == 409 and "already has an authenticator app" in r.text
        listed = (await http.get(f"{ADMIN}/users/{sub}/factors")).json()
        assert [f["factor_id"] for f in listed["factors"]] == [factor["factor_id"]]
        assert stored.secret_enc not in str(listed) and secret not in str(listed)

        r = await http.delete(f"{ADMIN}/users/{sub}/factors")
        assert r.status_code == 200, r.text
        assert r.json() == {"sub": sub, "removed": {"factors": 1, "recovery_codes": 0}}
        assert (await http.get(f"{ADMIN}/users/{sub}/factors")).json()["factors"] == []
        r = await http.put(f"{ADMIN}/users/{sub}/factors/totp", json={"secret": secret})
        assert r.status_code == 201 and r.json()["name"] == "Authenticator app"
    await env.provider.recorder.flush()
    recorded = [e for e in await env.provider.store.events.recent(100) if e.name.startswith("mfa.")]
    # (one second on the fake clock: recent() cannot order them)
    assert sorted(e.name for e in recorded) == ["mfa.reset", *["mfa.totp_imported"] * 2]
    assert {e.data["channel"] for e in recorded} == {"admin_api"}
    assert all(e.data["by_client_id"] for e in recorded)


async def test_bad_bodies_are_422_per_field(env: Env, token: str) -> None:
    sub = await env.add_user()
    cases = [
        ({"secret": "not base32!"}, "secret", "not base32"),
        ({"secret": "JBSWY3DP"}, "secret", "shorter than 80 bits"),
        ({"secret": ""}, "secret", "at least 1 character"),
        ({"secret": "A" * 513}, "secret", "at most 512"),
        ({}, "secret", "Field required"),
        ({"secret": "JBSWY3DPEHPK3PXP", "name": "n" * 65}, "name", "at most 64"),
        ({"secret": "JBSWY3DPEHPK3PXP", "kind": "hotp"}, "kind", "Extra inputs"),
    ]
    async with admin(env, token) as http:
        for body, field, words in cases:
            r = await http.put(f"{ADMIN}/users/{sub}/factors/totp", json=body)
            assert r.status_code == 422, (body, r.text)
            assert r.json()["error"] == "invalid_request"
            (error,) = r.json()["errors"]
            assert error["field"] == field and words in error["message"], (body, r.text)
        r = await http.put(f"{ADMIN}/users/{sub}/factors/totp", content=b"{", headers={
            "content-type": "application/json"})  # fmt: skip
        assert r.status_code == 422
    assert await env.provider.store.factors.list(sub) == []  # nothing was written


async def test_unknown_sub_is_404(env: Env, token: str) -> None:
    async with admin(env, token) as http:
        for method, path, body in [
            ("GET", "/users/nobody/factors", None),
            ("DELETE", "/users/nobody/factors", None),
            ("PUT", "/users/nobody/factors/totp", {"secret": "JBSWY3DPEHPK3PXP"}),
        ]:
            r = await http.request(method, f"{ADMIN}{path}", json=body)
            assert r.status_code == 404, (method, path, r.text)
            assert r.json()["error_uri"].endswith("/errors/admin-not-found")
            assert "No user nobody" in r.json()["error_description"]


async def test_the_admin_guard(env: Env) -> None:
    sub = await env.add_user()
    no_admin_client, secret = await env.add_client(
        client_name="Not admin", grant_types=["client_credentials"], redirect_uris=[],
        scope="openid",
    )  # fmt: skip
    async with env.client() as http:
        r = await http.post(
            "/token",
            data={"grant_type": "client_credentials", "resource": env.settings.url(ADMIN)},
            auth=(no_admin_client, secret or ""),
        )
    assert r.status_code == 200, r.text
    unprivileged = r.json()["access_token"]
    calls = [
        ("GET", f"{ADMIN}/users/{sub}/factors", None),
        ("DELETE", f"{ADMIN}/users/{sub}/factors", None),
        ("PUT", f"{ADMIN}/users/{sub}/factors/totp", {"secret": "JBSWY3DPEHPK3PXP"}),
    ]
    for method, url, body in calls:
        async with admin(env, None) as http:
            r = await http.request(method, url, json=body)
        assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Bearer")
        async with admin(env, unprivileged) as http:
            r = await http.request(method, url, json=body)
        assert r.status_code == 403, r.text
        assert r.json()["error"] == "insufficient_scope"
    assert await env.provider.store.factors.list(sub) == []


async def test_client_require_mfa(env: Env, token: str) -> None:
    body = {"client_name": "Bank", "redirect_uris": ["https://bank.example/cb"]}
    async with admin(env, token) as http:
        r = await http.post(f"{ADMIN}/clients", json=body)
        assert r.status_code == 201 and r.json()["require_mfa"] is False
        r = await http.post(f"{ADMIN}/clients", json={**body, "require_mfa": True})
        assert r.status_code == 201 and r.json()["require_mfa"] is True
        client_id = r.json()["client_id"]
        item = f"{ADMIN}/clients/{client_id}"
        assert (await http.get(item)).json()["require_mfa"] is True
        listed = (await http.get(f"{ADMIN}/clients")).json()["items"]
        assert {c["client_id"]: c["require_mfa"] for c in listed}[client_id] is True
        r = await http.patch(item, json={"client_name": "Bank 2"})  # kept when not sent
        assert r.status_code == 200 and r.json()["require_mfa"] is True
        r = await http.patch(item, json={"require_mfa": None})
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "require_mfa"
        r = await http.patch(item, json={"require_mfa": "yes please"})
        assert r.status_code == 422
        r = await http.patch(item, json={"require_mfa": False})
        assert r.status_code == 200 and r.json()["require_mfa"] is False
        assert (await http.get(item)).json() == r.json()
    stored = await env.provider.store.clients.get(client_id)
    assert stored is not None and "require_mfa" not in stored.extra


async def test_openapi_describes_the_factor_operations(env: Env) -> None:
    async with env.client() as http:
        doc = (await http.get(f"{ADMIN}/openapi.json")).json()
    assert set(doc["paths"]["/users/{sub}/factors"]) == {"get", "delete"}
    put = doc["paths"]["/users/{sub}/factors/totp"]["put"]
    assert put["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/TotpImport"
    }
    assert {"201", "401", "403", "404", "409", "422"} <= set(put["responses"])
    schema = doc["components"]["schemas"]["TotpImport"]
    assert schema["required"] == ["secret"] and schema["additionalProperties"] is False
    for model in ("ClientCreate", "ClientUpdate"):
        assert doc["components"]["schemas"][model]["properties"]["require_mfa"]["type"] == (
            "boolean"
        )
