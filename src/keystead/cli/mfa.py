"""user totp set | user mfa list | user mfa reset: an operator's part in second factors
(services/factors.py, the same operations as the admin API's /users/{sub}/factors)."""

from __future__ import annotations

import sys
from dataclasses import asdict
from typing import Any

import typer

from keystead.cli.apps import user_app
from keystead.cli.common import emit, fail, refuse, with_provider
from keystead.provider import Provider
from keystead.services import factors as service
from keystead.services.common import CLI, ServiceError

totp_app = typer.Typer(help="A user's authenticator app (TOTP).", no_args_is_help=True)
mfa_app = typer.Typer(help="A user's second factors.", no_args_is_help=True)
user_app.add_typer(totp_app, name="totp")
user_app.add_typer(mfa_app, name="mfa")

# The flag of each field: how this channel words a service's refusal.
FLAGS = {"username": "USERNAME", "sub": "USERNAME", "secret": "--secret-stdin", "name": "--name"}


def _read_secret() -> str:
    secret = sys.stdin.readline().strip()
    if not secret:
        fail("--secret-stdin given but nothing was read from standard input.")
    return secret


@totp_app.command("set")
def totp_set(
    username: str,
    secret_stdin: bool = typer.Option(
        False, "--secret-stdin", help="Read the base32 secret from standard input (required)."
    ),
    name: str | None = typer.Option(
        None, "--name", help=f'The label the user sees (default "{service.DEFAULT_TOTP_NAME}").'
    ),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Import the TOTP secret a user's app already holds (moving from another provider): the
    codes it shows keep working. One authenticator app per user; reset first to replace it."""
    if not secret_stdin:  # never a secret on the command line (shell history, ps)
        fail("give the secret on standard input with --secret-stdin.")
    secret = _read_secret()

    async def work(provider: Provider) -> dict[str, Any]:
        try:
            sub = await service.sub_of(provider, username)
            factor = await service.import_totp(provider, sub, secret, name, CLI)
        except ServiceError as exc:
            refuse(exc, FLAGS)
        return {"username": username, "sub": sub, **service.factor_view(factor)}

    data = with_provider(work)
    emit(
        data,
        as_json,
        lambda: typer.echo(f"imported authenticator app {data['name']!r} for {username}"),
    )


@mfa_app.command("list")
def mfa_list(username: str, as_json: bool = typer.Option(False, "--json")) -> None:
    """List a user's second factors and how many recovery codes are left."""

    async def work(provider: Provider) -> dict[str, Any]:
        try:
            return await service.list_factors(provider, await service.sub_of(provider, username))
        except ServiceError as exc:
            refuse(exc, FLAGS)

    data = with_provider(work)

    def human() -> None:
        for f in data["factors"]:
            used = f["last_used_at"] if f["last_used_at"] is not None else "never"
            typer.echo(f"{f['kind']:8} {f['name']}  (id {f['factor_id']}, last used {used})")
        if not data["factors"]:
            typer.echo(f"{username} has no second factor")
        typer.echo(f"recovery codes left: {data['recovery_codes']['left']}")

    emit(data, as_json, human)


@mfa_app.command("reset")
def mfa_reset(username: str, as_json: bool = typer.Option(False, "--json")) -> None:
    """Remove every second factor and recovery code of a user (a lost phone or key): they
    sign in with their password alone until they enrol again."""

    async def work(provider: Provider) -> dict[str, Any]:
        try:
            sub = await service.sub_of(provider, username)
            removed = await service.reset_factors(provider, sub, CLI)
        except ServiceError as exc:
            refuse(exc, FLAGS)
        return {"username": username, "sub": sub, "removed": asdict(removed)}

    data = with_provider(work)
    removed = data["removed"]
    emit(
        data,
        as_json,
        lambda: typer.echo(
            f"removed {removed['factors']} factor(s) and {removed['recovery_codes']} "
            f"unused recovery code(s) of {username}"
        ),
    )
