"""user create | list | set-password"""

from __future__ import annotations

import json

import typer

from keystead.cli import emit, fail, read_password, user_app, with_provider
from keystead.provider import Provider
from keystead.services.users import UserSpecError, create_user, set_password, user_view
from keystead.store.base import DuplicateError


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
            user = await create_user(
                provider.store,
                provider.hasher,
                username,
                password,
                now=provider.now(),
                email=email,
                email_verified=email_verified,
                name=name,
                given_name=given_name,
                family_name=family_name,
                profile=parse_claims(claim),
            )
        except UserSpecError as exc:
            fail(str(exc))
        except DuplicateError:
            fail(f"a user named {username} already exists")
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
        return [user_view(u) for u in await provider.store.users.list()]

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
            user = await set_password(
                provider.store, provider.hasher, username, password, now=provider.now()
            )
        except UserSpecError as exc:
            fail(str(exc))
        return user_view(user)

    data = with_provider(work)
    emit(data, as_json, lambda: typer.echo(f"password updated for {username}"))
