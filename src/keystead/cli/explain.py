"""explain and inspect: make errors and tokens readable."""

from __future__ import annotations

import sys
from dataclasses import asdict
from typing import Any

import typer

from keystead.cli.apps import app
from keystead.cli.common import emit, fail, with_provider
from keystead.errors import CATALOG
from keystead.errors_doc import entry_text
from keystead.event_catalog import EVENTS
from keystead.provider import Provider
from keystead.services.inspect import inspect_token


@app.command()
def explain(
    what: str = typer.Argument(
        ..., help="A catalog id, an RFC error code, an event name or a correlation id."
    ),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Explain an error (its catalog entry), an event name, or what happened in one request."""
    if what in EVENTS:
        emit(
            {"event": what, "meaning": EVENTS[what]},
            as_json,
            lambda: typer.echo(f"{what}: {EVENTS[what]}"),
        )
        return
    entries = (
        [CATALOG[what]] if what in CATALOG else [e for e in CATALOG.values() if e.error == what]
    )
    if entries:
        emit(
            {"entries": [asdict(e) for e in entries]},
            as_json,
            lambda: typer.echo("\n\n".join(entry_text(e) for e in entries)),
        )
        return

    async def work(provider: Provider) -> list[dict[str, Any]]:
        return [asdict(e) for e in await provider.store.events.by_correlation_id(what)]

    events = with_provider(work)
    if not events:
        fail(
            f"{what!r} is neither an error id, an RFC error code, an event name, nor a "
            "correlation id in the events table (events are kept for "
            "KEYSTEAD_EVENT_RETENTION_DAYS days)."
        )

    def human() -> None:
        for event in events:
            data = dict(event["data"])
            meaning = EVENTS.get(event["name"], "")
            typer.echo(f"{event['name']} (correlation id {event['correlation_id']}): {meaning}")
            for key in sorted(data):
                if data[key] is not None:
                    typer.echo(f"  {key}: {data[key]}")
            catalog_id = data.get("catalog_id")
            if catalog_id in CATALOG:
                typer.echo("")
                typer.echo(entry_text(CATALOG[catalog_id]))

    emit({"events": events}, as_json, human)


@app.command()
def inspect(
    token: str = typer.Argument("-", help="The JWT, or - to read it from stdin."),
    audience: str | None = typer.Option(None, "--audience", help="Expected aud value."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Decode a JWT, verify it against this issuer's keys, and explain every claim."""
    value = sys.stdin.read().strip() if token == "-" else token

    async def work(provider: Provider) -> Any:
        ring = await provider.keyring()
        return inspect_token(
            value, ring, issuer=provider.settings.issuer, now=provider.now(), audience=audience
        )

    result = with_provider(work)

    def human() -> None:
        if result.header:
            typer.echo(f"header: {result.header}")
        for name, text in result.explanations:
            typer.echo(f"  {name}: {text}")
        typer.echo("checks:")
        for check in result.checks:
            typer.echo(f"  [{'ok' if check.ok else 'FAIL'}] {check.name}: {check.detail}")

    emit(asdict(result) | {"ok": result.ok}, as_json, human)
    if not result.ok:
        raise typer.Exit(1)
