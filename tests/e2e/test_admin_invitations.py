"""POST /admin/api/users/invitations: 201 with the new user, its Location, one invitation
mail in the outbox whose link is a stored invite token; 409 for an address (or username)
taken; 422 per field for a bad body, and (field email) when the server has no mail; the
admin guard (401 without a token, 403 without keystead:admin); the OpenAPI document."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from keystead.accounts.links import INVITE, token_hash
from keystead.outbox import payload_of
from keystead.store.outbox import MAIL
from tests.e2e.conftest import Env, make_env
from tests.e2e.test_admin_api import ADMIN, admin, admin_token

pytestmark = pytest.mark.anyio

INVITATIONS = f"{ADMIN}/users/invitations"


@pytest.fixture
async def token(env: Env) -> str:
    return await admin_token(env)


async def test_invite_creates_the_user_and_queues_one_mail(env: Env, token: str) -> None:
    async with admin(env, token) as http:
        r = await http.post(INVITATIONS, json={"email": "ann@example.com", "name": "Ann"})
        assert r.status_code == 201, r.text
        user = r.json()
        assert r.headers["location"] == env.settings.url(f"{ADMIN}/users/{user['sub']}")
        assert r.headers["cache-control"] == "no-store"
        assert user["username"] == "ann@example.com" and user["email"] == "ann@example.com"
        assert user["name"] == "Ann" and user["email_verified"] is False
        assert "password" not in str(user)
        r = await http.get(r.headers["location"])
        assert r.status_code == 200 and r.json() == user

    jobs = await env.provider.store.jobs.claim("t", env.clock(), 60, 10)
    assert [job.kind for job in jobs] == [MAIL]
    mail = payload_of(env.provider, jobs[0])
    assert mail["to"] == "ann@example.com" and mail["template"] == "invitation"
    (link_token,) = parse_qs(urlsplit(mail["context"]["link"]).query)["token"]
    record = await env.provider.store.action_tokens.get(token_hash(link_token))
    assert record is not None and record.purpose == INVITE and record.sub == user["sub"]

    await env.provider.recorder.flush()
    (event,) = [e for e in await env.provider.store.events.recent(100) if e.name == "user.invited"]
    assert event.data["channel"] == "admin_api" and event.data["by_client_id"]
    assert event.data["sub"] == user["sub"]


async def test_conflicts_are_409_and_write_nothing(env: Env, token: str) -> None:
    await env.add_user("alice")  # alice@example.com
    async with admin(env, token) as http:
        for body, words in [
            ({"email": "ALICE@example.com"}, "An account with the address"),
            ({"email": "new@example.com", "username": "alice"}, "A user named alice"),
        ]:
            r = await http.post(INVITATIONS, json=body)
            assert r.status_code == 409, (body, r.text)
            assert r.json()["error_uri"].endswith("/errors/admin-conflict")
            assert words in r.json()["error_description"]
        listed = (await http.get(f"{ADMIN}/users")).json()["items"]
    assert [u["username"] for u in listed] == ["alice"]
    assert await env.provider.store.jobs.claim("t", env.clock(), 60, 10) == []


async def test_bad_bodies_are_422_per_field(env: Env, token: str) -> None:
    cases = [
        ({"email": "not an address"}, "email", "is not an email address"),
        ({"email": "nobody@localhost"}, "email", "is not an email address"),
        ({"email": ""}, "email", "at least 1 character"),
        ({"email": "a" * 250 + "@x.example"}, "email", "at most 254"),
        ({}, "email", "Field required"),
        ({"email": 7}, "email", "valid string"),
        ({"email": "b@example.com", "username": "two words"}, "username", "without spaces"),
        ({"email": "b@example.com", "username": ""}, "username", "at least 1 character"),
        ({"email": "b@example.com", "password": "x" * 12}, "password", "Extra inputs"),
    ]
    async with admin(env, token) as http:
        for body, field, words in cases:
            r = await http.post(INVITATIONS, json=body)
            assert r.status_code == 422, (body, r.text)
            assert r.json()["error"] == "invalid_request"
            (error,) = r.json()["errors"]
            assert error["field"] == field and words in error["message"], (body, r.text)
        r = await http.post(INVITATIONS, content=b"{", headers={"content-type": "application/json"})
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body"
        assert (await http.get(f"{ADMIN}/users")).json()["items"] == []


async def test_no_mail_is_422_naming_the_setting(tmp_path: Path) -> None:
    env = await make_env(tmp_path, issuer="https://id.example.com")  # production, no SMTP
    try:
        token = await admin_token(env)
        async with admin(env, token) as http:
            r = await http.post(INVITATIONS, json={"email": "ann@example.com"})
            assert r.status_code == 422, r.text
            (error,) = r.json()["errors"]
            assert error["field"] == "email" and "KEYSTEAD_SMTP_URL" in error["message"]
            assert (await http.get(f"{ADMIN}/users")).json()["items"] == []
    finally:
        await env.provider.close()


async def test_the_admin_guard(env: Env) -> None:
    client_id, secret = await env.add_client(
        client_name="Not admin", grant_types=["client_credentials"], redirect_uris=[],
        scope="openid",
    )  # fmt: skip
    body = {"email": "ann@example.com"}
    async with admin(env, None) as http:
        r = await http.post(INVITATIONS, json=body)
    assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Bearer")
    async with admin(env, "not-a-token") as http:
        assert (await http.post(INVITATIONS, json=body)).status_code == 401
    async with admin(env, await _token(env, client_id, secret)) as http:
        r = await http.post(INVITATIONS, json=body)
    assert r.status_code == 403, r.text
    assert r.json()["error"] == "insufficient_scope"
    assert await env.provider.store.users.list() == []


async def _token(env: Env, client_id: str, secret: str | None) -> str:
    async with env.client() as http:
        r = await http.post(
            "/token",
            data={"grant_type": "client_credentials", "resource": env.settings.url(ADMIN)},
            auth=(client_id, secret or ""),
        )
    assert r.status_code == 200, r.text
    value: str = r.json()["access_token"]
    return value


async def test_openapi_describes_the_invitation(env: Env) -> None:
    async with env.client() as http:
        doc = (await http.get(f"{ADMIN}/openapi.json")).json()
    post = doc["paths"]["/users/invitations"]["post"]
    assert set(doc["paths"]["/users/invitations"]) == {"post"}
    assert post["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Invitation"
    }
    assert {"201", "401", "403", "409", "422"} <= set(post["responses"])
    assert "KEYSTEAD_SMTP_URL" in post["description"]
    schema = doc["components"]["schemas"]["Invitation"]
    assert schema["required"] == ["email"] and schema["additionalProperties"] is False
    assert set(schema["properties"]) == {"email", "name", "username"}
