"""connection create | update | list | show | delete: the upstream identity providers users
may sign in with (issue 22). The client secret is read from standard input, stored sealed and
never printed."""

from __future__ import annotations

from typing import Any

import typer

from keystead.cli.apps import app
from keystead.cli.common import emit, fail, read_password_stdin, refuse, with_provider
from keystead.provider import Provider
from keystead.services import connections as service
from keystead.services.common import CLI, ServiceError
from keystead.services.connections import ConnectionSpec
from keystead.store.connections import GITHUB, OIDC

connection_app = typer.Typer(
    help="Manage upstream identity providers (sign in with OpenID Connect or GitHub).",
    no_args_is_help=True,
)
app.add_typer(connection_app, name="connection")

# The flag of each connection field: how this channel words a service's refusal.
FLAGS = {
    "name": "--name",
    "display_name": "--display-name",
    "kind": "--preset",
    "issuer": "--issuer",
    "client_id": "--client-id",
    "client_secret": "--client-secret-stdin",
    "scope": "--scope",
    "auth_method": "--auth-method",
}
ISSUER_HELP = (
    "The upstream's issuer (https; its /.well-known/openid-configuration is fetched). With "
    "--preset github: GitHub's web address, https://github.com unless Enterprise Server."
)
AUTH_HELP = "How keystead authenticates at the upstream: client_secret_basic | client_secret_post."


def _human(data: dict[str, Any]) -> None:
    for key, value in data.items():
        typer.echo(f"{key}: {value}")


def _secret(from_stdin: bool) -> str | None:
    return read_password_stdin() if from_stdin else None


@connection_app.command("create")
def create(
    name: str = typer.Option(..., "--name", help="Lower-case letters, digits, '-'; in URLs."),
    issuer: str | None = typer.Option(None, "--issuer", help=ISSUER_HELP),
    client_id: str = typer.Option(..., "--client-id", help="keystead's client_id upstream."),
    secret_stdin: bool = typer.Option(
        False, "--client-secret-stdin", help="Read the client secret from standard input."
    ),
    scope: str | None = typer.Option(None, "--scope", help='default "openid email profile"'),
    display_name: str | None = typer.Option(
        None, "--display-name", help='The button says "Continue with DISPLAY_NAME".'
    ),
    jit: bool = typer.Option(
        True, "--jit/--no-jit", help="A new upstream identity becomes a new local user."
    ),
    link_by_email: bool = typer.Option(
        False,
        "--link-by-verified-email",
        help="Offer to link an upstream identity to the account with its verified email.",
    ),
    preset: str | None = typer.Option(None, "--preset", help="github: GitHub's OAuth 2.0 API."),
    auth_method: str | None = typer.Option(None, "--auth-method", help=AUTH_HELP),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Add an upstream identity provider; prints the redirect_uri to register there."""
    if preset not in (None, GITHUB):
        fail(f"--preset: {preset!r} is not a preset; the one preset is github.")
    if not secret_stdin:
        fail("--client-secret-stdin is required: pipe the upstream's client secret in.")
    secret = read_password_stdin()
    spec = ConnectionSpec(
        name=name,
        client_id=client_id,
        issuer=issuer,
        kind=GITHUB if preset == GITHUB else OIDC,
        display_name=display_name,
        scope=scope,
        auth_method=auth_method,
        jit=jit,
        link_by_verified_email=link_by_email,
    )

    async def work(provider: Provider) -> dict[str, Any]:
        try:
            return service.view(provider, await service.create(provider, spec, secret, CLI))
        except ServiceError as exc:
            refuse(exc, FLAGS)

    data = with_provider(work)
    emit(data, as_json, lambda: _human(data))


@connection_app.command("update")
def update(
    name: str,
    new_name: str | None = typer.Option(None, "--name", help="Rename (changes redirect_uri)."),
    display_name: str | None = typer.Option(None, "--display-name"),
    issuer: str | None = typer.Option(None, "--issuer", help=ISSUER_HELP),
    client_id: str | None = typer.Option(None, "--client-id"),
    secret_stdin: bool = typer.Option(
        False, "--client-secret-stdin", help="Read a new client secret from standard input."
    ),
    scope: str | None = typer.Option(None, "--scope"),
    auth_method: str | None = typer.Option(None, "--auth-method", help=AUTH_HELP),
    jit: bool | None = typer.Option(None, "--jit/--no-jit"),
    link_by_email: bool | None = typer.Option(
        None, "--link-by-verified-email/--no-link-by-verified-email"
    ),
    enabled: bool | None = typer.Option(None, "--enable/--disable"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Change a connection; what is not given stays."""
    changes = {
        "name": new_name,
        "display_name": display_name,
        "issuer": issuer,
        "client_id": client_id,
        "client_secret": _secret(secret_stdin),
        "scope": scope,
        "auth_method": auth_method,
        "jit": jit,
        "link_by_verified_email": link_by_email,
        "enabled": enabled,
    }

    async def work(provider: Provider) -> dict[str, Any]:
        given = {k: v for k, v in changes.items() if v is not None}
        try:
            return service.view(provider, await service.update(provider, name, given, CLI))
        except ServiceError as exc:
            refuse(exc, FLAGS | {"name": "NAME" if new_name is None else "--name"})

    data = with_provider(work)
    emit(data, as_json, lambda: _human(data))


@connection_app.command("list")
def list_(as_json: bool = typer.Option(False, "--json")) -> None:
    """List connections, by name."""

    async def work(provider: Provider) -> list[dict[str, Any]]:
        return [service.view(provider, c) for c in await service.list_all(provider)]

    rows = with_provider(work)

    def human() -> None:
        for r in rows:
            state = "enabled" if r["enabled"] else "disabled"
            typer.echo(f"{r['name']}  {r['kind']}  {r['issuer']}  ({state})")

    emit(rows, as_json, human)


@connection_app.command("show")
def show(name: str, as_json: bool = typer.Option(False, "--json")) -> None:
    """Show a connection and the redirect_uri to register at the upstream."""

    async def work(provider: Provider) -> dict[str, Any]:
        try:
            return service.view(provider, await service.get(provider, name))
        except ServiceError as exc:
            refuse(exc, {"name": "NAME"})

    data = with_provider(work)
    emit(data, as_json, lambda: _human(data))


@connection_app.command("delete")
def delete(name: str, as_json: bool = typer.Option(False, "--json")) -> None:
    """Delete a connection; users linked through it keep their accounts."""

    async def work(provider: Provider) -> None:
        try:
            await service.delete(provider, name, CLI)
        except ServiceError as exc:
            refuse(exc, {"name": "NAME"})

    with_provider(work)
    emit({"deleted": name}, as_json, lambda: typer.echo(f"deleted {name}"))
