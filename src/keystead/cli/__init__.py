"""The keystead command line. Scriptable: with flags given it never prompts; --json prints
machine-readable results. Commands call the same services as the admin API, never raw SQL.

The Typer apps live in cli/apps.py and the shared helpers in cli/common.py; each command
module registers its commands on the apps when imported here.
"""

from __future__ import annotations

from keystead.cli import (
    apis,
    backup,
    client_update,
    clients,
    connections,
    explain,
    keys,
    mfa,
    oauth1,
    serve,
    sessions,
    trusted_issuers,
    users,
)
from keystead.cli.apps import app

__all__ = [
    "apis",
    "app",
    "backup",
    "client_update",
    "clients",
    "connections",
    "explain",
    "keys",
    "main",
    "mfa",
    "oauth1",
    "serve",
    "sessions",
    "trusted_issuers",
    "users",
]


def main() -> None:
    app()
