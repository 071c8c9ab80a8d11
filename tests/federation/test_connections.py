"""Connections through the command line and the admin API (issue 22): created against the
stand-in upstream's real discovery document, the redirect_uri to register printed, the client
secret stored sealed (the database row does not hold it) and never shown back; a bad issuer
refused naming the field; the connection then signs in through provider.upstreams."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from keystead.cli import app as cli_app
from tests.e2e.conftest import Env, make_env
from tests.e2e.test_admin_api import admin, admin_token
from tests.federation.standin import CLIENT_ID, CLIENT_SECRET, USER_SUB, Upstream
from tests.federation.test_upstreams import sign_in

pytestmark = pytest.mark.anyio

ADMIN = "/admin/api"
ISSUER = "http://127.0.0.1:8000"


def rows(data_dir: Path) -> list[tuple[Any, ...]]:
    with sqlite3.connect(data_dir / "keystead.db") as db:
        return db.execute("SELECT * FROM connections").fetchall()


# --- the command line ---


def command_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The real command line on a temporary data dir (as tests/e2e/conftest.py's ``run``)."""
    monkeypatch.setenv("KEYSTEAD_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("KEYSTEAD_ISSUER", ISSUER)
    runner = CliRunner()

    def invoke(*args: str, ok: bool = True, stdin: str | None = None, as_json: bool = True) -> Any:
        result = runner.invoke(cli_app, [*args, "--json"] if ok and as_json else list(args), stdin)
        if not ok:
            assert result.exit_code == 1, result.output
            return result.output
        assert result.exit_code == 0, result.output
        return json.loads(result.output) if as_json else result.output

    return invoke


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("KEYSTEAD_ALLOW_PRIVATE_NETWORK_FETCH", "true")
    return command_line(tmp_path, monkeypatch)


def test_cli_create_show_list_update_delete(cli: Any, upstream: Upstream, tmp_path: Path) -> None:
    created = cli(
        "connection",
        "create",
        *("--name", "acme", "--issuer", upstream.issuer, "--client-id", CLIENT_ID),
        *("--client-secret-stdin", "--display-name", "Acme Corp", "--link-by-verified-email"),
        stdin=CLIENT_SECRET + "\n",
    )
    assert created["name"] == "acme" and created["id"]
    assert created["redirect_uri"] == f"{ISSUER}/federation/acme/callback"
    assert created["kind"] == "oidc" and created["scope"] == "openid email profile"
    assert (created["jit"], created["link_by_verified_email"], created["enabled"]) == (
        True,
        True,
        True,
    )
    assert created["auth_method"] == "client_secret_basic"
    [row] = rows(tmp_path)
    assert CLIENT_SECRET not in repr(row) and "upstream secret" not in repr(row)  # sealed
    assert cli("connection", "show", "acme") == created
    assert [c["name"] for c in cli("connection", "list")] == ["acme"]
    human = cli("connection", "show", "acme", as_json=False)
    assert "redirect_uri: http://127.0.0.1:8000/federation/acme/callback" in human
    assert CLIENT_SECRET not in human

    updated = cli(
        "connection",
        "update",
        "acme",
        *("--disable", "--no-jit", "--auth-method", "client_secret_post"),
        *("--client-secret-stdin",),
        stdin="a new secret\n",
    )
    assert (updated["enabled"], updated["jit"], updated["auth_method"]) == (
        False,
        False,
        "client_secret_post",
    )
    [row] = rows(tmp_path)
    assert "a new secret" not in repr(row)
    assert cli("connection", "update", "acme", "--enable")["enabled"] is True
    assert cli("connection", "delete", "acme") == {"deleted": "acme"}
    assert cli("connection", "list") == []
    assert "NAME: no connection is named 'acme'" in cli("connection", "show", "acme", ok=False)


def test_cli_github_preset(cli: Any) -> None:
    created = cli(
        "connection",
        "create",
        *("--name", "github", "--preset", "github", "--client-id", "Iv1.abc"),
        "--client-secret-stdin",
        stdin="gh-secret\n",
    )
    assert (created["kind"], created["issuer"], created["display_name"]) == (
        "github",
        "https://github.com",
        "GitHub",
    )
    assert created["scope"] == "read:user user:email"
    assert created["auth_method"] == "client_secret_post"
    assert "gh-secret" not in repr(created)


@pytest.mark.parametrize(
    "args, words",
    [
        (("--name", "Bad Name"), "--name: 'Bad Name' is not a connection name"),
        (("--issuer", "https://exa mple.com/?q=1"), "--issuer:"),
        (("--issuer", "ftp://idp.example"), "--issuer: 'ftp://idp.example' is not an https URL"),
        (("--scope", "email profile"), "--scope: the scope of an OpenID Connect connection"),
        (("--auth-method", "private_key_jwt"), "--auth-method: the auth method must be one of"),
        (("--preset", "gitlab"), "--preset: 'gitlab' is not a preset"),
    ],
)
def test_cli_refusals_name_the_flag(
    cli: Any, upstream: Upstream, args: tuple[str, ...], words: str
) -> None:
    base = {"--name": "acme", "--issuer": upstream.issuer, "--client-id": CLIENT_ID}
    base |= dict(zip(args[::2], args[1::2], strict=True))
    flat = [x for pair in base.items() for x in pair]
    output = cli("connection", "create", *flat, "--client-secret-stdin", stdin="s\n", ok=False)
    assert words in output, output


def test_cli_refuses_an_upstream_without_a_usable_discovery_document(
    cli: Any, upstream: Upstream
) -> None:
    upstream.spoil["discovery"] = (200, {"issuer": "https://elsewhere.example"})
    output = cli(
        "connection",
        "create",
        *("--name", "acme", "--issuer", upstream.issuer, "--client-id", CLIENT_ID),
        "--client-secret-stdin",
        stdin="s\n",
        ok=False,
    )
    assert "--issuer:" in output and "§4.3" in output
    upstream.spoil["discovery"] = (404, {})
    output = cli(
        "connection",
        "create",
        *("--name", "acme", "--issuer", upstream.issuer + "/nope", "--client-id", CLIENT_ID),
        "--client-secret-stdin",
        stdin="s\n",
        ok=False,
    )
    assert "answered HTTP 404" in output


def test_cli_http_issuer_needs_the_development_switch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, upstream: Upstream
) -> None:
    plain = command_line(tmp_path, monkeypatch)
    output = plain(
        "connection",
        "create",
        *("--name", "acme", "--issuer", upstream.issuer, "--client-id", CLIENT_ID),
        "--client-secret-stdin",
        stdin="s\n",
        ok=False,
    )
    assert "--issuer: the issuer must be https" in output
    assert "KEYSTEAD_ALLOW_PRIVATE_NETWORK_FETCH" in output


# --- the admin API ---


@pytest.fixture
async def env(tmp_path: Path) -> Any:
    e = await make_env(tmp_path, allow_private_network_fetch=True)
    yield e
    await e.provider.close()


async def test_admin_api_crud_and_sign_in(env: Env, upstream: Upstream, tmp_path: Path) -> None:
    token = await admin_token(env)
    seen: list[Any] = []
    env.provider.events.subscribers.append(seen.append)
    body = {
        "name": "acme",
        "issuer": upstream.issuer,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "auth_method": "client_secret_post",
    }
    async with admin(env, token) as http:
        r = await http.post(f"{ADMIN}/connections", json=body)
        assert r.status_code == 201, r.text
        created = r.json()
        assert r.headers["location"] == f"{ISSUER}{ADMIN}/connections/acme"
        assert created["redirect_uri"] == f"{ISSUER}/federation/acme/callback"
        assert "client_secret" not in created and CLIENT_SECRET not in r.text
        assert (await http.post(f"{ADMIN}/connections", json=body)).status_code == 409
        r = await http.get(f"{ADMIN}/connections")
        assert [c["name"] for c in r.json()["items"]] == ["acme"]
        assert (await http.get(f"{ADMIN}/connections/acme")).json() == created

        # the stored connection signs in at the upstream with its unsealed secret
        connection = await env.provider.store.connections.get_by_name("acme")
        assert connection is not None
        identity = await sign_in(env.provider.upstreams, connection)
        assert identity.upstream_sub == USER_SUB
        assert upstream.token_requests[-1]["method"] == "client_secret_post"

        r = await http.patch(f"{ADMIN}/connections/acme", json={"enabled": False, "jit": False})
        assert r.status_code == 200 and (r.json()["enabled"], r.json()["jit"]) == (False, False)
        r = await http.patch(f"{ADMIN}/connections/acme", json={"client_secret": "rotated"})
        assert r.status_code == 200 and "rotated" not in r.text
        r = await http.patch(f"{ADMIN}/connections/acme", json={"enabled": None})
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "enabled"
        r = await http.patch(f"{ADMIN}/connections/acme", json={"issuer": "http://[::1"})
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "issuer"
        assert all("rotated" not in repr(row) for row in rows(tmp_path))
        assert (await http.delete(f"{ADMIN}/connections/acme")).status_code == 204
        assert (await http.get(f"{ADMIN}/connections/acme")).status_code == 404
    events = [e for e in seen if e.name.startswith("connection.")]
    assert [e.name for e in events] == ["connection.created"] + ["connection.updated"] * 2 + [
        "connection.deleted"
    ]
    assert events[0].data["channel"] == "admin_api" and events[0].data["connection"] == "acme"
    assert events[2].data["changed"] == ["client_secret"]
    assert all(CLIENT_SECRET not in repr(e.data) and "rotated" not in repr(e.data) for e in events)


async def test_admin_api_refuses_a_bad_issuer_naming_the_field(
    env: Env, upstream: Upstream
) -> None:
    token = await admin_token(env)
    upstream.spoil["discovery"] = (200, {"issuer": upstream.issuer})  # no endpoints
    body = {"name": "acme", "issuer": upstream.issuer, "client_id": "x", "client_secret": "y"}
    async with admin(env, token) as http:
        r = await http.post(f"{ADMIN}/connections", json=body)
        assert r.status_code == 422
        [error] = r.json()["errors"]
        assert error["field"] == "issuer" and "authorization_endpoint" in error["message"]
        r = await http.post(f"{ADMIN}/connections", json=body | {"preset": "github"})
        assert r.status_code == 201 and r.json()["kind"] == "github"  # no discovery for GitHub
        assert (await http.get(f"{ADMIN}/openapi.json")).json()["paths"]["/connections/{name}"]
