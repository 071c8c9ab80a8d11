"""Rich Authorization Requests (RFC 9396) over HTTP: an API registers an authorization_details
type, a client asks for it at /authorize, the user sees it in plain words on the consent
page, and the granted details come back in the token response, the JWT access token and
introspection; malformed or unregistered details are refused with
invalid_authorization_details."""

from __future__ import annotations

import json
from typing import Any

import pytest

from keystead.jose import jwt
from keystead.services.apis import ApiSpec, create_api
from tests.e2e.conftest import REDIRECT_URI, Browser, Env, pkce_pair, query_of
from tests.e2e.test_response_types import url_for

pytestmark = pytest.mark.anyio
PAYMENTS = "https://payments.example.com"
DETAILS = [
    {
        "type": "payment_initiation",
        "actions": ["initiate"],
        "locations": [PAYMENTS],
        "instructedAmount": {"currency": "EUR", "amount": "123.50"},
        "creditorName": "Merchant A",
    }
]


async def setup(env: Env) -> tuple[str, str | None]:
    await create_api(
        env.provider.store,
        ApiSpec(
            PAYMENTS,
            "Payments",
            [("payments", "Make payments")],
            token_format="jwt",
            authorization_details_types=["payment_initiation"],
        ),
        env.clock(),
    )
    env.provider.forget_apis()
    await env.add_user()
    return await env.add_client(scope="openid payments")


def authorize_url(client_id: str, challenge: str, details: Any) -> str:
    raw = details if isinstance(details, str) else json.dumps(details)
    return url_for(
        client_id,
        "code",
        challenge=challenge,
        scope="openid payments",
        resource=PAYMENTS,
        authorization_details=raw,
    )


async def test_details_are_shown_granted_and_carried(env: Env) -> None:
    client_id, secret = await setup(env)
    async with env.client() as http:
        meta = (await http.get("/.well-known/openid-configuration")).json()
        assert meta["authorization_details_types_supported"] == ["payment_initiation"]
        verifier, challenge = pkce_pair()
        browser = Browser(http)
        consent = await browser.login(
            await browser.open(authorize_url(client_id, challenge, DETAILS))
        )
        assert consent.status_code == 200
        # in plain words on the consent page
        assert (
            "Payments (payment_initiation): initiate at https://payments.example.com"
            in consent.text
        )
        assert "instructedAmount: currency EUR, amount 123.50" in consent.text
        assert "creditorName: Merchant A" in consent.text
        done = await browser.consent(consent)
        code = query_of(done.headers["location"])["code"]
        r = await http.post(
            "/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": REDIRECT_URI,
                "code_verifier": verifier,
            },
            auth=(client_id, secret or ""),
        )
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["authorization_details"] == DETAILS  # RFC 9396 §7
        claims = jwt.verify(body["access_token"], await env.provider.keyring())[1]
        assert claims["authorization_details"] == DETAILS  # §9.1
        introspected = await http.post(
            "/introspect", data={"token": body["access_token"]}, auth=(client_id, secret or "")
        )
        assert introspected.json()["authorization_details"] == DETAILS  # §9.2

        # the same request again: the details are approved again (no remembered consent)
        _, challenge = pkce_pair()
        again = await http.get(authorize_url(client_id, challenge, DETAILS))
        assert again.status_code == 200 and 'name="decision"' in again.text


@pytest.mark.parametrize(
    ("details", "words"),
    [
        ("{not json", "not valid JSON"),
        (json.dumps({"type": "payment_initiation"}), "JSON array"),
        ("[]", "JSON array"),
        (json.dumps([{"actions": ["x"]}]), "has no type"),
        (json.dumps([{"type": "account_information"}]), "not a type this server accepts"),
        (json.dumps([{"type": "payment_initiation", "actions": "initiate"}]), "array of strings"),
        (json.dumps(["payment_initiation"]), "must be a JSON object"),
    ],
)
async def test_bad_details_are_refused(env: Env, details: str, words: str) -> None:
    client_id, _ = await setup(env)
    _, challenge = pkce_pair()
    async with env.client() as http:
        r = await http.get(authorize_url(client_id, challenge, details))
    assert r.status_code in (302, 303), r.text[:300]
    params = query_of(r.headers["location"])
    assert params["error"] == "invalid_authorization_details"
    assert words in params["error_description"], params


async def test_a_type_belongs_to_one_api(env: Env) -> None:
    await setup(env)
    from keystead.services.apis import ApiSpecError

    with pytest.raises(ApiSpecError) as info:
        await create_api(
            env.provider.store,
            ApiSpec(
                "https://other.example.com", authorization_details_types=["payment_initiation"]
            ),
            env.clock(),
        )
    assert info.value.field == "authorization_details_types"


def test_cli_registers_types(run: Any) -> None:
    api = run(
        "api", "create", "--identifier", PAYMENTS, "--scope", "payments",
        "--authorization-details-type", "payment_initiation",
    )  # fmt: skip
    assert api["authorization_details_types"] == ["payment_initiation"]
    updated = run("api", "update", api["api_id"], "--authorization-details-type", "account_info")
    assert updated["authorization_details_types"] == ["account_info"]
    words = run(
        "api", "create", "--identifier", "https://x.example.com",
        "--authorization-details-type", "has space", ok=False,
    )  # fmt: skip
    assert "--authorization-details-type" in words


async def test_admin_api_registers_types(env: Env) -> None:
    from tests.e2e.test_admin_api import admin, admin_token

    token = await admin_token(env)
    async with admin(env, token) as http:
        r = await http.post(
            "/admin/api/apis",
            json={"identifier": PAYMENTS, "authorization_details_types": ["payment_initiation"]},
        )
        assert r.status_code == 201, r.text
        assert r.json()["authorization_details_types"] == ["payment_initiation"]
        patched = await http.patch(
            f"/admin/api/apis/{r.json()['api_id']}",
            json={"authorization_details_types": ["account_information"]},
        )
        assert patched.json()["authorization_details_types"] == ["account_information"]
        # a client may now ask for it (the discovery document follows)
        meta = (await http.get("/.well-known/openid-configuration")).json()
        assert meta["authorization_details_types_supported"] == ["account_information"]
