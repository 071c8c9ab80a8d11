"""oauth1 tokens | oauth1 revoke: the OAuth 1.0a token credentials a user gave consumers
(RFC 5849 §2.3), and revoking one (services/oauth1.py, the same operations as the admin
API's /users/{sub}/oauth1-tokens and /oauth1-tokens/{token_id})."""

from __future__ import annotations

import time
from typing import Any

import typer

from keystead.cli.apps import app
from keystead.cli.common import emit, refuse, with_provider
from keystead.provider import Provider
from keystead.services import oauth1 as service
from keystead.services.common import CLI, ServiceError
from keystead.services.factors import sub_of

oauth1_app = typer.Typer(help="OAuth 1.0a token credentials (RFC 5849).", no_args_is_help=True)
app.add_typer(oauth1_app, name="oauth1")
FLAGS = {"username": "--user", "sub": "--user", "token_id": "TOKEN_ID"}


def _when(timestamp: int | None) -> str:
    return "-" if timestamp is None else time.strftime("%Y-%m-%d %H:%M", time.gmtime(timestamp))


@oauth1_app.command("tokens")
def tokens(
    username: str = typer.Option(..., "--user", help="The user's username."),
    live: bool = typer.Option(False, "--live", help="Only tokens not revoked."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """List the OAuth 1.0a token credentials a user approved: token_id, consumer, when."""

    async def work(provider: Provider) -> dict[str, Any]:
        try:
            sub = await sub_of(provider, username)
            found = await service.list_tokens(provider, sub, live=live)
        except ServiceError as exc:
            refuse(exc, FLAGS)
        return {"username": username, "sub": sub, "tokens": found}

    data = with_provider(work)

    def human() -> None:
        for t in data["tokens"]:
            state = f"revoked {_when(t['revoked_at'])}" if t["revoked_at"] else "live"
            name = t["client_name"] or t["client_id"]
            typer.echo(f"{t['token_id']}  {name}  created {_when(t['created_at'])}  {state}")
        if not data["tokens"]:
            typer.echo(f"{username} has no OAuth 1.0a tokens")

    emit(data, as_json, human)


@oauth1_app.command("revoke")
def revoke(token_id: str, as_json: bool = typer.Option(False, "--json")) -> None:
    """Revoke one OAuth 1.0a token credential (by its token_id): it stops working at once."""

    async def work(provider: Provider) -> dict[str, Any]:
        try:
            return await service.revoke(provider, token_id, CLI)
        except ServiceError as exc:
            refuse(exc, FLAGS)

    data = with_provider(work)
    emit(data, as_json, lambda: typer.echo(f"revoked {token_id}"))
