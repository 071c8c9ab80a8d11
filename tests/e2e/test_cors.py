"""CORS per endpoint kind (web/cors.py): discovery and JWKS for any origin; token, UserInfo
and revocation for registered clients' origins only; nothing on introspection or the pages."""

from __future__ import annotations

from typing import Any

import pytest

from keystead.events import Event
from tests.e2e.conftest import REDIRECT_URI, Env
from tests.e2e.test_token import get_code

pytestmark = pytest.mark.anyio

SPA = "https://rp.example.com"  # the origin of REDIRECT_URI
OTHER_APP = "https://other.example.org"  # registered, for another client
EVIL = "https://evil.example.net"  # registered for no client
ACAO = "access-control-allow-origin"


@pytest.fixture
async def spa(env: Env) -> str:
    await env.add_user()
    client_id, _ = await env.add_client(token_endpoint_auth_method="none")
    await env.add_client(redirect_uris=[OTHER_APP + "/cb"])
    return client_id


def events_of(env: Env) -> list[Event]:
    seen: list[Event] = []
    env.provider.events.subscribers.append(seen.append)
    return seen


async def token_request(env: Env, client_id: str, code: str, verifier: str, origin: str | None):
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT_URI,
        "code_verifier": verifier,
        "client_id": client_id,
    }
    headers = {"Origin": origin} if origin else {}
    async with env.client() as http:
        return await http.post("/token", data=data, headers=headers)


def preflight_headers(origin: str, method: str = "POST", headers: str = "") -> dict[str, str]:
    out = {"Origin": origin, "Access-Control-Request-Method": method}
    if headers:
        out["Access-Control-Request-Headers"] = headers
    return out


# --- discovery and JWKS: any origin -------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    ["/.well-known/openid-configuration", "/.well-known/oauth-authorization-server", "/jwks"],
)
async def test_discovery_and_jwks_allow_any_origin(env: Env, path: str) -> None:
    async with env.client() as http:
        r = await http.get(path, headers={"Origin": EVIL})
        pre = await http.options(path, headers=preflight_headers(EVIL, "GET", "x-requested-with"))
    assert r.status_code == 200 and r.headers[ACAO] == "*"
    assert "access-control-allow-credentials" not in r.headers
    assert pre.status_code == 204 and pre.headers[ACAO] == "*"
    assert "GET" in pre.headers["access-control-allow-methods"]


# --- token, UserInfo, revocation: registered origins ------------------------------------------


@pytest.mark.parametrize(
    ("path", "method", "headers"),
    [("/token", "POST", ""), ("/userinfo", "GET", "authorization"), ("/revoke", "POST", "")],
)
async def test_preflight_for_registered_origins(env: Env, spa: str, path, method, headers) -> None:
    seen = events_of(env)
    async with env.client() as http:
        for origin in (SPA, OTHER_APP):  # no client_id in a preflight: the union of all clients
            ok = await http.options(path, headers=preflight_headers(origin, method, headers))
            assert ok.status_code == 204, ok.text
            assert ok.headers[ACAO] == origin
            assert method in ok.headers["access-control-allow-methods"]
            assert "Authorization" in ok.headers["access-control-allow-headers"]
            assert "Origin" in ok.headers["vary"]
            assert "access-control-allow-credentials" not in ok.headers
        bad = await http.options(path, headers=preflight_headers(EVIL, method, headers))
        wrong_method = await http.options(path, headers=preflight_headers(SPA, "DELETE"))
    assert bad.status_code == 403 and ACAO not in bad.headers and "Origin" in bad.headers["vary"]
    assert wrong_method.status_code == 403 and ACAO not in wrong_method.headers
    refusals = [e for e in seen if e.name == "cors.preflight_refused"]
    assert [e.data["origin"] for e in refusals] == [EVIL, SPA]
    assert "No registered client has this origin" in refusals[0].data["reason"]
    assert "DELETE" in refusals[1].data["reason"]


async def test_token_from_the_clients_origin(env: Env, spa: str) -> None:
    code, verifier = await get_code(env, spa)
    r = await token_request(env, spa, code, verifier, SPA)
    assert r.status_code == 200, r.text
    assert r.headers[ACAO] == SPA and r.headers["vary"] == "Origin"
    assert "X-Correlation-Id" in r.headers["access-control-expose-headers"]


@pytest.mark.parametrize("origin", [OTHER_APP, EVIL])
async def test_token_from_another_origin_is_refused_and_the_code_not_burnt(
    env: Env, spa: str, origin: str
) -> None:
    seen = events_of(env)
    code, verifier = await get_code(env, spa)
    refused = await token_request(env, spa, code, verifier, origin)
    assert refused.status_code == 400
    assert refused.json()["error_uri"].endswith("/errors/origin-not-allowed")
    assert ACAO not in refused.headers and refused.headers["vary"] == "Origin"
    why = [e for e in seen if e.name == "cors.origin_refused"]
    assert why[0].data == {
        "origin": origin,
        "client_id": spa,
        "reason": f"Origin {origin} is not the origin of any of client {spa}'s redirect URIs, "
        "nor one of its allowed_origins.",
    }
    # Refused before any side effect: the code still works from the right origin.
    ok = await token_request(env, spa, code, verifier, SPA)
    assert ok.status_code == 200, ok.text


async def test_errors_are_readable_by_registered_origins(env: Env, spa: str) -> None:
    seen = events_of(env)
    r = await token_request(env, spa, "not-a-code", "v" * 43, SPA)
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"
    assert r.headers[ACAO] == SPA  # the SPA can read why
    unknown = await token_request(env, "nobody", "not-a-code", "v" * 43, EVIL)
    assert unknown.status_code == 401 and ACAO not in unknown.headers
    assert any(e.name == "cors.origin_refused" and e.data["origin"] == EVIL for e in seen)


async def test_allowed_origins_beyond_the_redirect_uris(env: Env) -> None:
    await env.add_user()
    client_id, _ = await env.add_client(
        token_endpoint_auth_method="none", allowed_origins=["https://app.example.org:8443"]
    )
    code, verifier = await get_code(env, client_id)
    r = await token_request(env, client_id, code, verifier, "https://app.example.org:8443")
    assert r.status_code == 200 and r.headers[ACAO] == "https://app.example.org:8443"


async def tokens_for(env: Env, client_id: str) -> dict[str, Any]:
    code, verifier = await get_code(env, client_id)
    r = await token_request(env, client_id, code, verifier, None)
    assert r.status_code == 200
    assert ACAO not in r.headers  # not a browser: no CORS
    body: dict[str, Any] = r.json()
    return body


async def test_userinfo(env: Env, spa: str) -> None:
    tokens = await tokens_for(env, spa)
    bearer = {"Authorization": "Bearer " + tokens["access_token"]}
    async with env.client() as http:
        ok = await http.get("/userinfo", headers={**bearer, "Origin": SPA})
        other = await http.get("/userinfo", headers={**bearer, "Origin": OTHER_APP})
        evil = await http.get("/userinfo", headers={**bearer, "Origin": EVIL})
        no_token = await http.get("/userinfo", headers={"Origin": SPA})
    assert ok.status_code == 200 and ok.headers[ACAO] == SPA and ok.headers["vary"] == "Origin"
    assert other.status_code == 400 and ACAO not in other.headers
    assert evil.status_code == 400 and ACAO not in evil.headers
    assert no_token.status_code == 401 and no_token.headers[ACAO] == SPA
    assert "WWW-Authenticate" in no_token.headers["access-control-expose-headers"]


async def test_revocation(env: Env, spa: str) -> None:
    tokens = await tokens_for(env, spa)
    bearer = {"Authorization": "Bearer " + tokens["access_token"]}
    data = {"token": tokens["access_token"], "client_id": spa}
    async with env.client() as http:
        refused = await http.post("/revoke", data=data, headers={"Origin": OTHER_APP})
        assert refused.status_code == 400 and ACAO not in refused.headers
        assert (await http.get("/userinfo", headers=bearer)).status_code == 200  # not revoked
        ok = await http.post("/revoke", data=data, headers={"Origin": SPA})
        assert ok.status_code == 200 and ok.headers[ACAO] == SPA and ok.headers["vary"] == "Origin"
        assert (await http.get("/userinfo", headers=bearer)).status_code == 401


# --- never CORS ------------------------------------------------------------------------------


async def test_no_cors_on_introspection_authorize_and_pages(env: Env, spa: str) -> None:
    async with env.client() as http:
        for path in ("/introspect", "/authorize", "/login", "/consent", "/errors"):
            pre = await http.options(path, headers=preflight_headers(SPA))
            assert pre.status_code == 405 and ACAO not in pre.headers, path
        intro = await http.post("/introspect", data={"token": "x"}, headers={"Origin": SPA})
        page = await http.get(f"/authorize?client_id={spa}", headers={"Origin": SPA})
        errors = await http.get("/errors", headers={"Origin": SPA})
    for r in (intro, page, errors):
        assert ACAO not in r.headers and "access-control-allow-methods" not in r.headers


async def test_same_origin_requests_get_no_cors_headers(env: Env, spa: str) -> None:
    code, verifier = await get_code(env, spa)
    r = await token_request(env, spa, code, verifier, env.settings.issuer)
    assert r.status_code == 200 and ACAO not in r.headers
