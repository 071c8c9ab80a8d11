"""client update, client rotate-secret and keys retire through the command line; a refusal
names the command's flag."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from keystead.cli import app


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("KEYSTEAD_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("KEYSTEAD_ISSUER", "http://127.0.0.1:8000")
    runner = CliRunner()

    def invoke(*args: str, ok: bool = True) -> Any:
        options, rest = (
            (args[: args.index("--")], args[args.index("--") :]) if "--" in args else (args, ())
        )
        result = runner.invoke(app, [*options, "--json", *rest] if ok else list(args))
        if not ok:
            assert result.exit_code == 1, result.output
            return result.output
        assert result.exit_code == 0, result.output
        return json.loads(result.output)

    return invoke


def create(run: Any, *extra: str) -> dict[str, Any]:
    created: dict[str, Any] = run(
        "client", "create", "--name", "App", "--redirect-uri", "https://app.example/cb", *extra
    )
    return created


def test_client_update_changes_only_what_is_given(run: Any) -> None:
    created = create(run, "--allowed-origin", "https://spa.example")
    client_id = created["client_id"]
    updated = run(
        "client",
        "update",
        client_id,
        *("--name", "Renamed", "--redirect-uri", "https://moved.example/cb"),
        *("--redirect-uri", "https://moved.example/cb2", "--no-require-pkce"),
    )
    assert updated["client_name"] == "Renamed"
    assert updated["redirect_uris"] == ["https://moved.example/cb", "https://moved.example/cb2"]
    assert updated["require_pkce"] is False
    assert updated["allowed_origins"] == ["https://spa.example"]  # not given: kept
    assert "client_secret" not in updated  # the secret stays
    assert run("client", "show", client_id) == updated
    # a method that needs a secret the client does not have gets one, shown once
    public = create(run, "--token-endpoint-auth-method", "none")
    assert "client_secret" not in public
    confidential = run(
        "client",
        "update",
        public["client_id"],
        *("--token-endpoint-auth-method", "client_secret_post"),
    )
    assert confidential["client_secret"]


def test_client_update_refusals_name_the_flag(run: Any) -> None:
    client_id = create(run)["client_id"]
    out = run("client", "update", client_id, "--grant-type", "password", ok=False)
    assert "--grant-type" in out and "password is unknown" in out
    out = run("client", "update", client_id, "--redirect-uri", "http://app.example/cb", ok=False)
    assert "--redirect-uri" in out and "use https" in out
    out = run("client", "update", "nope", "--name", "X", ok=False)
    assert "No client with client_id nope" in out
    out = run("client", "create", "--name", "No URI", ok=False)
    assert "error: --redirect-uri: At least one redirect URI" in out


def test_client_rotate_secret(run: Any) -> None:
    created = create(run)
    rotated = run("client", "rotate-secret", created["client_id"])
    assert rotated["client_id"] == created["client_id"]
    assert rotated["client_secret"] and rotated["client_secret"] != created["client_secret"]
    public = create(run, "--token-endpoint-auth-method", "none")
    out = run("client", "rotate-secret", public["client_id"], ok=False)
    assert "no secret to rotate" in out


def test_client_delete_of_an_unknown_client_fails(run: Any) -> None:
    client_id = create(run)["client_id"]
    assert run("client", "delete", client_id) == {"deleted": client_id}
    assert "No client" in run("client", "delete", client_id, ok=False)


def test_keys_retire(run: Any) -> None:
    run("init")
    (new,) = run("keys", "rotate", "--alg", "ES256")
    assert new["status"] == "next"
    (signing,) = [  # the old key signs until the new one activates, then retires later
        k for k in run("keys", "list") if k["alg"] == "ES256" and k["status"] == "retiring"
    ]
    # the only key that signs ES256 now cannot be retired: rotate first
    out = run("keys", "retire", "--", signing["kid"], ok=False)  # a kid may start with "-"
    assert "only active ES256 key" in out
    retired = run("keys", "retire", "--", new["kid"])
    assert retired["kid"] == new["kid"] and retired["status"] == "retired"
    statuses = {k["kid"]: k["status"] for k in run("keys", "list")}
    assert statuses[new["kid"]] == "retired"
    assert "No key nope" in run("keys", "retire", "nope", ok=False)
    assert "--alg: HS256 is not a signing alg" in run("keys", "rotate", "--alg", "HS256", ok=False)
