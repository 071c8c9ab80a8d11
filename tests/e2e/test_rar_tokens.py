"""Rich Authorization Requests (RFC 9396) at the token endpoint over HTTP: a token request
narrows the granted authorization_details (§6.1 authorization_code, §6.2 refresh_token), the
token response (§7), the JWT access token (§9.1) and introspection (§9.2) carry the narrowed
array, opaque tokens too; a request for more than was granted is refused naming the object
and uses nothing up. client_credentials with authorization_details (§6)."""

from __future__ import annotations

import json
from html import unescape
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from keystead.jose import jwt
from keystead.services.apis import ApiSpec, create_api
from tests.e2e.conftest import REDIRECT_URI, Browser, Env, pkce_pair, query_of
from tests.e2e.test_response_types import url_for

pytestmark = pytest.mark.anyio
PAYMENTS = "https://payments.example.com"
ACCOUNTS = "https://accounts.example.com"
PAY = {
    "type": "payment_initiation",
    "actions": ["initiate", "status"],
    "locations": [PAYMENTS],
    "instructedAmount": {"currency": "EUR", "amount": "123.50"},
}
STATUS_ONLY = {**PAY, "actions": ["status"]}
READ = {"type": "account_information", "actions": ["read"], "locations": [PAYMENTS]}
GRANTED = [PAY, READ]


async def setup(env: Env, token_format: str = "jwt") -> tuple[str, str]:  # noqa: S107
    await create_api(
        env.provider.store,
        ApiSpec(
            PAYMENTS,
            "Payments",
            [("payments", "Make payments")],
            token_format=token_format,
            authorization_details_types=["payment_initiation", "account_information"],
        ),
        env.clock(),
    )
    await create_api(
        env.provider.store,
        ApiSpec(
            ACCOUNTS,
            "Ledger",
            [("ledger", "Read the ledger")],
            authorization_details_types=["ledger_entry"],
        ),
        env.clock(),
    )
    env.provider.forget_apis()
    await env.add_user()
    client_id, secret = await env.add_client(
        scope="openid payments offline_access",
        grant_types=["authorization_code", "refresh_token", "client_credentials"],
    )
    assert secret is not None
    return client_id, secret


async def approved_code(env: Env, http: httpx.AsyncClient, client_id: str) -> tuple[str, str]:
    verifier, challenge = pkce_pair()
    url = url_for(
        client_id,
        "code",
        challenge=challenge,
        scope="openid payments offline_access",
        resource=PAYMENTS,
        authorization_details=json.dumps(GRANTED),
        prompt="consent",
    )
    browser = Browser(http)
    done = await browser.consent(await browser.login(await browser.open(url)))
    return query_of(done.headers["location"])["code"], verifier


async def redeem(
    http: httpx.AsyncClient, auth: tuple[str, str], code: str, verifier: str, **extra: Any
) -> httpx.Response:
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT_URI,
        "code_verifier": verifier,
        **extra,
    }
    return await http.post("/token", data=data, auth=auth)


async def introspected(http: httpx.AsyncClient, auth: tuple[str, str], token: str) -> Any:
    r = await http.post("/introspect", data={"token": token}, auth=auth)
    assert r.json()["active"] is True, r.text
    return r.json().get("authorization_details")


def refused(r: httpx.Response, words: str) -> None:
    assert r.status_code == 400, r.text
    assert r.json()["error"] == "invalid_authorization_details"
    assert words in r.json()["error_description"], r.json()


async def test_code_and_refresh_narrow_the_details(env: Env) -> None:
    client_id, secret = await setup(env)
    auth = (client_id, secret)
    async with env.client() as http:
        code, verifier = await approved_code(env, http, client_id)
        # wider than granted: refused, naming the object; the code is not used up
        wider = [{**PAY, "actions": ["initiate", "refund"]}]
        r = await redeem(http, auth, code, verifier, authorization_details=json.dumps(wider))
        refused(r, "authorization_details[0] (type payment_initiation) asks for more")
        assert "actions refund not granted" in r.json()["error_description"]
        r = await redeem(
            http, auth, code, verifier, authorization_details=json.dumps([STATUS_ONLY])
        )
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["authorization_details"] == [STATUS_ONLY]  # §7: this token's
        claims = jwt.verify(body["access_token"], await env.provider.keyring())[1]
        assert claims["authorization_details"] == [STATUS_ONLY]  # §9.1
        assert await introspected(http, auth, body["access_token"]) == [STATUS_ONLY]  # §9.2

        refresh = body["refresh_token"]
        # the grant keeps the whole: a refresh without the parameter gets all of it
        r = await http.post(
            "/token", data={"grant_type": "refresh_token", "refresh_token": refresh}, auth=auth
        )
        assert r.status_code == 200, r.text
        assert r.json()["authorization_details"] == GRANTED
        refresh = r.json()["refresh_token"]
        # a type never granted, then a changed amount: refused, the refresh token still works
        for asked, words in [
            ([{"type": "ledger_entry"}], "authorization_details[0] (type ledger_entry) was not"),
            (
                [READ, {**PAY, "instructedAmount": {"currency": "EUR", "amount": "9999"}}],
                "authorization_details[1] (type payment_initiation) asks for more",
            ),
            ([{**READ, "locations": PAYMENTS}], "array of strings"),
            ([{"type": "account_information"}], "leaves out actions"),
        ]:
            r = await http.post(
                "/token",
                data={
                    "grant_type": "refresh_token",
                    "refresh_token": refresh,
                    "authorization_details": json.dumps(asked),
                },
                auth=auth,
            )
            refused(r, words)
        r = await http.post(
            "/token",
            data={
                "grant_type": "refresh_token",
                "refresh_token": refresh,
                "authorization_details": json.dumps([READ]),
            },
            auth=auth,
        )
        assert r.status_code == 200, r.text
        assert r.json()["authorization_details"] == [READ]
        assert await introspected(http, auth, r.json()["access_token"]) == [READ]


async def test_opaque_tokens_keep_their_narrowed_details(env: Env) -> None:
    client_id, secret = await setup(env, token_format="opaque")
    auth = (client_id, secret)
    async with env.client() as http:
        code, verifier = await approved_code(env, http, client_id)
        r = await redeem(http, auth, code, verifier, authorization_details=json.dumps([READ]))
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["access_token"].count(".") == 0
        assert await introspected(http, auth, body["access_token"]) == [READ]
        r = await http.post(
            "/token",
            data={"grant_type": "refresh_token", "refresh_token": body["refresh_token"]},
            auth=auth,
        )
        assert await introspected(http, auth, r.json()["access_token"]) == GRANTED


async def test_a_grant_without_details(env: Env) -> None:
    client_id, secret = await setup(env)
    verifier, challenge = pkce_pair()
    async with env.client() as http:
        browser = Browser(http)
        url = url_for(client_id, "code", challenge=challenge, scope="openid payments")
        done = await browser.login(await browser.open(url))
        if done.status_code == 200:
            done = await browser.consent(done)
        code = query_of(done.headers["location"])["code"]
        r = await redeem(
            http, (client_id, secret), code, verifier, authorization_details=json.dumps([READ])
        )
        refused(r, "This grant has no authorization_details")
        r = await redeem(http, (client_id, secret), code, verifier)
        assert r.status_code == 200 and "authorization_details" not in r.json()


@pytest.mark.parametrize("token_format", ["jwt", "opaque"])
async def test_client_credentials_with_details(env: Env, token_format: str) -> None:
    client_id, secret = await setup(env, token_format)
    auth = (client_id, secret)
    async with env.client() as http:

        async def with_details(details: list[dict[str, Any]]) -> httpx.Response:
            details_json = json.dumps(details)
            data = {"grant_type": "client_credentials", "authorization_details": details_json}
            return await http.post("/token", data=data, auth=auth)

        # no scope, no resource: the API follows from the details' type
        r = await with_details([READ])
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["authorization_details"] == [READ] and body["scope"] == "payments"
        if token_format == "jwt":
            claims = jwt.verify(body["access_token"], await env.provider.keyring())[1]
            assert claims["authorization_details"] == [READ] and claims["aud"] == PAYMENTS
        assert await introspected(http, auth, body["access_token"]) == [READ]
        # a type of an API this client has no scope of
        r = await with_details([{"type": "ledger_entry"}])
        refused(r, "authorization_details[0].type ledger_entry belongs to an API this client")
        # unknown type
        refused(await with_details([{"type": "nope"}]), "not a type this server accepts")
        # without details: no member, as before
        r = await http.post("/token", data={"grant_type": "client_credentials"}, auth=auth)
        assert r.status_code == 200 and "authorization_details" not in r.json()
        assert await introspected(http, auth, r.json()["access_token"]) is None


async def test_client_credentials_details_of_another_api_than_the_token(env: Env) -> None:
    await setup(env)
    client_id, secret = await env.add_client(
        scope="payments ledger", grant_types=["client_credentials"]
    )
    assert secret is not None
    async with env.client() as http:
        r = await http.post(
            "/token",
            data={
                "grant_type": "client_credentials",
                "resource": PAYMENTS,
                "authorization_details": json.dumps([{"type": "ledger_entry"}]),
            },
            auth=(client_id, secret),
        )
    refused(r, f"is not a type of {PAYMENTS}, the API of this token")


async def test_par_and_jar_carry_details(env: Env) -> None:
    """RFC 9396 §3 with RFC 9126 and RFC 9101: pushed as a form parameter, or a JSON array
    inside the request object, the details reach the consent page and the tokens."""
    from tests.e2e.test_par_jar_jarm import JWKS, params, request_object

    await setup(env)
    client_id, secret = await env.add_client(jwks=JWKS, scope="openid payments")
    assert secret is not None
    auth = (client_id, secret)
    async with env.client() as http:
        verifier, challenge = pkce_pair()
        pushed = await http.post(
            "/par",
            data=params(
                client_id,
                scope="openid payments",
                resource=PAYMENTS,
                code_challenge=challenge,
                authorization_details=json.dumps([READ]),
            ),
            auth=auth,
        )
        assert pushed.status_code == 201, pushed.text
        by_jar = request_object(
            env,
            client_id,
            scope="openid payments",
            resource=PAYMENTS,
            code_challenge=challenge,
            authorization_details=[PAY],  # a JSON value in the object (RFC 9396 §3)
        )
        for query, expected in [
            ({"client_id": client_id, "request_uri": pushed.json()["request_uri"]}, [READ]),
            ({"client_id": client_id, "request": by_jar}, [PAY]),
        ]:
            browser = Browser(http)
            page = await browser.login(await browser.open("/authorize?" + urlencode(query)))
            assert page.status_code == 200, page.text[:500]
            assert f"Payments ({expected[0]['type']})" in unescape(page.text)
            done = await browser.consent(page)
            code = query_of(done.headers["location"])["code"]
            r = await redeem(http, auth, code, verifier)
            assert r.status_code == 200, r.text
            assert r.json()["authorization_details"] == expected
            http.cookies.clear()
