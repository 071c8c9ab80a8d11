"""api create and api update through the command line: the self-registration policy (issue 18
#4) is set, replaced and cleared; a scope that is not the API's is refused naming the flag."""

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
        result = runner.invoke(app, [*args, "--json"] if ok else list(args))
        if not ok:
            assert result.exit_code == 1, result.output
            return result.output
        assert result.exit_code == 0, result.output
        return json.loads(result.output)

    return invoke


def create(run: Any, *extra: str) -> dict[str, Any]:
    created: dict[str, Any] = run(
        "api",
        "create",
        *("--identifier", "https://api.example", "--scope", "api:read", "--scope", "api:write"),
        *extra,
    )
    return created


def test_create_with_and_without_self_registration_scopes(run: Any) -> None:
    closed = create(run)
    assert closed["self_registration_scopes"] == []  # the default: none
    opened = run(
        "api",
        "create",
        *("--identifier", "https://other.example", "--scope", "other:read"),
        *("--self-registration-scope", "other:read"),
    )
    assert opened["self_registration_scopes"] == ["other:read"]
    assert run("api", "show", opened["api_id"]) == opened


def test_update_sets_replaces_and_clears_the_policy(run: Any) -> None:
    api_id = create(run)["api_id"]
    updated = run("api", "update", api_id, "--self-registration-scope", "api:read")
    assert updated["self_registration_scopes"] == ["api:read"]
    assert updated["scopes"] == {"api:read": "Access api:read", "api:write": "Access api:write"}
    renamed = run("api", "update", "https://api.example", "--name", "Renamed")
    assert renamed["name"] == "Renamed"
    assert renamed["self_registration_scopes"] == ["api:read"]  # not given: kept
    both = ("--self-registration-scope", "api:read", "--self-registration-scope", "api:write")
    assert run("api", "update", api_id, *both)["self_registration_scopes"] == [
        "api:read",
        "api:write",
    ]
    # dropping a scope from the API drops it from the policy too
    narrowed = run("api", "update", api_id, "--scope", "api:write")
    assert narrowed["self_registration_scopes"] == ["api:write"]
    cleared = run("api", "update", api_id, "--no-self-registration-scopes")
    assert cleared["self_registration_scopes"] == []
    assert run("api", "show", api_id) == cleared


def test_a_scope_the_api_does_not_own_is_refused_naming_the_flag(run: Any) -> None:
    output = run(
        "api",
        "create",
        *("--identifier", "https://api.example", "--scope", "api:read"),
        *("--self-registration-scope", "openid"),
        ok=False,
    )
    assert "--self-registration-scope" in output
    assert "openid" in output
    api_id = create(run, "--identifier", "https://third.example")["api_id"]
    output = run("api", "update", api_id, "--self-registration-scope", "api:delete", ok=False)
    assert "--self-registration-scope" in output and "api:delete" in output
    assert run("api", "show", api_id)["self_registration_scopes"] == []
