"""api create | list | show | delete"""

from __future__ import annotations

import typer

from keystead.cli import api_app, emit, fail, with_provider
from keystead.provider import Provider
from keystead.services.apis import (
    ApiSpec,
    ApiSpecError,
    api_view,
    create_api,
    delete_api,
    parse_scope_option,
)
from keystead.store.base import DuplicateError


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
    )

    async def work(provider: Provider) -> dict[str, object]:
        try:
            api, secret = await create_api(provider.store, spec, provider.now())
        except ApiSpecError as exc:
            fail(str(exc))
        except DuplicateError:
            fail(f"an API with identifier {identifier} already exists")
        view = api_view(api)
        if secret:
            view["api_secret"] = secret
        return view

    data = with_provider(work)
    emit(data, as_json, lambda: typer.echo(f"api_id: {data['api_id']}  ({identifier})"))


@api_app.command("list")
def list_(as_json: bool = typer.Option(False, "--json")) -> None:
    """List APIs."""

    async def work(provider: Provider) -> list[dict[str, object]]:
        return [api_view(a) for a in await provider.store.apis.list()]

    rows = with_provider(work)
    emit(rows, as_json, lambda: [typer.echo(f"{r['api_id']}  {r['identifier']}") for r in rows])


@api_app.command("show")
def show(api_id: str, as_json: bool = typer.Option(False, "--json")) -> None:
    """Show an API (by api_id or identifier)."""

    async def work(provider: Provider) -> dict[str, object]:
        api = await provider.store.apis.get(api_id) or await provider.store.apis.get_by_identifier(
            api_id
        )
        if api is None:
            fail(f"no API {api_id}")
        return api_view(api)

    data = with_provider(work)
    emit(data, as_json, lambda: [typer.echo(f"{k}: {v}") for k, v in data.items()])


@api_app.command("delete")
def delete(api_id: str, as_json: bool = typer.Option(False, "--json")) -> None:
    """Delete an API."""

    async def work(provider: Provider) -> bool:
        api = await provider.store.apis.get(api_id)
        if api is None:
            return False
        try:
            await delete_api(provider.store, api, issuer_url=provider.settings.issuer)
        except ApiSpecError as exc:
            fail(str(exc))
        return True

    if not with_provider(work):
        fail(f"no API {api_id}")
    emit({"deleted": api_id}, as_json, lambda: typer.echo(f"deleted {api_id}"))
