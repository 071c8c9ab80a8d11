"""client create | list | show | delete | registration-token"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

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
        help="client_secret_basic | client_secret_post | client_secret_jwt | private_key_jwt "
        "(with --jwks or --jwks-uri) | none (public client).",
    ),
    jwks_file: Path | None = typer.Option(  # noqa: B008
        None, "--jwks", help="private_key_jwt: a file with the client's public JWK Set."
    ),
    jwks_uri: str | None = typer.Option(
        None, "--jwks-uri", help="private_key_jwt: where the client publishes its JWK Set."
    ),
    auth_signing_alg: str | None = typer.Option(
        None,
        "--token-endpoint-auth-signing-alg",
        help="The one alg the client's assertions use (default: HS256 for client_secret_jwt; "
        "RS256, PS256, ES256 or EdDSA for private_key_jwt).",
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
    post_logout_redirect_uri: list[str] = typer.Option(
        [], "--post-logout-redirect-uri", help="Repeatable. Where /logout may send the user."
    ),
    allowed_origin: list[str] = typer.Option(
        [],
        "--allowed-origin",
        help="Repeatable. A browser origin (https://app.example.com) that may call the token, "
        "UserInfo and revocation endpoints, besides the origins of the redirect URIs.",
    ),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Register a client. The client_secret is printed once and stored only as a hash
    (client_secret_jwt: encrypted with the key-encryption key, as it is the HMAC key)."""
    jwks: dict[str, Any] | None = None
    if jwks_file is not None:
        try:
            jwks = json.loads(jwks_file.read_text())
        except (OSError, ValueError) as exc:
            fail(f"--jwks {jwks_file}: {exc}")
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
        post_logout_redirect_uris=post_logout_redirect_uri,
        allowed_origins=allowed_origin,
        jwks=jwks,
        jwks_uri=jwks_uri,
        token_endpoint_auth_signing_alg=auth_signing_alg,
    )

    async def work(provider: Provider) -> dict[str, object]:
        try:
            client, secret = await create_client(
                provider.store, spec, provider.now(), kek=provider.kek
            )
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


@client_app.command("registration-token")
def registration_token(
    expires_in: int = typer.Option(
        86400, "--expires-in", help="Seconds the token stays valid (at most a year)."
    ),
    reusable: bool = typer.Option(
        False, "--reusable", help="Allow several registrations with it (default: single use)."
    ),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Mint an initial access token for dynamic client registration (RFC 7591 §3): send it as
    Authorization: Bearer to /register. Printed once; only its hash is stored."""
    from keystead.protocol.registration import InitialAccessTokenError, mint_initial_access_token

    async def work(provider: Provider) -> dict[str, object]:
        try:
            token, expires_at = await mint_initial_access_token(
                provider, expires_in=expires_in, reusable=reusable
            )
        except InitialAccessTokenError as exc:
            fail(str(exc))
        return {
            "initial_access_token": token,
            "expires_at": expires_at,
            "reusable": reusable,
            "registration_endpoint": provider.settings.url("/register"),
        }

    data = with_provider(work)
    emit(
        data,
        as_json,
        lambda: typer.echo(
            f"initial access token: {data['initial_access_token']}  (shown once)\n"
            f"expires at: {data['expires_at']}; send it as Authorization: Bearer to "
            f"{data['registration_endpoint']}"
        ),
    )
