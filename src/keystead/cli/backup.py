"""backup and restore: the database and the key-encryption key, together."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import anyio
import typer

from keystead.bootstrap import open_provider
from keystead.cli.apps import app
from keystead.cli.common import emit, fail, settings
from keystead.provider import Provider
from keystead.services.backup import BackupError
from keystead.services.backup import backup as run_backup
from keystead.services.backup import restore as run_restore


@app.command()
def backup(
    directory: Path = typer.Argument(..., help="New directory for the backup."),  # noqa: B008
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Back up the database (online) and secret.key. See docs/deployment.md."""
    try:
        manifest = run_backup(settings(), directory)
    except BackupError as exc:
        fail(str(exc))
    data = {**asdict(manifest), "directory": str(directory.resolve())}

    def human() -> None:
        typer.echo(f"backed up the {manifest.database} database to {directory}")
        if manifest.kek != "secret.key":
            typer.echo("the key-encryption key is KEYSTEAD_SECRET_KEY: keep it safe separately")

    emit(data, as_json, human)


@app.command()
def restore(
    directory: Path = typer.Argument(..., help="A directory written by `keystead backup`."),  # noqa: B008
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Restore a backup into the configured, empty database and data dir, then check that
    the signing keys decrypt with the key-encryption key."""
    s = settings()
    try:
        manifest = run_restore(s, directory)
    except BackupError as exc:
        fail(str(exc))

    async def check() -> list[str]:
        provider: Provider = await open_provider(s)  # migrates a backup of an older version
        try:
            return (await provider.keyring()).algs()
        finally:
            await provider.close()

    try:
        algs = anyio.run(check)
    except ValueError as exc:
        fail(f"restored, but the signing keys do not decrypt: {exc}")
    data = {**asdict(manifest), "algs": algs}
    emit(data, as_json, lambda: typer.echo(f"restored the {manifest.database} database; keys ok"))
