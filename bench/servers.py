"""The servers under test, as processes on loopback: keystead (``python -m keystead serve``,
provisioned with its CLI) and node-oidc-provider (``bench/nop/server.js``, with its in-memory
adapter or the Redis adapter of bench/nop/redis_adapter.js), and the bench's own Redis."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx

ROOT = Path(__file__).resolve().parent.parent
NOP_DIR = ROOT / "bench" / "nop"

CLIENT_ID = "bench-client"
REDIRECT_URI = "https://rp.example.com/cb"
API = "https://api.example.com"  # ES256 JWT access tokens (client_credentials, code, refresh)
API_SCOPE = "api:read"
OPAQUE_API = "https://opaque.example.com"  # opaque tokens: what both servers can introspect
OPAQUE_SCOPE = "opaque:read"
USERNAME = "bench-user"

SERVER_CPUS = "0"  # the servers; the load generators run on LOAD_CPUS
LOAD_CPUS = "1"
# The interpreter keystead's processes run on: this one unless ``bench.run --python`` names
# another (a venv on an optimised CPython build, docs/performance.md "The interpreter").
PYTHON = sys.executable


def interpreter(python: str) -> str:
    """``python``'s version line if it can import keystead (a venv with keystead installed),
    else a SystemExit that says how to make one."""
    try:
        proc = subprocess.run(  # noqa: S603
            [python, "-c", "import sys, keystead; print(sys.version.replace(chr(10), ' '))"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    except OSError as exc:
        raise SystemExit(f"--python {python}: {exc}") from exc
    if proc.returncode != 0:
        raise SystemExit(
            f"--python {python} cannot import keystead: give a venv's python, made with e.g. "
            "`make PYTHON=/usr/bin/python3.11 VENV=.venv-opt .venv-opt/bin/.installed` "
            f"(then --python .venv-opt/bin/python).\n{proc.stderr.strip()[-500:]}"
        )
    return proc.stdout.strip()


def can_pin() -> bool:
    return shutil.which("taskset") is not None and (os.cpu_count() or 1) >= 2


def pinned(cpus: str | None, argv: list[str]) -> list[str]:
    """``taskset -c CPUS argv`` where taskset exists (it execs: the pid stays argv's)."""
    if cpus is None or not can_pin():
        return argv
    return ["taskset", "-c", cpus, *argv]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_mb(pid: int) -> float | None:
    """VmRSS of a process, in MB (10^6 bytes), or None if it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024 / 1e6
    except OSError:
        return None
    return None


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process (all its threads), in seconds; 0 if it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


@dataclass
class Credentials:
    client_id: str
    client_secret: str
    username: str
    password: str


@dataclass
class Server:
    """One server process. ``name`` is "keystead" or "nop"."""

    name: str
    issuer: str
    log_path: Path
    proc: subprocess.Popen[bytes] | None = None
    _log: IO[bytes] | None = field(default=None, repr=False)

    @property
    def port(self) -> int:
        return int(self.issuer.rsplit(":", 1)[1])

    def _spawn(self, argv: list[str], env: dict[str, str], cwd: Path | None = None) -> None:
        self._log = self.log_path.open("ab")
        self.proc = subprocess.Popen(  # noqa: S603
            argv, env=env, cwd=cwd, stdout=self._log, stderr=subprocess.STDOUT
        )

    def wait_ready(self, path: str, timeout: float = 60) -> None:
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"{self.name} exited ({self.proc.returncode}):\n{self.log_tail()}"
                )
            try:
                if httpx.get(self.issuer + path, timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} did not start in {timeout} s:\n{self.log_tail()}")

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def worker_pids(self) -> list[int]:
        """The processes serving requests: the server itself, or its worker children
        (not multiprocessing's resource tracker)."""
        assert self.proc is not None
        workers = []
        for pid in children(self.proc.pid):
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            except OSError:
                continue
            if b"resource_tracker" not in cmdline:
                workers.append(pid)
        return workers or [self.proc.pid]

    def cpu_seconds(self) -> float:
        """CPU time used so far by the processes serving requests."""
        return sum(cpu_seconds(p) for p in self.worker_pids())

    def rss_per_worker(self) -> list[float]:
        return [r for r in (rss_mb(p) for p in self.worker_pids()) if r is not None]

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None
        if self._log is not None:
            self._log.close()
            self._log = None


class Keystead(Server):
    """``python -m keystead serve`` on a data dir; the database is the data dir's SQLite
    file unless ``database_url`` is given."""

    def __init__(
        self,
        workdir: Path,
        *,
        database_url: str | None = None,
        redis_url: str | None = None,
        label: str = "",
        data_dir: Path | None = None,
    ) -> None:
        port = free_port()
        self.data_dir = data_dir or workdir / f"keystead{label}"
        super().__init__("keystead", f"http://127.0.0.1:{port}", workdir / f"keystead{label}.log")
        self.env = {
            **os.environ,
            "KEYSTEAD_DATA_DIR": str(self.data_dir),
            "KEYSTEAD_ISSUER": self.issuer,
        }
        if database_url:
            self.env["KEYSTEAD_DATABASE_URL"] = database_url
        if redis_url:  # cache invalidation pub/sub between instances, as deployed
            self.env["KEYSTEAD_REDIS_URL"] = redis_url

    def provision(self, *, user: bool = True, opaque_api: bool = True) -> Credentials:
        """The same client, APIs and user as NOP's configuration (bench/provision.py: the
        services behind ``keystead client|api|user create``, in one process)."""
        argv = [PYTHON, "-m", "bench.provision"]
        if not user:
            argv.append("--no-user")
        if not opaque_api:
            argv.append("--no-opaque-api")
        proc = subprocess.run(  # noqa: S603
            argv, capture_output=True, text=True, env=self.env, cwd=ROOT, timeout=180, check=False
        )
        if proc.returncode != 0:
            raise RuntimeError(f"provisioning keystead failed:\n{proc.stderr}")
        data = json.loads(proc.stdout)
        return Credentials(
            data["client_id"], data["client_secret"], data["username"], data["password"]
        )

    def start(
        self, *, workers: int = 1, cpus: str | None = SERVER_CPUS, log_level: str = "info"
    ) -> None:
        argv = [
            PYTHON,
            "-m",
            "keystead",
            "serve",
            "--port",
            str(self.port),
            "--log-level",
            log_level,
        ]
        if workers > 1:
            argv += ["--workers", str(workers)]
        self._spawn(pinned(cpus, argv), self.env)
        self.wait_ready("/.well-known/openid-configuration")
        if workers > 1:  # every worker must be up, not only the first to accept
            deadline = time.monotonic() + 60
            while len(self.worker_pids()) < workers:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"keystead workers did not start:\n{self.log_tail()}")
                time.sleep(0.2)
            time.sleep(2)


class Nop(Server):
    """node-oidc-provider (bench/nop/server.js) with its in-memory adapter, or with
    ``redis_url`` the Redis adapter of bench/nop/redis_adapter.js, its keys under a prefix
    of this run's own."""

    def __init__(self, workdir: Path, *, redis_url: str | None = None, label: str = "") -> None:
        port = free_port()
        super().__init__("nop", f"http://127.0.0.1:{port}", workdir / f"nop{label}.log")
        self.redis_url = redis_url

    def start(self, creds: Credentials, *, cpus: str | None = SERVER_CPUS) -> None:
        ensure_node_modules()
        argv = [
            node_binary(),
            "server.js",
            "--port",
            str(self.port),
            "--client-id",
            creds.client_id,
            # "=" form: a secret may start with "-", which parseArgs would take for an option
            f"--client-secret={creds.client_secret}",
            "--redirect-uri",
            REDIRECT_URI,
            "--user",
            creds.username,
        ]
        if self.redis_url:
            prefix = f"nop-bench-{secrets.token_hex(4)}:"
            argv += ["--adapter", "redis", "--redis-url", self.redis_url, "--redis-prefix", prefix]
        env = {**os.environ, "NODE_ENV": "production"}
        self._spawn(pinned(cpus, argv), env, cwd=NOP_DIR)
        self.wait_ready("/.well-known/openid-configuration")


class RedisServer(Server):
    """The bench's own ``redis-server`` on a free port, its RDB file in the work dir: Redis's
    default persistence (RDB snapshots, ``save 3600 1 300 100 60 10000``; no AOF), which the
    machine's system Redis may not have. Not pinned to a core, like keystead's PostgreSQL."""

    def __init__(self, workdir: Path) -> None:
        port = free_port()
        super().__init__("redis", f"redis://127.0.0.1:{port}", workdir / "redis.log")
        self.dir = workdir / "redis"

    @property
    def url(self) -> str:
        return self.issuer + "/0"

    def start(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        argv = [redis_binary(), "--port", str(self.port), "--bind", "127.0.0.1"]
        self._spawn([*argv, "--dir", str(self.dir)], dict(os.environ))
        deadline = time.monotonic() + 20
        while not self.ping():
            assert self.proc is not None
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not start:\n{self.log_tail()}")
            time.sleep(0.1)

    def ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                s.sendall(b"PING\r\n")
                return s.recv(64).startswith(b"+PONG")
        except OSError:
            return False

    def worker_pids(self) -> list[int]:
        assert self.proc is not None
        return [self.proc.pid]  # not a snapshot's forked child


class SystemService:
    """The processes of a service the bench does not start (PostgreSQL: every process named
    ``postgres``), for their CPU time beside the server's (``Target.backing``). Other users
    of the same service on the machine are counted too: measure on a quiet machine."""

    def __init__(self, comm: str) -> None:
        self.comm = comm

    def pids(self) -> list[int]:
        found = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    if (entry / "comm").read_text().strip() == self.comm:
                        found.append(int(entry.name))
                except OSError:
                    continue
        return found

    def cpu_seconds(self) -> float:
        return sum(cpu_seconds(pid) for pid in self.pids())


def redis_binary() -> str:
    redis = shutil.which("redis-server")
    if redis is None:
        raise RuntimeError("redis-server is missing (NOP+Redis): apt-get install redis-server")
    return redis


def node_binary() -> str:
    node = shutil.which("node")
    if node is None:
        raise RuntimeError("node is missing (node-oidc-provider needs Node.js 20+)")
    return node


def ensure_node_modules() -> None:
    """``npm ci`` from bench/nop/package-lock.json when node_modules is missing."""
    if (NOP_DIR / "node_modules" / "oidc-provider").is_dir():
        return
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("npm is missing: it installs node-oidc-provider (bench/nop)")
    subprocess.run(  # noqa: S603
        [npm, "ci", "--no-audit", "--no-fund"], cwd=NOP_DIR, check=True, timeout=600
    )


# --- throw-away PostgreSQL databases (--pg) ---

PG_ADMIN_URL = os.environ.get(
    "KEYSTEAD_BENCH_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)


async def _pg_admin(statement: str) -> None:
    import asyncpg  # type: ignore[import-untyped]
    from sqlalchemy.engine import make_url

    dsn = make_url(PG_ADMIN_URL).set(drivername="postgresql").render_as_string(False)
    connection = await asyncpg.connect(dsn, timeout=10)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


def pg_create() -> tuple[str, str]:
    """CREATE DATABASE keystead_bench_<random>: (name, SQLAlchemy URL)."""
    from sqlalchemy.engine import make_url

    name = f"keystead_bench_{secrets.token_hex(4)}"
    asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
    return name, make_url(PG_ADMIN_URL).set(database=name).render_as_string(False)


def pg_drop(name: str) -> None:
    asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
