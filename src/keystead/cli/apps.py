"""The Typer apps the sub-command modules register their commands on (their own module, so
that a command module and the package never import each other)."""

from __future__ import annotations

import os
from pathlib import Path

import typer

app = typer.Typer(
    help="keystead: a self-hostable OAuth 2.0 authorization server and OpenID Provider.",
    no_args_is_help=True,
    add_completion=False,
)
client_app = typer.Typer(help="Manage OAuth clients (relying parties).", no_args_is_help=True)
user_app = typer.Typer(help="Manage end-user accounts.", no_args_is_help=True)
keys_app = typer.Typer(help="Manage signing keys.", no_args_is_help=True)
api_app = typer.Typer(help="Manage APIs (resource servers).", no_args_is_help=True)
app.add_typer(client_app, name="client")
app.add_typer(user_app, name="user")
app.add_typer(keys_app, name="keys")
app.add_typer(api_app, name="api")


@app.callback()
def _main(
    config: Path | None = typer.Option(  # noqa: B008
        None, "--config", help="TOML config file (also KEYSTEAD_CONFIG).", exists=True
    ),
) -> None:
    if config is not None:
        os.environ["KEYSTEAD_CONFIG"] = str(config)
