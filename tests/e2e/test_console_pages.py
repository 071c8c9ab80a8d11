"""The console's other pages over HTTP: the wizard's defaults per application type, edit
with a field-level message that keeps the input, delete after a confirmation, users (create,
reset factors, grant the role, delete), pagination, and the signed-out console."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pyotp
import pytest

from keystead.services import apis
from keystead.services import factors as factor_service
from keystead.services.clients import ClientSpec, create
from keystead.services.common import CLI
from keystead.store.base import EventRecord
from tests.e2e.conftest import Browser, Env, make_env
from tests.e2e.test_console import code_text, console_sign_in, csrf_of, table_of

pytestmark = pytest.mark.anyio


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[Env]:
    e = await make_env(tmp_path, admin_require_mfa=False)
    yield e
    await e.provider.close()


@pytest.fixture
async def admin(env: Env) -> AsyncIterator[httpx.AsyncClient]:
    await env.add_user("root", admin=True)
    async with env.client() as http:
        home = await console_sign_in(Browser(http), "root")
        assert home.status_code == 200
        yield http


async def wizard(http: httpx.AsyncClient, kind: str, **fields: str) -> httpx.Response:
    form = await http.get(f"/admin/clients/new?type={kind}")
    assert form.status_code == 200
    data = {"csrf_token": csrf_of(form), "type": kind, **fields}
    return await http.post("/admin/clients/new", data=data)


async def test_the_wizard_sets_each_types_defaults(env: Env, admin: httpx.AsyncClient) -> None:
    spa = await wizard(
        admin, "spa", client_name="Dashboard", redirect_uris="https://dash.example/cb"
    )
    native = await wizard(
        admin, "native", client_name="Desktop", redirect_uris="com.example.desk:/callback"
    )
    await apis.create(env.provider, apis.ApiSpec("https://reports.example", "Reports"), CLI)
    m2m = await wizard(
        admin, "m2m", client_name="Reporter", scope="", default_resource="https://reports.example"
    )
    for page in (spa, native, m2m):
        assert page.status_code == 200, re.findall(
            r'(?:class="error"|<h1|<p)[^>]*>[^<]*', page.text
        )
    assert "client-secret" not in spa.text and "oidc-client-ts" in spa.text
    assert "client-secret" not in native.text
    assert "clientCredentialsGrant" in m2m.text
    get = env.provider.store.clients.get
    spa_client = await get(code_text(spa, "client-id"))
    native_client = await get(code_text(native, "client-id"))
    m2m_client = await get(code_text(m2m, "client-id"))
    assert spa_client and native_client and m2m_client
    assert spa_client.token_endpoint_auth_method == "none" and spa_client.require_pkce
    assert native_client.application_type == "native" and native_client.is_public
    assert m2m_client.grant_types == ("client_credentials",) and not m2m_client.redirect_uris
    secret = code_text(m2m, "client-secret")
    async with env.client() as http:  # the m2m client works at once
        token = await http.post(
            "/token",
            data={"grant_type": "client_credentials"},
            auth=(m2m_client.client_id, secret),
        )
    assert token.status_code == 200 and "access_token" in token.json(), token.text
    native_bad = await wizard(admin, "native", client_name="X", redirect_uris="javascript:alert(1)")
    assert native_bad.status_code == 400 and 'id="e-redirect_uris"' in native_bad.text


async def test_edit_keeps_the_input_and_delete_asks_first(
    env: Env, admin: httpx.AsyncClient
) -> None:
    spec = ClientSpec(client_name="Shop", redirect_uris=["https://shop.example/cb"])
    client, _ = await create(env.provider, spec, CLI)
    page = await admin.get(f"/admin/clients/{client.client_id}")
    assert page.status_code == 200 and "Rotate the secret" in page.text
    data = {
        "csrf_token": csrf_of(page),
        "client_name": "Shop 2",
        "redirect_uris": "https://shop.example/cb\nftp://nope",
        "scope": "openid",
    }
    bad = await admin.post(f"/admin/clients/{client.client_id}", data=data)
    assert bad.status_code == 400 and 'value="Shop 2"' in bad.text and "ftp://nope" in bad.text
    assert re.search(r'id="e-redirect_uris">[^<]+<', bad.text)
    data["redirect_uris"] = "https://shop.example/cb2"
    saved = await admin.post(f"/admin/clients/{client.client_id}", data=data)
    assert saved.status_code == 303
    stored = await env.provider.store.clients.get(client.client_id)
    assert stored and stored.client_name == "Shop 2"
    assert stored.redirect_uris == ("https://shop.example/cb2",)

    confirm = await admin.get(f"/admin/clients/{client.client_id}/delete")
    assert confirm.status_code == 200 and "cannot be undone" in confirm.text
    assert await env.provider.store.clients.get(client.client_id) is not None
    gone = await admin.post(
        f"/admin/clients/{client.client_id}/delete", data={"csrf_token": csrf_of(confirm)}
    )
    assert gone.status_code == 303
    assert await env.provider.store.clients.get(client.client_id) is None
    missing = await admin.get(f"/admin/clients/{client.client_id}")
    assert missing.status_code == 404


async def test_users_create_reset_grant_delete(env: Env, admin: httpx.AsyncClient) -> None:
    form = await admin.get("/admin/users/new")
    weak = await admin.post(
        "/admin/users/new",
        data={"csrf_token": csrf_of(form), "username": "carol", "password": "password"},
    )
    assert weak.status_code == 400 and 'id="e-password"' in weak.text
    assert 'value="carol"' in weak.text and 'value="password"' not in weak.text
    created = await admin.post(
        "/admin/users/new",
        data={
            "csrf_token": csrf_of(form),
            "username": "carol",
            "password": "a long enough passphrase",
            "email": "carol@example.com",
        },
    )
    assert created.status_code == 303
    carol = await env.provider.store.users.get_by_username("carol")
    assert carol is not None and not carol.admin
    await factor_service.import_totp(env.provider, carol.sub, pyotp.random_base32(), "P", CLI)
    page = await admin.get(f"/admin/users/{carol.sub}")
    assert "Reset second factors" in page.text
    for action in ("reset-factors", "grant-admin"):
        done = await admin.post(
            f"/admin/users/{carol.sub}/{action}", data={"csrf_token": csrf_of(page)}
        )
        assert done.status_code == 303
    assert await env.provider.store.factors.list(carol.sub) == []
    carol = await env.provider.store.users.get(carol.sub)
    assert carol is not None and carol.admin
    assert 'id="status">enabled<' in page.text and "Disable the account" in page.text
    off = await admin.post(f"/admin/users/{carol.sub}/disable", data={"csrf_token": csrf_of(page)})
    assert off.status_code == 303 and "done=disabled" in off.headers["location"]
    shown = await admin.get(f"/admin/users/{carol.sub}")
    assert 'id="status">disabled<' in shown.text and "Enable the account" in shown.text
    carol = await env.provider.store.users.get(carol.sub)
    assert carol is not None and carol.disabled_at is not None
    back = await admin.post(f"/admin/users/{carol.sub}/enable", data={"csrf_token": csrf_of(page)})
    assert back.status_code == 303
    carol = await env.provider.store.users.get(carol.sub)
    assert carol is not None and carol.disabled_at is None
    invite = await admin.post(
        "/admin/users/invite", data={"csrf_token": csrf_of(page), "invite_email": "x@example.com"}
    )
    assert invite.status_code in (303, 400)  # 400: no mail configured, said beside the field
    if invite.status_code == 400:
        assert 'id="e-invite_email"' in invite.text and 'value="x@example.com"' in invite.text
    confirm = await admin.get(f"/admin/users/{carol.sub}/delete")
    deleted = await admin.post(
        f"/admin/users/{carol.sub}/delete", data={"csrf_token": csrf_of(confirm)}
    )
    assert deleted.status_code == 303
    assert await env.provider.store.users.get(carol.sub) is None
    log = table_of(await admin.get("/admin/events?type=user"))
    for name in ("user.created", "user.admin_granted", "user.deleted"):
        assert f"<code>{name}</code>" in log
    assert "mfa.reset" in table_of(await admin.get("/admin/events?type=mfa"))


async def test_lists_page_through_the_database(env: Env, admin: httpx.AsyncClient) -> None:
    for n in range(30):
        env.clock.now += 1
        spec = ClientSpec(client_name=f"App {n:02d}", redirect_uris=["https://a.example/cb"])
        await create(env.provider, spec, CLI)
    first = await admin.get("/admin/clients")
    assert first.text.count("<tr>") == 1 + 25  # the header row and a page
    next_link = re.search(r'href="([^"]+)" rel="next"', first.text)
    assert next_link
    second = await admin.get(next_link.group(1).replace("&amp;", "&"))
    assert second.text.count("<tr>") == 1 + 5 and "App 29" in second.text
    found = await admin.get("/admin/clients?q=app+2")
    names = re.findall(r">(App \d\d)</a>", found.text)
    assert names == [f"App {n}" for n in range(20, 30)]
    for path in ("/admin/apis", "/admin/connections", "/admin/keys", "/admin/users"):
        assert (await admin.get(path)).status_code == 200, path


async def test_signing_out_closes_the_console(admin: httpx.AsyncClient) -> None:
    home = await admin.get("/admin")
    out = await admin.post("/admin/signout", data={"csrf_token": csrf_of(home)})
    assert out.status_code == 200 and "signed out of the admin console" in out.text
    assert (await admin.get("/admin")).status_code == 303


async def test_try_it_runs_the_code_flow_and_decodes_the_tokens(
    env: Env, admin: httpx.AsyncClient
) -> None:
    try_uri = env.settings.url("/admin/try")
    plain, _ = await create(
        env.provider, ClientSpec(client_name="Plain", redirect_uris=["https://p.example/cb"]), CLI
    )
    page = await admin.get(f"/admin/clients/{plain.client_id}")
    assert f"add <code>{try_uri}</code>" in page.text and ">Try it</button>" not in page.text
    refused = await admin.post(
        f"/admin/clients/{plain.client_id}/try", data={"csrf_token": csrf_of(page)}
    )
    assert refused.status_code == 303 and "/authorize" not in refused.headers["location"]

    spec = ClientSpec(
        client_name="Tried",
        redirect_uris=["https://t.example/cb", try_uri],
        skip_consent=True,
        scope="openid profile offline_access",
    )
    client, _ = await create(env.provider, spec, CLI)
    page = await admin.get(f"/admin/clients/{client.client_id}")
    started = await admin.post(
        f"/admin/clients/{client.client_id}/try", data={"csrf_token": csrf_of(page)}
    )
    assert started.status_code == 303 and "/authorize?" in started.headers["location"]
    assert "offline_access" not in started.headers["location"]
    back = await admin.get(started.headers["location"])  # signed in already: straight back
    assert back.status_code in (302, 303)
    assert back.headers["location"].startswith(try_uri + "?code=")
    shown = await admin.get(back.headers["location"])
    assert shown.status_code == 200, shown.text[:1000]
    root = await env.provider.store.users.get_by_username("root")
    assert root is not None
    assert f'"sub": "{root.sub}"' in shown.text.replace("&#34;", '"')
    assert "✔ <b>signature</b>" in shown.text and "refresh_token" not in shown.text
    replayed = await admin.get(back.headers["location"])  # the flow cookie is gone
    assert replayed.status_code == 400
    log = table_of(await admin.get(f"/admin/events?type=console&client_id={client.client_id}"))
    assert "<code>console.tried</code>" in log


async def test_the_audit_log_pages_through_the_database(env: Env, admin: httpx.AsyncClient) -> None:
    records = [
        EventRecord(f"ev{n:03d}", "keys.retired", 1000 + n, f"cid{n}", {"kid": f"k{n}"})
        for n in range(120)
    ]
    await env.provider.store.events.add_many(records)
    first = await admin.get("/admin/events?type=keys.retired")
    assert table_of(first).count("<tr>") == 100 and "k119" in first.text
    older = re.search(r'href="([^"]+)" rel="next">Older events', first.text)
    assert older
    second = await admin.get(older.group(1).replace("&amp;", "&"))
    rows = table_of(second)
    assert rows.count("<tr>") == 20 and "k19<" in rows and "k20<" not in rows
    assert "Older events" not in second.text
    window = await admin.get("/admin/events?since=1970-01-01T00:17&until=1970-01-01T00:18")
    rows = table_of(window)  # created_at 1020 ..< 1080
    assert rows.count("<tr>") == 60 and "k20<" in rows and "k79<" in rows and "k80<" not in rows


async def test_apis_and_connections_created_and_deleted(env: Env, admin: httpx.AsyncClient) -> None:
    page = await admin.get("/admin/apis")
    assert page.status_code == 200 and "Register an API" in page.text
    token = csrf_of(page)
    bad = await admin.post(
        "/admin/apis", data={"csrf_token": token, "identifier": "not a url", "name": "Orders"}
    )
    assert bad.status_code == 400 and 'id="e-identifier"' in bad.text
    assert 'value="Orders"' in bad.text  # what the admin typed stays
    made = await admin.post(
        "/admin/apis",
        data={
            "csrf_token": token,
            "identifier": "https://orders.example.com",
            "name": "Orders",
            "scopes": "orders:read=Read orders\norders:write",
            "token_format": "jwt",
            "with_secret": "on",
        },
    )
    assert made.status_code == 200 and 'id="api-secret"' in made.text
    api = await env.provider.store.apis.get_by_identifier("https://orders.example.com")
    assert api is not None and [s for s, _ in api.scopes] == ["orders:read", "orders:write"]
    assert api.secret_hash is not None
    confirm = await admin.get(f"/admin/apis/{api.api_id}/delete")
    assert confirm.status_code == 200 and "Delete the API" in confirm.text
    gone = await admin.post(f"/admin/apis/{api.api_id}/delete", data={"csrf_token": token})
    assert gone.status_code == 303
    assert await env.provider.store.apis.get_by_identifier("https://orders.example.com") is None

    page = await admin.get("/admin/connections")
    assert "Add a connection" in page.text
    nameless = await admin.post(
        "/admin/connections",
        data={"csrf_token": token, "kind": "github", "name": "Bad Name", "client_id": "x",
              "client_secret": "s3cret"},
    )  # fmt: skip
    assert nameless.status_code == 400 and 'id="e-name"' in nameless.text
    assert "s3cret" not in nameless.text  # a secret is never echoed back
    added = await admin.post(
        "/admin/connections",
        data={"csrf_token": token, "kind": "github", "name": "github", "client_id": "Iv1.x",
              "client_secret": "s3cret", "jit": "on"},
    )  # fmt: skip
    assert added.status_code == 303
    listed = await admin.get("/admin/connections")
    assert "/federation/github/callback" in listed.text
    connection = await env.provider.store.connections.get_by_name("github")
    assert connection is not None and "s3cret" not in connection.client_secret_enc
    assert (await admin.get("/admin/connections/github/delete")).status_code == 200
    gone = await admin.post("/admin/connections/github/delete", data={"csrf_token": token})
    assert gone.status_code == 303
    assert await env.provider.store.connections.get_by_name("github") is None
    await env.provider.recorder.flush()
    names = [e.name for e in await env.provider.store.events.recent(200)]
    for name in ("api.created", "api.deleted", "connection.created", "connection.deleted"):
        assert name in names
