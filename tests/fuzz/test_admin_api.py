"""schemathesis against the admin API's own OpenAPI document (/admin/api/openapi.json),
driven in-process through the ASGI app with a keystead:admin token: valid and invalid
requests for every operation; no 5xx, answers that conform to the document (status codes,
content types, response schemas), whole answers, and every 4xx in keystead's error shape.

schemathesis generates the cases; they are sent with httpx on this test's event loop (the
app's provider lives on it), and checked with schemathesis's checks and ``check_answer``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from keystead.accounts.sessions import create_session
from keystead.federation.upstream import seal_secret
from keystead.services.apis import ApiSpec, create_api
from keystead.store.connections import Connection
from keystead.store.oauth1 import TokenCredential
from keystead.store.trusted_issuers import TrustedIssuer
from tests.e2e.conftest import Env, make_env
from tests.e2e.test_admin_api import admin_token
from tests.fuzz.conftest import bounded, check_answer, run_seeded

ADMIN = "/admin/api"
EXAMPLES = 12  # per operation and generation mode, per seed
# Generating keys (RSA) is slow: fewer examples where valid cases make them.
FEWER = {("POST", "/keys/rotate"): 3, ("POST", "/keys"): 6}
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@dataclass
class Admin:
    runner: asyncio.Runner
    env: Env
    token: str
    schema: Any
    known: dict[str, str]  # path parameters of objects that exist


@pytest.fixture(scope="module")
def admin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Admin]:
    runner = asyncio.Runner()
    env = runner.run(make_env(tmp_path_factory.mktemp("admin-fuzz")))
    token = runner.run(admin_token(env))

    async def document() -> Any:
        async with env.client() as http:
            r = await http.get(f"{ADMIN}/openapi.json")
        assert r.status_code == 200
        return r.json()

    schema = schemathesis.openapi.from_dict(runner.run(document()))
    yield Admin(runner, env, token, schema, runner.run(_objects(env, token)))
    runner.run(env.provider.close())
    runner.close()


async def _objects(env: Env, token: str) -> dict[str, str]:
    """One client, API, user (signed in) and key for the fuzz to reach (random ids are all 404s)."""
    client_id, _ = await env.add_client()
    api, _ = await create_api(
        env.provider.store, ApiSpec("https://api.example", "API", [("read", "R")]), env.clock()
    )
    env.provider.forget_apis()
    sub = await env.add_user()
    async with env.client(headers={"Authorization": f"Bearer {token}"}) as http:
        keys = (await http.get(f"{ADMIN}/keys")).json()["items"]
    user = await env.provider.store.users.get(sub)
    assert user is not None
    _, session = await create_session(env.provider, user, user_agent="fuzz", ip="192.0.2.1")
    known = {"client_id": client_id, "api_id": api.api_id, "sub": sub, "sid": session.sid}
    # A GitHub connection: no discovery document to fetch when it changes.
    sealed = seal_secret(env.provider.kek, "conn-fuzz", "secret")
    github = Connection("conn-fuzz", "fuzz", "Fuzz", "github", "https://github.com", "id", sealed)
    await env.provider.store.connections.add(github)
    oauth1 = TokenCredential("fuzz-token", "0" * 64, "v1.x", client_id, sub, "openid", 1)
    await env.provider.store.oauth1.add_token(oauth1)  # an OAuth 1.0a token to revoke
    issuer = TrustedIssuer(
        "ti-fuzz", "https://issuer.example", 1, jwks_uri="https://issuer.example/jwks"
    )
    await env.provider.store.trusted_issuers.add(issuer)
    return known | {
        "kid": keys[0]["kid"],
        "name": github.name,
        "token_id": oauth1.token_id,
        "issuer_id": issuer.issuer_id,
    }


OPERATIONS = [  # deletions last: the objects in Admin.known stay until then
    ("GET", "/clients"),
    ("POST", "/clients"),
    ("GET", "/clients/{client_id}"),
    ("PATCH", "/clients/{client_id}"),
    ("POST", "/clients/{client_id}/secret"),
    ("GET", "/apis"),
    ("POST", "/apis"),
    ("GET", "/apis/{api_id}"),
    ("PATCH", "/apis/{api_id}"),
    ("GET", "/users"),
    ("POST", "/users"),
    ("POST", "/users/invitations"),
    ("GET", "/users/{sub}"),
    ("PATCH", "/users/{sub}"),
    ("GET", "/users/{sub}/factors"),
    ("PUT", "/users/{sub}/factors/totp"),
    ("DELETE", "/users/{sub}/factors"),
    ("GET", "/users/{sub}/sessions"),
    ("DELETE", "/users/{sub}/sessions/{sid}"),
    ("DELETE", "/users/{sub}/sessions"),
    ("GET", "/users/{sub}/oauth1-tokens"),
    ("DELETE", "/oauth1-tokens/{token_id}"),
    ("GET", "/keys"),
    ("POST", "/keys"),
    ("POST", "/keys/rotate"),
    ("GET", "/keys/{kid}"),
    ("GET", "/connections"),
    ("POST", "/connections"),
    ("GET", "/connections/{name}"),
    ("PATCH", "/connections/{name}"),
    ("GET", "/trusted-issuers"),
    ("POST", "/trusted-issuers"),
    ("GET", "/trusted-issuers/{issuer_id}"),
    ("DELETE", "/clients/{client_id}"),
    ("DELETE", "/apis/{api_id}"),
    ("DELETE", "/users/{sub}"),
    ("DELETE", "/keys/{kid}"),
    ("DELETE", "/connections/{name}"),
    ("DELETE", "/trusted-issuers/{issuer_id}"),
]


def test_every_operation_is_fuzzed(admin: Admin) -> None:
    documented = {(r.ok().method.upper(), r.ok().path) for r in admin.schema.get_all_operations()}
    assert documented == set(OPERATIONS)


async def _send(env: Env, kwargs: dict[str, Any]) -> httpx.Response:
    request: dict[str, Any] = {
        k: kwargs[k] for k in ("method", "url", "headers", "params") if k in kwargs
    }
    assert not kwargs.get("cookies"), "the admin API documents no cookies"
    if "json" in kwargs:
        request["json"] = kwargs["json"]
    elif isinstance(kwargs.get("data"), str | bytes):
        request["content"] = kwargs["data"]
    elif "data" in kwargs:
        request["data"] = kwargs["data"]
    async with env.client() as http:
        response = await http.request(**request)
        await response.aread()
        return response


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_admin_api(
    admin: Admin,
    method: str,
    path: str,
    mode: GenerationMode,
    fuzz_seed: int,
    no_traceback_logged: None,
) -> None:
    operation = admin.schema[path][method]
    auth = {"Authorization": f"Bearer {admin.token}"}

    @bounded(FEWER.get((method, path), EXAMPLES))
    @given(case=operation.as_strategy(generation_mode=mode), known=st.booleans())
    def run(case: Any, known: bool) -> None:
        if known and case.path_parameters:
            for name in case.path_parameters:
                case.path_parameters[name] = admin.known[name]
        kwargs = case.as_transport_kwargs(base_url=admin.env.settings.url(ADMIN), headers=auth)
        response = admin.runner.run(_send(admin.env, kwargs))
        raw_headers = [(k.encode(), v.encode()) for k, v in response.headers.multi_items()]
        check_answer(response.status_code, raw_headers, response.content, case.as_curl_command())
        case.validate_response(response, checks=CHECKS)

    try:
        run_seeded(run, fuzz_seed)
    except Unsatisfiable:
        # Nothing of this operation can be made invalid (a path parameter of any string).
        assert mode == GenerationMode.NEGATIVE
