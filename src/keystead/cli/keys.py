"""keys list | rotate | retire"""

from __future__ import annotations

from typing import Any

import typer

from keystead.cli.apps import keys_app
from keystead.cli.common import emit, refuse, with_provider
from keystead.provider import Provider
from keystead.services import keys as service
from keystead.services.common import CLI, ServiceError
from keystead.services.keys import key_view

# The flag of each key field: how this channel words a service's refusal.
FLAGS = {"algs": "--alg", "kid": "KID"}


@keys_app.command("list")
def keys_list(as_json: bool = typer.Option(False, "--json")) -> None:
    """List signing keys and their status."""

    async def work(provider: Provider) -> list[dict[str, Any]]:
        now = provider.now()
        return [key_view(k, now) for k in await service.list_all(provider)]

    rows = with_provider(work)

    def human() -> None:
        for row in rows:
            typer.echo(f"{row['kid']}  {row['alg']:6} {row['status']}")

    emit(rows, as_json, human)


@keys_app.command("rotate")
def keys_rotate(
    alg: list[str] = typer.Option([], "--alg", help="Rotate only these algs (default: all)."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Publish a new key now; it signs once JWKS caches have seen it; the old key stays
    published until tokens signed with it expire."""

    async def work(provider: Provider) -> list[dict[str, Any]]:
        try:
            created = await service.rotate(provider, CLI, alg or None)
        except ServiceError as exc:
            refuse(exc, FLAGS)
        now = provider.now()
        return [key_view(k, now) for k in created]

    rows = with_provider(work)

    def human() -> None:
        for row in rows:
            typer.echo(f"new {row['alg']} key {row['kid']} signs from {row['activate_at']}")

    emit(rows, as_json, human)


@keys_app.command("retire")
def keys_retire(kid: str, as_json: bool = typer.Option(False, "--json")) -> None:
    """Stop publishing and signing with a key now (a compromised key): tokens it signed stop
    verifying. Refused for the only active key of its alg: rotate first. A kid (an RFC 7638
    thumbprint) may start with '-': put '--' before it (keys retire -- -Pq3...)."""

    async def work(provider: Provider) -> dict[str, Any]:
        try:
            key = await service.retire(provider, kid, CLI)
        except ServiceError as exc:
            refuse(exc, FLAGS)
        return key_view(key, provider.now())

    data = with_provider(work)
    emit(data, as_json, lambda: typer.echo(f"retired {kid}"))
