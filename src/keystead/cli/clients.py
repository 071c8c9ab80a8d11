"""client create | list | show | delete"""

from __future__ import annotations

import typer

from keystead.cli import client_app, emit, fail, with_provider
from keystead.provider import Provider
from keystead.services.clients import ClientSpec, ClientSpecError, client_view, create_client
from keystead.store.base import DuplicateError


@client_app.command("create")
def create(
    name: str = typer.Option(..., "--name", help="client_name shown on login and consent pages."),
    redirect_uri: list[str] = typer.Option([], "--redirect-uri", help="Repeatable."),
    grant_type: list[str] = typer.Option(
        ["authorization_code", "refresh_token"], "--grant-type", help="Repeatable."
    ),
    response_type: list[str] = typer.Option(["code"], "--response-type", help="Repeatable."),
    scope: str = typer.Option("openid profile email offline_access", "--scope"),
    auth_method: str = typer.Option(
        "client_secret_basic",
        "--token-endpoint-auth-method",
        help="client_secret_basic | client_secret_post | none (public client).",
    ),
    require_pkce: bool = typer.Option(
        True,
        "--require-pkce/--no-require-pkce",
        help="--no-require-pkce exempts a confidential client from PKCE.",
    ),
    skip_consent: bool = typer.Option(False, "--skip-consent", help="First-party client."),
    alg: str = typer.Option("ES256", "--id-token-signed-response-alg"),
    application_type: str = typer.Option("web", "--application-type", help="web | native"),
    client_id: str | None = typer.Option(None, "--client-id", help="Default: random."),
    default_resource: str | None = typer.Option(
        None, "--default-resource", help="API identifier used when a token request names none."
    ),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Register a client. The client_secret is printed once and stored only as a hash."""
    spec = ClientSpec(
        client_name=name,
        redirect_uris=redirect_uri,
        grant_types=grant_type,
        response_types=response_type,
        scope=scope,
        token_endpoint_auth_method=auth_method,
        require_pkce=require_pkce,
        skip_consent=skip_consent,
        id_token_signed_response_alg=alg,
        application_type=application_type,
        client_id=client_id,
        default_resource=default_resource,
    )

    async def work(provider: Provider) -> dict[str, object]:
        try:
            client, secret = await create_client(provider.store, spec, provider.now())
        except ClientSpecError as exc:
            fail(str(exc))
        except DuplicateError:
            fail(f"a client with client_id {client_id} already exists")
        view = client_view(client)
        if secret is not None:
            view["client_secret"] = secret
            view["client_secret_expires_at"] = 0
        return view

    data = with_provider(work)

    def human() -> None:
        typer.echo(f"client_id:     {data['client_id']}")
        if "client_secret" in data:
            typer.echo(f"client_secret: {data['client_secret']}  (shown once; store it now)")

    emit(data, as_json, human)


@client_app.command("list")
def list_(as_json: bool = typer.Option(False, "--json")) -> None:
    """List clients."""

    async def work(provider: Provider) -> list[dict[str, object]]:
        return [client_view(c) for c in await provider.store.clients.list()]

    rows = with_provider(work)
    emit(rows, as_json, lambda: [typer.echo(f"{r['client_id']}  {r['client_name']}") for r in rows])


@client_app.command("show")
def show(client_id: str, as_json: bool = typer.Option(False, "--json")) -> None:
    """Show one client's metadata."""

    async def work(provider: Provider) -> dict[str, object]:
        client = await provider.store.clients.get(client_id)
        if client is None:
            fail(f"no client with client_id {client_id}")
        return client_view(client)

    data = with_provider(work)
    emit(data, as_json, lambda: [typer.echo(f"{k}: {v}") for k, v in data.items()])


@client_app.command("delete")
def delete(client_id: str, as_json: bool = typer.Option(False, "--json")) -> None:
    """Delete a client."""

    async def work(provider: Provider) -> bool:
        return await provider.store.clients.delete(client_id)

    if not with_provider(work):
        fail(f"no client with client_id {client_id}")
    emit({"deleted": client_id}, as_json, lambda: typer.echo(f"deleted {client_id}"))
