"""trusted-issuer create | list | show | delete: outside JWT issuers (RFC 7523 grants,
RFC 8693 token exchange of ``jwt`` tokens)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from keystead.cli.apps import app
from keystead.cli.common import emit, fail, refuse, with_provider
from keystead.provider import Provider
from keystead.services import trusted_issuers as service
from keystead.services.common import CLI, ServiceError
from keystead.services.trusted_issuers import TrustedIssuerSpec, view
from keystead.store.trusted_issuers import SUBJECT_MAPPINGS

trusted_issuer_app = typer.Typer(
    help="Manage trusted JWT issuers (JWT bearer grant, token exchange).", no_args_is_help=True
)
app.add_typer(trusted_issuer_app, name="trusted-issuer")

FLAGS = {
    "issuer": "--issuer",
    "jwks": "--jwks",
    "jwks_uri": "--jwks-uri",
    "subject_claim": "--subject-claim",
    "subject_mapping": "--subject-mapping",
    "allowed_client_ids": "--client",
    "issuer_id": "ISSUER",
}
MAPPING_HELP = (
    "How the JWT's subject maps to a local user: sub (a keystead user's sub), username, "
    "email (only verified emails), or none (the subject as is: service identities)."
)


def _read_jwks(path: Path) -> dict[str, Any]:
    try:
        jwks: dict[str, Any] = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        fail(f"--jwks: cannot read a JSON JWK Set from {path}: {exc}")
    return jwks


@trusted_issuer_app.command("create")
def create(
    issuer: str = typer.Option(..., "--issuer", help="The exact iss of its JWTs."),
    jwks_uri: str | None = typer.Option(None, "--jwks-uri", help="Where its JWK Set is."),
    jwks_file: Path | None = typer.Option(None, "--jwks", help="A file with its public JWK Set."),  # noqa: B008
    subject_mapping: str = typer.Option(
        "sub", "--subject-mapping", help=MAPPING_HELP + f" ({' | '.join(SUBJECT_MAPPINGS)})"
    ),
    subject_claim: str = typer.Option("sub", "--subject-claim", help="The claim to map."),
    verifies_email: bool = typer.Option(
        False, "--verifies-email", help="Trust its email claims without email_verified."
    ),
    client: list[str] = typer.Option(
        [], "--client", help="A client_id that may present its JWTs; repeatable. None if absent."
    ),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Trust an outside issuer's JWTs for the clients named with --client."""
    spec = TrustedIssuerSpec(
        issuer=issuer,
        jwks_uri=jwks_uri,
        jwks=_read_jwks(jwks_file) if jwks_file is not None else None,
        subject_claim=subject_claim,
        subject_mapping=subject_mapping,
        allowed_client_ids=client,
        verifies_email=verifies_email,
    )

    async def work(provider: Provider) -> dict[str, Any]:
        try:
            return view(await service.create(provider, spec, CLI))
        except ServiceError as exc:
            refuse(exc, FLAGS)

    data = with_provider(work)
    emit(data, as_json, lambda: typer.echo(f"issuer_id: {data['issuer_id']}  ({issuer})"))


@trusted_issuer_app.command("list")
def list_(as_json: bool = typer.Option(False, "--json")) -> None:
    """List trusted issuers."""

    async def work(provider: Provider) -> list[dict[str, Any]]:
        return [view(i) for i in await service.list_all(provider)]

    rows = with_provider(work)
    emit(rows, as_json, lambda: [typer.echo(f"{r['issuer_id']}  {r['issuer']}") for r in rows])


@trusted_issuer_app.command("show")
def show(issuer_id: str, as_json: bool = typer.Option(False, "--json")) -> None:
    """Show a trusted issuer (by issuer_id or issuer URL)."""

    async def work(provider: Provider) -> dict[str, Any]:
        try:
            return view(await service.get(provider, issuer_id))
        except ServiceError as exc:
            refuse(exc, FLAGS)

    data = with_provider(work)
    emit(data, as_json, lambda: [typer.echo(f"{k}: {v}") for k, v in data.items()])


@trusted_issuer_app.command("delete")
def delete(issuer_id: str, as_json: bool = typer.Option(False, "--json")) -> None:
    """Stop trusting an issuer (by issuer_id or issuer URL); its JWTs are refused from now."""

    async def work(provider: Provider) -> dict[str, Any]:
        try:
            issuer = await service.get(provider, issuer_id)
            await service.delete(provider, issuer, CLI)
        except ServiceError as exc:
            refuse(exc, FLAGS)
        return {"deleted": issuer.issuer_id}

    data = with_provider(work)
    emit(data, as_json, lambda: typer.echo(f"deleted {data['deleted']}"))
