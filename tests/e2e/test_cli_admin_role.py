"""The admin role through the command line: user create --admin, grant-admin, revoke-admin;
the user view shows it, an unknown user is refused by name."""

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

    def invoke(*args: str, ok: bool = True, stdin: str | None = None) -> Any:
        result = runner.invoke(app, [*args, "--json"] if ok else list(args), input=stdin)
        if not ok:
            assert result.exit_code == 1, result.output
            return result.output
        assert result.exit_code == 0, result.output
        return json.loads(result.output)

    return invoke


def test_admin_role_lifecycle(run: Any) -> None:
    pw = "correct horse battery staple\n"
    boss = run("user", "create", "boss", "--password-stdin", "--admin", stdin=pw)
    assert boss["admin"] is True
    alice = run("user", "create", "alice", "--password-stdin", stdin=pw)
    assert alice["admin"] is False

    assert run("user", "grant-admin", "alice")["admin"] is True
    listed = {u["username"]: u["admin"] for u in run("user", "list")["users"]}
    assert listed == {"boss": True, "alice": True}
    assert run("user", "revoke-admin", "alice")["admin"] is False
    assert run("user", "revoke-admin", "alice")["admin"] is False  # idempotent
    listed = {u["username"]: u["admin"] for u in run("user", "list")["users"]}
    assert listed == {"boss": True, "alice": False}

    refused = run("user", "grant-admin", "nobody", ok=False)
    assert "USERNAME: No user named nobody." in refused
