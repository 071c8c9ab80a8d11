"""serve, init and migrate."""

from __future__ import annotations

import os

import anyio
import typer

from keystead.accounts.passwords import usable_cpus
from keystead.cli.apps import app
from keystead.cli.common import emit, fail, settings, with_provider
from keystead.config import Settings
from keystead.provider import Provider


def _issuer_for(s: Settings, host: str, port: int) -> Settings:
    """Without KEYSTEAD_ISSUER, the issuer is where `serve` listens."""
    if "issuer" in s.model_fields_set:
        return s
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host  # noqa: S104
    if ":" in shown:
        shown = f"[{shown}]"
    scheme = "https" if s.tls_cert_file is not None else "http"
    return s.model_copy(update={"issuer": f"{scheme}://{shown}:{port}"})


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
    port: int = typer.Option(8000, help="TCP port."),
    demo: bool = typer.Option(
        False, "--demo", help="Development quickstart: create a demo client and user, print them."
    ),
    log_level: str = typer.Option("info", help="Log level (keystead and uvicorn)."),
    workers: int = typer.Option(
        1, min=1, help="Worker processes; start-up work runs once, before they start."
    ),
) -> None:
    """Migrate the database, create signing keys if needed, and serve HTTP."""
    from keystead.bootstrap import open_provider
    from keystead.services.demo import DemoData, ensure_demo
    from keystead.serving import exec_serving

    s = _issuer_for(settings(), host, port)
    if s.tls_cert_file is None and (s.tls_key_file or s.tls_client_ca_file) is not None:
        fail("KEYSTEAD_TLS_KEY_FILE / KEYSTEAD_TLS_CLIENT_CA_FILE need KEYSTEAD_TLS_CERT_FILE.")
    if demo:
        if workers > 1:
            fail("--demo runs one worker: leave out --workers.")
        s = s.model_copy(update={"dev_mode": True})

    async def prepare() -> DemoData | None:
        provider = await open_provider(s)  # migrations + first keys, before any request
        try:
            return await ensure_demo(provider) if demo else None
        finally:
            await provider.close()

    demo_data = anyio.run(prepare)
    typer.echo(f"keystead issuer: {s.issuer}")
    typer.echo(f"  discovery:     {s.url('/.well-known/openid-configuration')}")
    typer.echo(f"  data dir:      {s.data_dir.resolve()}")
    if demo_data is not None:
        typer.echo("Demo (development only; new secret and password on every start):")
        typer.echo(f"  try it:        {s.url('/demo')}")
        typer.echo(f"  client_id:     {demo_data.client_id}")
        typer.echo(f"  client_secret: {demo_data.client_secret}")
        typer.echo(f"  redirect_uri:  {demo_data.redirect_uri}")
        typer.echo(f"  user:          {demo_data.username} / {demo_data.password}")
    # The serving process (keystead/serving.py) reads its settings from the environment:
    # hand down what this command derived.
    os.environ["KEYSTEAD_ISSUER"] = s.issuer
    if demo:
        os.environ["KEYSTEAD_DEV_MODE"] = "true"
    if workers > 1 and s.password_threads is None:
        # The workers share the CPUs: so do their hashing threads.
        os.environ["KEYSTEAD_PASSWORD_THREADS"] = str(max(1, usable_cpus() // workers))
    exec_serving(host=host, port=port, log_level=log_level, workers=workers, demo=demo_data)


@app.command()
def init(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Create the data dir, key-encryption key, database schema and signing keys."""
    s = settings()

    async def work(provider: Provider) -> dict[str, object]:
        ring = await provider.keyring()
        return {"issuer": s.issuer, "data_dir": str(s.data_dir.resolve()), "algs": ring.algs()}

    data = with_provider(work)
    emit(data, as_json, lambda: typer.echo(f"initialized {data['data_dir']} for {data['issuer']}"))


@app.command()
def migrate() -> None:
    """Bring the database schema up to date (also done by serve on start)."""
    from keystead.store.sql import migrate as run_migrate  # Alembic: loaded for this command only

    anyio.run(run_migrate, settings().sqlalchemy_url)
    typer.echo("database is up to date")
