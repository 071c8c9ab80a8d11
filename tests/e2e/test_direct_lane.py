"""The direct lane (web/table.py): server-to-server POSTs to /token and /introspect skip
the Request/Response objects. Whatever lane a request takes, the answer must be the same:
these tests send each request once without Origin (direct) and once with the issuer's own
Origin (same-origin: the fast lane, no CORS headers) and compare."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import Env, make_env
from tests.e2e.test_apis_and_tokens import setup_apis

pytestmark = pytest.mark.anyio


def _headers(response: httpx.Response) -> dict[str, str]:
    skip = {"content-length", "x-correlation-id"}
    return {k: v for k, v in response.headers.items() if k not in skip}


def _body(response: httpx.Response) -> dict[str, Any]:
    body = dict(response.json())
    for volatile in ("access_token", "error_description", "jti", "iat", "exp"):
        body.pop(volatile, None)
    if "error_description" in response.json():  # the same words, another correlation id
        body["error_description"] = response.json()["error_description"].split(" cid=")[0]
    return body


async def _both(env: Env, path: str, data: dict[str, str], **kwargs: Any) -> list[httpx.Response]:
    same_origin = {"Origin": env.settings.issuer.rstrip("/")}
    async with env.client() as http:
        direct = await http.post(path, data=data, **kwargs)
        headers = {**kwargs.pop("headers", {}), **same_origin}
        fast = await http.post(path, data=data, headers=headers, **kwargs)
    return [direct, fast]


@pytest.mark.parametrize(
    "data",
    [
        {"grant_type": "client_credentials", "scope": "notes:read"},  # 200
        {"grant_type": "client_credentials", "scope": "nope:read"},  # invalid_scope
        {"scope": "notes:read"},  # no grant_type
        {"grant_type": "password", "username": "a", "password": "b"},  # unsupported
    ],
)
async def test_token_answers_are_the_same_on_both_lanes(env: Env, data: dict[str, str]) -> None:
    s = await setup_apis(env)
    auth = (s["client_id"], s["client_secret"])
    direct, fast = await _both(env, "/token", data, auth=auth)
    assert direct.status_code == fast.status_code
    assert _headers(direct) == _headers(fast)
    assert _body(direct) == _body(fast)
    assert direct.headers["cache-control"] == "no-store" and direct.headers["vary"] == "Origin"


async def test_introspection_answers_are_the_same_on_both_lanes(env: Env) -> None:
    s = await setup_apis(env)
    async with env.client() as http:
        issued = await http.post(
            "/token",
            data={"grant_type": "client_credentials", "scope": "calendar:read"},
            auth=(s["client_id"], s["client_secret"]),
        )
    token = issued.json()["access_token"]
    api_auth = (s["calendar"].api_id, s["calendar_secret"])
    for data in ({"token": token}, {"token": "unknown"}, {}):
        direct, fast = await _both(env, "/introspect", data, auth=api_auth)
        assert direct.status_code == fast.status_code
        assert _headers(direct) == _headers(fast)
        assert _body(direct) == _body(fast)
    assert direct.status_code == 400  # the last one: no token parameter


async def test_introspection_asked_for_a_jwt_takes_the_ordinary_lane(env: Env) -> None:
    s = await setup_apis(env)
    async with env.client() as http:
        answer = await http.post(
            "/introspect",
            data={"token": "unknown"},
            auth=(s["calendar"].api_id, s["calendar_secret"]),
            headers={"Accept": "application/token-introspection+jwt"},
        )
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/token-introspection+jwt")


async def test_bad_bodies_are_refused_with_the_catalog_errors(env: Env) -> None:
    async with env.client() as http:
        wrong_type = await http.post("/token", json={"grant_type": "client_credentials"})
        too_large = await http.post("/token", data={"x": "a" * 70_000})
        not_utf8 = await http.post(
            "/token",
            content=b"grant_type=%ff%fe",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
    for response in (wrong_type, too_large, not_utf8):
        # RFC 9110 §15.5.14: a body larger than keystead reads is a 413 (issue 18 #1)
        assert response.status_code == (413 if response is too_large else 400), response.text
        assert response.json()["error"] == "invalid_request"
        assert response.headers["x-correlation-id"]
    assert "Content-Type" in wrong_type.json()["error_description"]
    assert "too large" in too_large.json()["error_description"]


async def test_an_exception_in_the_direct_lane_is_a_500_with_a_correlation_id(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(req: object, provider: object) -> dict[str, Any]:
        raise RuntimeError("boom")

    direct, headers = env.app.direct[("POST", "/token")]
    monkeypatch.setitem(
        env.app.direct, ("POST", "/token"), (dataclasses.replace(direct, work=broken), headers)
    )
    async with env.client() as http:
        response = await http.post("/token", data={"grant_type": "client_credentials"})
    assert response.status_code == 500 and "boom" not in response.text
    assert response.headers["x-correlation-id"] in response.json()["error_description"]


@pytest.mark.parametrize(
    "path",
    ["/jwks", "/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"],
)
async def test_public_documents_are_the_same_on_both_lanes(env: Env, path: str) -> None:
    async with env.client() as http:
        direct = await http.get(path)  # no Origin: the static document's direct lane
        fast = await http.get(path, headers={"Origin": "https://spa.example"})  # CORS wrapper
    assert direct.status_code == fast.status_code == 200
    assert direct.content == fast.content
    assert _headers(direct) == _headers(fast)
    assert direct.headers["access-control-allow-origin"] == "*"
    assert direct.headers["cache-control"].startswith("public, max-age=")


async def test_an_issuer_with_a_path_serves_its_documents_on_the_static_lane(
    tmp_path: Path,
) -> None:
    env = await make_env(tmp_path, issuer="https://id.example.com/tenant")
    try:
        paths = [
            "/tenant/jwks",
            "/tenant/.well-known/openid-configuration",
            "/.well-known/oauth-authorization-server/tenant",  # RFC 8414 §3.1
        ]
        assert all(("GET", path) in env.app.static for path in paths)
        async with env.client() as http:
            for path in paths:
                url = "https://id.example.com" + path
                direct = await http.get(url)
                fast = await http.get(url, headers={"Origin": "https://spa.example"})
                assert direct.status_code == fast.status_code == 200
                assert direct.content == fast.content
        discovery = direct.json()
        assert discovery["issuer"] == "https://id.example.com/tenant"
    finally:
        await env.provider.close()


@pytest.mark.parametrize(
    ("method", "path", "content_type"),
    [
        ("POST", "/token", "application/x-www-form-urlencoded"),
        ("POST", "/introspect", "application/x-www-form-urlencoded"),
        ("POST", "/revoke", "application/x-www-form-urlencoded"),
        ("POST", "/userinfo", "application/x-www-form-urlencoded"),
        ("POST", "/authorize", "application/x-www-form-urlencoded"),
        ("POST", "/login", "application/x-www-form-urlencoded"),
        ("POST", "/consent", "application/x-www-form-urlencoded"),
        ("POST", "/logout", "application/x-www-form-urlencoded"),
        ("POST", "/register", "application/json"),
        ("POST", "/admin/api/clients", "application/json"),
    ],
)
async def test_every_body_is_refused_while_it_is_read(
    env: Env, method: str, path: str, content_type: str
) -> None:
    """Issue 18 #1: 50 × 20 MB bodies took the server to 1 GB. The reader stops at the limit:
    a body that never ends is refused after the first chunk past it."""
    pulled = 0

    async def endless() -> Any:
        nonlocal pulled
        while pulled < 2_000:  # 32 MB if nothing stopped reading
            pulled += 1
            yield b"a" * 16_384

    headers = {"Content-Type": content_type, "Origin": "https://spa.example"}
    if path == "/introspect":
        headers["Accept"] = "application/token-introspection+jwt"  # not the direct lane
    async with env.client() as http:
        response = await http.request(method, path, content=endless(), headers=headers)
    if path in ("/register", "/admin/api/clients"):  # the token first: the body is not read
        assert response.status_code == 401 and pulled <= 1, response.text
    else:
        assert response.status_code == 413, response.text
        assert pulled <= env.settings.max_body_bytes // 16_384 + 2
    if response.headers["content-type"].startswith("application/json"):
        assert response.json()["error"] == "invalid_request"


@pytest.mark.parametrize("path", ["/token", "/login", "/revoke"])
async def test_a_client_that_leaves_mid_body_is_not_a_server_error(
    env: Env, path: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Issue 18 #6: a disconnect while the body was read was logged as an ERROR 500."""
    messages = [
        {"type": "http.request", "body": b"grant_type=client_", "more_body": True},
        {"type": "http.disconnect"},
    ]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"content-type", b"application/x-www-form-urlencoded")],
        "client": ("203.0.113.9", 5000),
        "server": ("127.0.0.1", 8000),
    }
    with caplog.at_level("INFO"):
        await env.app(scope, receive, send)
    assert sent[0]["status"] == 400
    assert not [r for r in caplog.records if r.levelname == "ERROR" or r.exc_info]
