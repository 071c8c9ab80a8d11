"""Backup and restore, keys included: a backup taken while the server runs, restored into a
fresh data dir (SQLite, secret.key in the backup) or a fresh database (PostgreSQL, the KEK from
KEYSTEAD_SECRET_KEY), serves the same tokens: they introspect active, refresh, and the ID token
verifies against the restored server's JWKS."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from keystead.services.backup import BackupError, restore
from tests import postgres
from tests.e2e.cluster import (
    Cluster,
    authorization_url,
    browse_to_code,
    introspect,
    redeem,
    refresh,
)

pytestmark = pytest.mark.anyio


@pytest.fixture(params=["sqlite", "postgresql"])
def databases(request: pytest.FixtureRequest) -> Iterator[tuple[str | None, str | None]]:
    """(the original database, the empty one to restore into); None: SQLite in the data dir."""
    if request.param == "sqlite":
        yield None, None
    else:
        with postgres.temporary_database() as first, postgres.temporary_database() as second:
            yield first, second


async def test_a_restored_backup_keeps_existing_tokens_valid(
    databases: tuple[str | None, str | None], tmp_path: Path
) -> None:
    original_url, fresh_url = databases
    on_sqlite = original_url is None
    original = Cluster(tmp_path / "original", original_url, count=1, kek_in_env=not on_sqlite)
    (server,) = original.instances
    app = original.add_client(scope="openid offline_access", skip_consent=True)
    original.add_user("alice")
    try:
        server.start()
        async with httpx.AsyncClient() as http:
            code = await browse_to_code(
                http, server, authorization_url(app[0], "openid offline_access", "v" * 64)
            )
            tokens = (await redeem(http, server, app, code, "v" * 64)).json()
        backup = original.cli("backup", str(tmp_path / "backup"))  # online, while serving
    finally:
        server.stop()
    assert backup["kek"] == ("secret.key" if on_sqlite else "KEYSTEAD_SECRET_KEY")

    kek = {} if on_sqlite else {"KEYSTEAD_SECRET_KEY": original.env["KEYSTEAD_SECRET_KEY"]}
    restored = Cluster(
        tmp_path / "restored", fresh_url, count=1, kek_in_env=not on_sqlite, extra_env=kek
    )
    assert not restored.data_dir("A").exists()
    result = restored.cli("restore", str(tmp_path / "backup"))
    assert result["algs"]  # the signing keys decrypt with the restored KEK
    with pytest.raises(BackupError, match="exists"):  # never over existing data
        restore(restored.settings, tmp_path / "backup")
    (server,) = restored.instances
    try:
        server.start()
        async with httpx.AsyncClient() as http:
            assert (await introspect(http, server, app, tokens["access_token"]))["active"]
            userinfo = await http.get(
                server.base + "/userinfo",
                headers={"Authorization": f"Bearer {tokens['access_token']}"},
            )
            assert userinfo.status_code == 200 and userinfo.json()["sub"]
            jwks = KeySet.import_key_set((await http.get(server.base + "/jwks")).json())
            jwt.decode(tokens["id_token"], jwks)  # signed by a key the restored server publishes
            refreshed = await refresh(http, server, app, tokens["refresh_token"])
            assert refreshed.status_code == 200, refreshed.text
    finally:
        server.stop()
