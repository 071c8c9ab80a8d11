"""user create | list | set-password"""

from __future__ import annotations

import json

import typer

from keystead.cli.apps import user_app
from keystead.cli.common import emit, fail, read_password, refuse, with_provider
from keystead.provider import Provider
from keystead.services import users as service
from keystead.services.common import CLI, ServiceError
from keystead.services.users import user_view

# The flag of each user field: how this channel words a service's refusal.
FLAGS = {"username": "USERNAME", "password": "password", "profile": "--claim"}


@user_app.command("create")
def create(
    username: str,
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the password from standard input."
    ),
    email: str | None = typer.Option(None, "--email"),
    name: str | None = typer.Option(None, "--name"),
    given_name: str | None = typer.Option(None, "--given-name"),
    family_name: str | None = typer.Option(None, "--family-name"),
    email_verified: bool = typer.Option(False, "--email-verified"),
    claim: list[str] = typer.Option(
        [],
        "--claim",
        help="Repeatable NAME=VALUE, e.g. phone_number=+4930123 or "
        'address=\'{"country": "DE"}\' (JSON values are parsed).',
    ),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Create a user. The password comes from stdin (--password-stdin) or a hidden prompt."""
    password = read_password(password_stdin)

    async def work(provider: Provider) -> dict[str, object]:
        try:
            user = await service.create(
                provider,
                username,
                password,
                CLI,
                email=email,
                email_verified=email_verified,
                name=name,
                given_name=given_name,
                family_name=family_name,
                profile=parse_claims(claim),
            )
        except ServiceError as exc:
            refuse(exc, FLAGS)
        return user_view(user)

    data = with_provider(work)
    emit(data, as_json, lambda: typer.echo(f"created user {username} (sub {data['sub']})"))


def parse_claims(values: list[str]) -> dict[str, object]:
    out: dict[str, object] = {}
    for item in values:
        name, sep, raw = item.partition("=")
        if not sep:
            fail(f"--claim {item}: expected NAME=VALUE")
        try:
            out[name] = json.loads(raw)
        except ValueError:
            out[name] = raw
    return out


@user_app.command("list")
def list_(as_json: bool = typer.Option(False, "--json")) -> None:
    """List users."""

    async def work(provider: Provider) -> list[dict[str, object]]:
        return [user_view(u) for u in await service.list_all(provider)]

    rows = with_provider(work)
    emit(rows, as_json, lambda: [typer.echo(f"{r['username']}  {r['sub']}") for r in rows])


@user_app.command("set-password")
def set_password_cmd(
    username: str,
    password_stdin: bool = typer.Option(False, "--password-stdin"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Set a user's password."""
    password = read_password(password_stdin)

    async def work(provider: Provider) -> dict[str, object]:
        try:
            user = await service.set_password_of(provider, username, password, CLI)
        except ServiceError as exc:
            refuse(exc, FLAGS)
        return user_view(user)

    data = with_provider(work)
    emit(data, as_json, lambda: typer.echo(f"password updated for {username}"))
