"""The keystead command line. Scriptable: with flags given it never prompts; --json prints
machine-readable results. Commands call the same services as the admin API, never raw SQL."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import anyio
import typer

from keystead.bootstrap import open_provider
from keystead.config import Settings
from keystead.provider import Provider

T = TypeVar("T")

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


def settings() -> Settings:
    try:
        return Settings()
    except ValueError as exc:
        fail(f"invalid configuration: {exc}")


def fail(message: str, code: int = 1) -> Any:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def emit(data: Any, as_json: bool, human: Callable[[], None]) -> None:
    if as_json:
        typer.echo(json.dumps(data, indent=2, sort_keys=True))
    else:
        human()


def with_provider(work: Callable[[Provider], Awaitable[T]]) -> T:
    """Open the store (migrating first), run ``work``, close."""

    async def run() -> T:
        provider = await open_provider(settings())
        try:
            return await work(provider)
        finally:
            await provider.close()

    return anyio.run(run)


def read_password(from_stdin: bool) -> str:
    """The new password: one line of stdin (scripts), else a hidden, confirmed prompt."""
    if from_stdin:
        return read_password_stdin()
    password: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return password


def read_password_stdin() -> str:
    password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        fail("--password-stdin given but nothing was read from standard input.")
    return password


# Sub-command modules register themselves on the apps above.
from keystead.cli import apis, backup, clients, explain, serve, users  # noqa: E402,F401


def main() -> None:
    app()
