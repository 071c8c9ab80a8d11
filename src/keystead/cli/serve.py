"""serve, init and migrate."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from typing import Any

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


def _tls_options(s: Settings) -> dict[str, Any]:
    """uvicorn's TLS (docs/mtls.md): the server certificate, and with a client CA file the
    client certificate requested (optional: clients without one still connect) and verified
    in the handshake; the protocol then hands the certificate to the app (web/tls_wire.py)."""
    if s.tls_cert_file is None:
        if s.tls_key_file is not None or s.tls_client_ca_file is not None:
            fail("KEYSTEAD_TLS_KEY_FILE / KEYSTEAD_TLS_CLIENT_CA_FILE need KEYSTEAD_TLS_CERT_FILE.")
        return {}
    import ssl

    options: dict[str, Any] = {
        "ssl_certfile": str(s.tls_cert_file),
        "ssl_keyfile": None if s.tls_key_file is None else str(s.tls_key_file),
        "http": "keystead.web.tls_wire:ClientCertProtocol",
    }
    if s.tls_client_ca_file is not None:
        options["ssl_ca_certs"] = str(s.tls_client_ca_file)
        options["ssl_cert_reqs"] = ssl.CERT_OPTIONAL
    return options


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
    # The serving stack (uvicorn, the app with its templates and routes) is loaded by this
    # command only: every other command starts without it.
    import uvicorn

    from keystead.app import build_app
    from keystead.bootstrap import open_provider
    from keystead.logs import lean_records, log_config
    from keystead.services.demo import DemoData, ensure_demo
    from keystead.web.forwarded import served

    s = _issuer_for(settings(), host, port)
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
    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "log_level": log_level,
        "log_config": log_config(s.log_format, log_level),
        "access_log": False,  # keystead.access logs each request, without its query string
        # URLs come from the issuer, never from headers; X-Forwarded-For is believed only
        # from the configured proxies (the client IP counts login failures): by
        # web/forwarded.py, which keeps the direct peer (the mTLS header's sender).
        "proxy_headers": False,
        "server_header": False,
        "http": "keystead.web.wire:JoinedWritesProtocol",  # one write per response
        "ws": "none",  # no WebSocket routes: an Upgrade is an ordinary request
        **_tls_options(s),
    }
    lean_records()
    if workers == 1:
        uvicorn.run(served(build_app(s, demo=demo_data), s.forwarded_allow_ips), **options)
        return
    # Each worker builds its app from the environment (keystead.app:create_app): hand the
    # derived issuer down, and give the metrics a directory shared by the workers.
    os.environ["KEYSTEAD_ISSUER"] = s.issuer
    if s.password_threads is None:  # the workers share the CPUs: so do their hashing threads
        threads = max(1, usable_cpus() // workers)
        os.environ["KEYSTEAD_PASSWORD_THREADS"] = str(threads)
    with _metrics_dir():
        factory = "keystead.web.forwarded:create_served_app"  # create_app, forwarded
        uvicorn.run(factory, factory=True, workers=workers, **options)


@contextlib.contextmanager
def _metrics_dir() -> Iterator[None]:
    """``PROMETHEUS_MULTIPROC_DIR`` for the workers: the configured one, emptied, or a
    temporary one removed on exit."""
    from keystead.metrics import MULTIPROC_ENV, prepare_multiprocess_dir  # with `serve` only

    configured = os.environ.get(MULTIPROC_ENV)
    if configured:
        prepare_multiprocess_dir(configured)
        yield
        return
    with tempfile.TemporaryDirectory(prefix="keystead-metrics-") as path:
        os.environ[MULTIPROC_ENV] = path
        try:
            yield
        finally:
            del os.environ[MULTIPROC_ENV]


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
