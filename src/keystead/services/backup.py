"""Backup and restore: the database and the key-encryption key (KEK), together.

A database without its KEK is of no use: private signing keys (and refresh-token successors
within their grace window) are encrypted with it. ``backup`` therefore copies
``secret.key`` next to the database; when the KEK comes from ``KEYSTEAD_SECRET_KEY`` instead,
it is not in the backup and the manifest says so — keep that value in your secret store.

- SQLite: an online copy through SQLite's backup API (a consistent snapshot while the server
  keeps serving; WAL readers and writers are not blocked for long).
- PostgreSQL: ``pg_dump --format=custom`` (``pg_restore`` on the way back); the password, if
  any, travels in ``PGPASSWORD``, never on the command line.

``restore`` only fills an empty target (a missing SQLite file, a database without tables):
it never overwrites live data.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sqlite3
import subprocess
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.engine import URL, make_url

from keystead.config import Settings
from keystead.jose.kek import SECRET_KEY_FILE
from keystead.store.sql.engine import is_sqlite, sqlite_file

MANIFEST = "keystead-backup.json"
SQLITE_FILE = "keystead.db"
PG_DUMP_FILE = "keystead.pgdump"


class BackupError(RuntimeError):
    """The backup or restore cannot be done; the message says why and what to do."""


@dataclass(frozen=True)
class Manifest:
    created_at: int
    database: str  # "sqlite" | "postgresql"
    file: str
    kek: str  # "secret.key" (in the backup) | "KEYSTEAD_SECRET_KEY" (not in it)


def _libpq(url: URL) -> tuple[str, dict[str, str]]:
    """A libpq connection string without the password, and the environment carrying it."""
    env = dict(os.environ)
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
    dsn = url.set(drivername="postgresql", password=None)
    return dsn.render_as_string(hide_password=False), env


def _run(args: list[str], env: dict[str, str]) -> None:
    if shutil.which(args[0]) is None:
        raise BackupError(f"{args[0]} is not installed; install the PostgreSQL client tools.")
    proc = subprocess.run(args, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if proc.returncode != 0:
        raise BackupError(f"{args[0]} failed: {proc.stderr.strip()}")


def backup(settings: Settings, dest: Path) -> Manifest:
    """Write a backup of the database and the KEK file into the directory ``dest``."""
    dest.mkdir(parents=True, exist_ok=True)
    if (dest / MANIFEST).exists():
        raise BackupError(f"{dest} already holds a backup; choose a new directory.")
    url = make_url(settings.sqlalchemy_url)
    if is_sqlite(url):
        source = sqlite_file(url)
        if source is None or not source.exists():
            raise BackupError(f"no SQLite database file at {source}")
        kind, name = "sqlite", SQLITE_FILE
        with (
            contextlib.closing(sqlite3.connect(source)) as src,
            contextlib.closing(sqlite3.connect(dest / name)) as copy,
        ):
            src.backup(copy)  # online and consistent, even with the server writing
    elif url.get_backend_name() == "postgresql":
        kind, name = "postgresql", PG_DUMP_FILE
        dsn, env = _libpq(url)
        _run(["pg_dump", "--format=custom", "--no-owner", f"--file={dest / name}", dsn], env)
    else:
        raise BackupError(f"backups of {url.get_backend_name()} databases are not supported")
    os.chmod(dest / name, 0o600)  # it holds password hashes and encrypted keys
    if settings.secret_key is None:
        key_file = settings.data_dir / SECRET_KEY_FILE
        if not key_file.exists():
            raise BackupError(f"{key_file} is missing: without it the keys cannot be decrypted")
        shutil.copy2(key_file, dest / SECRET_KEY_FILE)
        os.chmod(dest / SECRET_KEY_FILE, 0o600)
        kek = SECRET_KEY_FILE
    else:
        kek = "KEYSTEAD_SECRET_KEY"
    manifest = Manifest(int(time.time()), kind, name, kek)
    (dest / MANIFEST).write_text(json.dumps(asdict(manifest), indent=2) + "\n")
    return manifest


def read_manifest(source: Path) -> Manifest:
    try:
        data: dict[str, Any] = json.loads((source / MANIFEST).read_text())
    except FileNotFoundError as exc:
        raise BackupError(f"{source} is not a keystead backup (no {MANIFEST})") from exc
    return Manifest(**data)


def restore(settings: Settings, source: Path) -> Manifest:
    """Restore the backup in ``source`` into the configured, empty database and data dir.

    Run ``keystead migrate`` (or just start the server) afterwards when the backup is older
    than the running version."""
    manifest = read_manifest(source)
    url = make_url(settings.sqlalchemy_url)
    backend = "sqlite" if is_sqlite(url) else url.get_backend_name()
    if backend != manifest.database:
        raise BackupError(
            f"the backup is of a {manifest.database} database, the configured one is {backend}"
        )
    _restore_kek(settings, source, manifest)
    if manifest.database == "sqlite":
        target = sqlite_file(url)
        if target is None:
            raise BackupError("restore needs a SQLite database file, not an in-memory one")
        if target.exists():
            raise BackupError(f"{target} exists; restore into an empty data dir")
        target.parent.mkdir(parents=True, exist_ok=True)
        with (
            contextlib.closing(sqlite3.connect(source / manifest.file)) as src,
            contextlib.closing(sqlite3.connect(target)) as copy,
        ):
            src.backup(copy)
        os.chmod(target, 0o600)
    else:
        dsn, env = _libpq(url)
        _run(["pg_restore", "--no-owner", "--exit-on-error", f"--dbname={dsn}",
              str(source / manifest.file)], env)  # fmt: skip
    return manifest


def _restore_kek(settings: Settings, source: Path, manifest: Manifest) -> None:
    if manifest.kek != SECRET_KEY_FILE:
        if settings.secret_key is None:
            raise BackupError(
                "the backup's key-encryption key came from KEYSTEAD_SECRET_KEY: set the same "
                "value before restoring."
            )
        return
    if settings.secret_key is not None:
        return  # the configured KEK wins; the keys check after restore says if it matches
    target = settings.data_dir / SECRET_KEY_FILE
    if target.exists():
        if target.read_bytes() != (source / SECRET_KEY_FILE).read_bytes():
            raise BackupError(f"{target} exists and differs from the backup's; restore into an "
                              "empty data dir")  # fmt: skip
        return
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    shutil.copy2(source / SECRET_KEY_FILE, target)
    os.chmod(target, 0o600)
