"""Every protocol endpoint of the endpoint table, fuzzed through the real ASGI app on a
SQLite store: random and adversarial parameters (duplicates, huge values, non-UTF-8 bytes,
lone surrogates, nested JSON, malformed URLs), malformed Basic and Bearer headers, odd
content types, bodies in chunks and past the size limit.

Each answer must be whole (its Content-Length that of the body sent, the last body message
sent), never a 5xx, and a 4xx in JSON must carry an RFC ``error`` and an
``error_description``; the process's memory stays bounded over the run, and afterwards no
``keystead`` log record holds a traceback.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from hypothesis import given
from hypothesis import strategies as st

from keystead.services.apis import ApiSpec, create_api
from keystead.web.table import ENDPOINTS, OAUTH_METADATA, OIDC_CONFIG
from tests.e2e.conftest import PASSWORD, REDIRECT_URI, Env, form_fields, make_env, pkce_pair
from tests.fuzz.asgi import Raw, call
from tests.fuzz.conftest import bounded, check_answer, rss_bytes, run_seeded
from tests.fuzz.strategies import (
    CONTENT_TYPES,
    authorization,
    encoded_pairs,
    metadata_json,
)

# The protocol endpoints of web/table.py, each with the methods fuzzed; the rest of the table
# is named in NOT_HERE with where it is covered, so a new row must be placed in one or the other.
PROTOCOL = {
    "/authorize": ("GET", "POST"),
    "/login": ("POST",),
    "/login/factor": ("POST",),
    "/login/passkey": ("POST",),
    "/consent": ("POST",),
    "/federation/start": ("POST",),
    "/federation/link": ("POST",),
    "/federation/link/mail": ("POST",),
    "/federation/link/confirm": ("GET", "POST"),
    "/federation/{name}/callback": ("GET",),
    "/account": ("GET",),
    "/account/confirm": ("GET",),
    "/account/password": ("POST",),
    "/account/totp": ("GET", "POST"),
    "/account/factors/remove": ("POST",),
    "/account/recovery-codes": ("POST",),
    "/account/passkeys": ("POST",),
    "/account/profile": ("POST",),
    "/account/verify-email": ("POST",),
    "/account/delete": ("POST",),
    "/account/sessions/end": ("POST",),
    "/account/sessions/end-others": ("POST",),
    "/account/apps/revoke": ("POST",),
    "/account/connections/link": ("POST",),
    "/account/connections/unlink": ("POST",),
    "/account/oauth1": ("GET",),
    "/account/oauth1/revoke": ("POST",),
    "/account/data": ("GET",),
    "/password/forgot": ("GET", "POST"),
    "/password/reset": ("GET", "POST"),
    "/invitation": ("GET", "POST"),
    "/email/verify": ("GET", "POST"),
    "/signup": ("GET", "POST"),
    "/token": ("POST",),
    "/par": ("POST",),
    "/device_authorization": ("POST",),
    "/device": ("GET", "POST"),
    "/bc-authorize": ("POST",),
    "/account/ciba/answer": ("POST",),
    "/introspect": ("POST",),
    "/revoke": ("POST",),
    "/userinfo": ("GET", "POST"),
    "/oauth1/request_token": ("POST",),
    "/oauth1/authorize": ("GET", "POST"),
    "/oauth1/access_token": ("POST",),
    "/oauth1/userinfo": ("GET", "POST"),
    "/oauth1/verify": ("POST",),
    "/register": ("POST",),
    "/register/{client_id}": ("GET", "PUT", "DELETE"),
    "/logout": ("GET", "POST"),
    "/logout/confirm": ("POST",),
    OIDC_CONFIG: ("GET",),
    OAUTH_METADATA: ("GET",),
    "/jwks": ("GET",),
}
NOT_HERE = {
    "/admin/api": "tests/fuzz/test_admin_api.py (schemathesis)",
    "/admin": "the admin console's pages: tests/e2e/test_console*.py (an admin's session)",
    "/errors": "static documentation pages",
    "/healthz": "operations",
    "/readyz": "operations",
    "/metrics": "operations",
    "/demo": "the quickstart's relying party",
    "/static/": "files",
}
CASES = [(path, method) for path, methods in PROTOCOL.items() for method in methods]
EXAMPLES = 45  # per endpoint and method, per seed
RSS_BOUND = 256 * 1024 * 1024  # growth allowed over the whole module


def test_every_protocol_row_is_fuzzed() -> None:
    for row in ENDPOINTS:
        if row.path in PROTOCOL:
            assert set(row.methods) == set(PROTOCOL[row.path]), row.path
        else:
            assert any(row.path.startswith(p) for p in NOT_HERE), f"{row.path}: fuzz it here"


@dataclass
class World:
    runner: asyncio.Runner
    env: Env
    context: dict[str, str]
    rss_at_start: int


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    runner = asyncio.Runner()
    env = runner.run(make_env(tmp_path_factory.mktemp("fuzz"), open_registration=True))
    context = runner.run(_context(env))
    yield World(runner, env, context, rss_bytes())
    runner.run(env.provider.close())
    runner.close()


async def _context(env: Env) -> dict[str, str]:
    """Real values for the fuzz to mix in, so requests get past the first checks."""
    await create_api(
        env.provider.store, ApiSpec("https://api.example", "API", [("read", "R")]), env.clock()
    )
    env.provider.forget_apis()
    client_id, secret = await env.add_client(
        grant_types=["authorization_code", "refresh_token", "client_credentials"],
        scope="openid profile offline_access read keystead:admin",
    )
    public_id, _ = await env.add_client(token_endpoint_auth_method="none")
    await env.add_user()
    _, challenge = pkce_pair()
    authorize = {
        "client_id": client_id,
        "redirect_uri": REDIRECT_URI,
        "response_type": "code",
        "scope": "openid profile",
        "state": "s",
        "nonce": "n",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    async with env.client() as http:
        page = await http.get("/authorize", params=authorize)
        fields = form_fields(page.text)
        cookies = "; ".join(f"{k}={v}" for k, v in http.cookies.items())
        token = await http.post(
            "/token",
            data={"grant_type": "client_credentials", "scope": "keystead:admin"},
            auth=(client_id, secret or ""),
        )
        registered = await http.post("/register", json={"redirect_uris": [REDIRECT_URI]})
    assert token.status_code == 200, token.text
    assert registered.status_code == 201, registered.text
    return {
        "client_id": client_id,
        "public_id": public_id,
        "basic": base64.b64encode(f"{client_id}:{secret}".encode()).decode(),
        "redirect_uri": REDIRECT_URI,
        "code_challenge": challenge,
        "access_token": token.json()["access_token"],
        "registered_id": registered.json()["client_id"],
        "registration_token": registered.json()["registration_access_token"],
        "response_type": "code",
        "scope": "openid profile",
        "grant_type": "authorization_code",
        "resource": "https://api.example",
        "interaction": fields["interaction"],
        "csrf_token": fields["csrf_token"],
        "cookies": cookies,
        "username": "alice",
        "password": PASSWORD,
    }


def base_of(path: str, c: dict[str, str]) -> tuple[tuple[str, str], ...]:
    """The parameters of a valid request to ``path``, for the fuzz to take apart."""
    authorize = (
        ("client_id", c["client_id"]),
        ("redirect_uri", c["redirect_uri"]),
        ("response_type", "code"),
        ("scope", "openid profile read"),
        ("state", "s"),
        ("code_challenge", c["code_challenge"]),
        ("code_challenge_method", "S256"),
        ("resource", c["resource"]),
        ("claims", '{"userinfo": {"email": null}}'),
    )
    interaction = (("interaction", c["interaction"]), ("csrf_token", c["csrf_token"]))
    bases: dict[str, tuple[tuple[str, str], ...]] = {
        "/authorize": authorize,
        "/login": (*interaction, ("username", "alice"), ("password", c["password"])),
        "/consent": (*interaction, ("decision", "approve")),
        "/token": (
            ("grant_type", "client_credentials"),
            ("scope", "read"),
            ("resource", c["resource"]),
        ),
        "/introspect": (("token", c["access_token"]), ("token_type_hint", "access_token")),
        "/revoke": (("token", c["access_token"]), ("token_type_hint", "access_token")),
        "/userinfo": (("access_token", c["access_token"]),),
        "/logout": (
            ("client_id", c["client_id"]),
            ("post_logout_redirect_uri", c["redirect_uri"]),
            ("state", "s"),
        ),
        "/logout/confirm": (*interaction, ("decision", "logout")),
    }
    return bases.get(path, ())


def requests(path: str, method: str, context: dict[str, str]) -> st.SearchStrategy[Raw]:
    concrete = path.replace("{client_id}", context["registered_id"]).replace("{name}", "corp")
    paths = st.sampled_from([concrete] * 8 + [concrete + "/", concrete.replace("/", "//", 1)])
    json_body = path.startswith("/register")
    base = base_of(path, context)
    cookies = context["cookies"].encode()
    body = metadata_json(context) if json_body else encoded_pairs(context, base)
    valid_auth = b"Bearer " + context["access_token"].encode()
    if path in ("/token", "/introspect", "/revoke"):
        valid_auth = b"Basic " + context["basic"].encode()
    elif path.startswith("/register/"):
        valid_auth = b"Bearer " + context["registration_token"].encode()
    form = b"application/x-www-form-urlencoded"
    headers = st.tuples(
        st.one_of(st.just(valid_auth), authorization(context)),
        st.one_of(st.just(None if json_body else form), st.sampled_from(CONTENT_TYPES)),
        st.sampled_from([None, b"https://rp.example.com", b"null", b"\xff"]),
        st.sampled_from([None, b"application/json", b"application/jwt", b"*/*;q=\xff"]),
        st.sampled_from(
            [None, cookies, cookies, b"keystead_session=" + b"A" * 40, b"=;=;\xff", b"a" * 5000]
        ),
    )

    def build(
        path_: str,
        query: bytes,
        heads: tuple[bytes | None, ...],
        payload: bytes,
        big: int,
        chunk: int,
        host: int,
    ) -> Raw:
        names = (b"authorization", b"content-type", b"origin", b"accept", b"cookie")
        items = tuple((n, v) for n, v in zip(names, heads, strict=True) if v is not None)
        if json_body and heads[1] is None:
            items += ((b"content-type", b"application/json"),)
        if big:
            payload += b"&x=" + b"A" * big  # past the body limit, arriving in chunks
        if method in ("GET", "DELETE"):
            payload = b""
        return Raw(method, path_, query, items, payload, chunk, (f"198.51.100.{host}", 40000))

    return st.builds(
        build,
        paths,
        encoded_pairs(context, base) if method == "GET" else st.sampled_from([b"", b"x=1&x=2"]),
        headers,
        body,
        st.sampled_from([0] * 8 + [70_000, 1_000_000]),
        st.sampled_from([65536, 1, 7, 4096]),
        st.integers(min_value=1, max_value=254),
    )


@pytest.mark.parametrize(("path", "method"), CASES)
def test_fuzz(
    world: World, path: str, method: str, fuzz_seed: int, no_traceback_logged: None
) -> None:
    @bounded(EXAMPLES)
    @given(raw=requests(path, method, world.context))
    def run(raw: Raw) -> None:
        if raw.chunk == 1 and len(raw.body) > 5000:  # byte by byte: keep it short
            raw = Raw(raw.method, raw.path, raw.query, raw.headers, raw.body[:5000], 1, raw.client)
        answer = world.runner.run(call(world.env.app, raw))
        check_answer(answer.status, answer.headers, answer.body, f"{method} {raw!r:.600}")

    run_seeded(run, fuzz_seed)
    growth = rss_bytes() - world.rss_at_start
    assert growth < RSS_BOUND, f"RSS grew by {growth // 2**20} MiB over the fuzz"
