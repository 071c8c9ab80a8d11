"""api create | update | list | show | delete"""

from __future__ import annotations

from typing import Any

import typer

from keystead.cli.apps import api_app
from keystead.cli.common import emit, refuse, with_provider
from keystead.provider import Provider
from keystead.services import apis as service
from keystead.services.apis import ApiSpec, api_view, parse_scope_option
from keystead.services.common import CLI, ServiceError

# The flag of each API field: how this channel words a service's refusal.
FLAGS = {
    "identifier": "--identifier",
    "name": "--name",
    "scopes": "--scope",
    "token_format": "--token-format",
    "access_token_ttl": "--access-token-ttl",
    "self_registration_scopes": "--self-registration-scope",
    "authorization_details_types": "--authorization-details-type",
    "api_id": "API",
}


SELF_HELP = (
    "One of the API's scopes that clients registering themselves (POST /register) may ask "
    "for; repeatable. None unless given."
)


RAR_HELP = "RFC 9396: an authorization_details type this API accepts; repeatable."


@api_app.command("create")
def create(
    identifier: str = typer.Option(..., "--identifier", help="Audience URI (RFC 8707 resource)."),
    name: str = typer.Option("", "--name"),
    scope: list[str] = typer.Option([], "--scope", help="NAME[=description], repeatable."),
    token_format: str = typer.Option("jwt", "--token-format", help="jwt (RFC 9068) | opaque"),
    ttl: int = typer.Option(3600, "--access-token-ttl", help="Seconds."),
    with_secret: bool = typer.Option(
        False, "--with-secret", help="Give the API credentials of its own for introspection."
    ),
    self_registration_scope: list[str] = typer.Option(
        [], "--self-registration-scope", help=SELF_HELP
    ),
    rar_type: list[str] = typer.Option([], "--authorization-details-type", help=RAR_HELP),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Register an API. With --with-secret, api_id and api_secret authenticate it at the
    introspection endpoint (printed once)."""
    spec = ApiSpec(
        identifier=identifier,
        name=name,
        scopes=[parse_scope_option(s) for s in scope],
        token_format=token_format,
        access_token_ttl=ttl,
        with_secret=with_secret,
        self_registration_scopes=self_registration_scope,
        authorization_details_types=rar_type,
    )

    async def work(provider: Provider) -> dict[str, Any]:
        try:
            api, secret = await service.create(provider, spec, CLI)
        except ServiceError as exc:
            refuse(exc, FLAGS)
        view = api_view(api)
        if secret:
            view["api_secret"] = secret
        return view

    data = with_provider(work)
    emit(data, as_json, lambda: typer.echo(f"api_id: {data['api_id']}  ({identifier})"))


@api_app.command("update")
def update(
    api_id: str,
    name: str | None = typer.Option(None, "--name"),
    scope: list[str] = typer.Option(
        [], "--scope", help="NAME[=description], repeatable; replaces all the API's scopes."
    ),
    token_format: str | None = typer.Option(None, "--token-format", help="jwt | opaque"),
    ttl: int | None = typer.Option(None, "--access-token-ttl", help="Seconds."),
    self_registration_scope: list[str] = typer.Option(
        [], "--self-registration-scope", help=SELF_HELP + " Replaces the list."
    ),
    no_self_registration: bool = typer.Option(
        False, "--no-self-registration-scopes", help="Self-registration may ask for none."
    ),
    rar_type: list[str] = typer.Option(
        [], "--authorization-details-type", help=RAR_HELP + " Replaces the list."
    ),
    rotate_secret: bool = typer.Option(False, "--rotate-secret", help="Printed once."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Change an API (by api_id or identifier); what is not given stays."""
    open_scopes: list[str] | None = None
    if no_self_registration:
        open_scopes = []
    elif self_registration_scope:
        open_scopes = self_registration_scope

    async def work(provider: Provider) -> dict[str, Any]:
        try:
            api = await service.get(provider, api_id, or_identifier=True)
            updated, secret = await service.update(
                provider,
                api,
                CLI,
                name=name,
                scopes=[parse_scope_option(s) for s in scope] if scope else None,
                token_format=token_format,
                access_token_ttl=ttl,
                rotate_secret=rotate_secret,
                self_registration_scopes=open_scopes,
                authorization_details_types=rar_type or None,
            )
        except ServiceError as exc:
            refuse(exc, FLAGS)
        view = api_view(updated)
        if secret:
            view["api_secret"] = secret
        return view

    data = with_provider(work)
    emit(data, as_json, lambda: [typer.echo(f"{k}: {v}") for k, v in data.items()])


@api_app.command("list")
def list_(as_json: bool = typer.Option(False, "--json")) -> None:
    """List APIs."""

    async def work(provider: Provider) -> list[dict[str, Any]]:
        return [api_view(a) for a in await service.list_all(provider)]

    rows = with_provider(work)
    emit(rows, as_json, lambda: [typer.echo(f"{r['api_id']}  {r['identifier']}") for r in rows])


@api_app.command("show")
def show(api_id: str, as_json: bool = typer.Option(False, "--json")) -> None:
    """Show an API (by api_id or identifier)."""

    async def work(provider: Provider) -> dict[str, Any]:
        try:
            return api_view(await service.get(provider, api_id, or_identifier=True))
        except ServiceError as exc:
            refuse(exc, FLAGS)

    data = with_provider(work)
    emit(data, as_json, lambda: [typer.echo(f"{k}: {v}") for k, v in data.items()])


@api_app.command("delete")
def delete(api_id: str, as_json: bool = typer.Option(False, "--json")) -> None:
    """Delete an API."""

    async def work(provider: Provider) -> None:
        try:
            await service.delete(provider, await service.get(provider, api_id), CLI)
        except ServiceError as exc:
            refuse(exc, FLAGS)

    with_provider(work)
    emit({"deleted": api_id}, as_json, lambda: typer.echo(f"deleted {api_id}"))
