"""The serving process: uvicorn running keystead's app, as ``keystead serve`` starts it.

``keystead serve`` does the start-up work in its own process (migrations, first keys, the
demo client with ``--demo``), prints where to go, then replaces itself (``exec``: the same
process id, so supervisors and signals see one process) with ``python -m keystead.serving``.
That process loads the serving stack only: not the command line (Typer, every command
module) nor what the start-up work left behind; its workers (``--workers N``, spawned from
it) start the same way. Measured: 3.4 MB less resident memory per worker. It also starts
with glibc's allocator set for argon2id's buffers (``allocator_tunables``): 9 MiB less per
hashing thread at rest (docs/performance.md, "Memory").

Everything but the listening address comes from the environment (``KEYSTEAD_*``), as
``serve`` leaves it; the demo's client and user (with their one-time secret and password)
come through an inherited pipe, never the environment or the command line.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any

from keystead.config import Settings, load_settings
from keystead.services.demo import DemoData

MODULE = "keystead.serving"

# glibc's allocator and argon2id (docs/performance.md, "Memory"). Each password verification
# needs a 9 MiB buffer (KEYSTEAD_ARGON2_MEMORY_COST). By default glibc raises its mmap
# threshold when the first such buffer is freed, and from then on keeps the next ones in the
# hashing thread's heap: 9 MiB resident per hashing thread for the life of the process. A
# fixed threshold below the smallest allowed buffer (7 MiB) maps each buffer for its
# verification and returns it after; transparent huge pages make that mapping cheap (a few
# 2 MiB faults instead of ~2,300 of 4 KiB; argon2's random reads also miss the TLB less).
# Without huge pages the faults would cost ~30 % per verification: then nothing is set.
THP_ENABLED = "/sys/kernel/mm/transparent_hugepage/enabled"
ALLOCATOR_TUNABLES = "glibc.malloc.hugetlb=1:glibc.malloc.mmap_threshold=4194304"


def allocator_tunables(environ: Mapping[str, str], thp_enabled: str = THP_ENABLED) -> str | None:
    """``GLIBC_TUNABLES`` for the serving process, or None: never over the operator's own,
    only on glibc 2.35+ (the first with ``hugetlb``) and where huge pages can be had."""
    if "GLIBC_TUNABLES" in environ:
        return None
    try:
        name, _, version = os.confstr("CS_GNU_LIBC_VERSION").partition(" ")  # "glibc 2.36"
        major, minor = (int(part) for part in version.split(".")[:2])
        mode = Path(thp_enabled).read_text()
    except (ValueError, OSError, AttributeError):  # not glibc, not Linux
        return None
    if name != "glibc" or (major, minor) < (2, 35) or "[never]" in mode:
        return None
    return ALLOCATOR_TUNABLES


def serving_environ(environ: Mapping[str, str]) -> dict[str, str]:
    """The environment the serving process starts with: ``environ`` and, where
    ``allocator_tunables`` gives them, glibc's settings (read by the C library at start)."""
    started = dict(environ)
    tunables = allocator_tunables(started)
    if tunables is not None:
        started["GLIBC_TUNABLES"] = tunables
    return started


def exec_serving(
    *, host: str, port: int, log_level: str, workers: int, demo: DemoData | None
) -> None:
    """Replace this process with the serving process (never returns)."""
    argv = [sys.executable, "-m", MODULE, "--host", host, "--port", str(port)]
    argv += ["--log-level", log_level, "--workers", str(workers)]
    if demo is not None:
        argv += ["--demo-fd", str(_demo_pipe(demo))]
    environ = serving_environ(os.environ)
    sys.stdout.flush()  # what `serve` printed must not be lost with this process's buffers
    sys.stderr.flush()
    os.execve(sys.executable, argv, environ)  # noqa: S606 - our own interpreter and module


def _demo_pipe(demo: DemoData) -> int:
    """The read end of a pipe holding ``demo``, inherited across exec."""
    read, write = os.pipe()  # a few hundred bytes: the pipe's buffer holds them
    os.write(write, json.dumps(asdict(demo)).encode())
    os.close(write)
    os.set_inheritable(read, True)
    return read


def _read_demo(fd: int) -> DemoData:
    with os.fdopen(fd, "rb") as pipe:
        return DemoData(**json.loads(pipe.read()))


def tls_options(s: Settings) -> dict[str, Any]:
    """uvicorn's TLS (docs/mtls.md): the server certificate, and with a client CA file the
    client certificate requested (optional: clients without one still connect) and verified
    in the handshake; the protocol then hands the certificate to the app (web/tls_wire.py).
    ``serve`` has checked the files go together."""
    if s.tls_cert_file is None:
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


def uvicorn_options(s: Settings, host: str, port: int, log_level: str) -> dict[str, Any]:
    from keystead.logs import log_config

    return {
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
        **tls_options(s),
    }


@contextlib.contextmanager
def metrics_dir() -> Iterator[None]:
    """``PROMETHEUS_MULTIPROC_DIR`` for the workers: the configured one, emptied, or a
    temporary one removed on exit."""
    from keystead.metrics import MULTIPROC_ENV, prepare_multiprocess_dir

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


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog=f"python -m {MODULE}", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--log-level", default="info")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--demo-fd", type=int, default=None)
    args = parser.parse_args(argv)

    import uvicorn

    from keystead.logs import lean_records

    s = load_settings()
    options = uvicorn_options(s, args.host, args.port, args.log_level)
    lean_records()
    if args.workers == 1:
        from keystead.app import build_app
        from keystead.web.forwarded import served

        demo = None if args.demo_fd is None else _read_demo(args.demo_fd)
        uvicorn.run(served(build_app(s, demo=demo), s.forwarded_allow_ips), **options)
        return
    # Each worker builds its app from the environment (keystead.web.forwarded's factory).
    with metrics_dir():
        factory = "keystead.web.forwarded:create_served_app"  # create_app, forwarded
        uvicorn.run(factory, factory=True, workers=args.workers, **options)


if __name__ == "__main__":  # not when a worker process (spawn) re-imports it
    main()
