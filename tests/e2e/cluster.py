"""Real ``keystead serve`` processes sharing one database: several instances of one server.

Every instance gets the same issuer (``http://keystead.test``, never resolved) and the same
key-encryption key, but its own data dir and port; the tests talk to each instance by its
port and rewrite the issuer-based URLs keystead emits (form actions, endpoints) to it.
Set-up data (clients, users, APIs) is written in-process through the same services the CLI
uses; what must come from another process (deleting a client, rotating a key) runs the CLI.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from keystead.accounts.passwords import PasswordHasher
from keystead.bootstrap import open_provider
from keystead.config import Settings
from keystead.protocol.pkce import s256
from keystead.provider import Provider
from keystead.services.apis import ApiSpec, create_api
from keystead.services.clients import ClientSpec, create_client
from keystead.services.users import create_user
from tests import postgres
from tests.e2e.conftest import form_action, form_fields

KEYSTEAD = [sys.executable, "-m", "keystead"]
ISSUER = "http://keystead.test"
REDIRECT_URI = "https://rp.example.com/callback"
PASSWORD = "correct horse battery staple"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Instance:
    name: str
    port: int
    env: dict[str, str]
    log: Path
    proc: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def at(self, url: str) -> str:
        """An issuer-based URL (``http://keystead.test/...``) sent to this instance instead."""
        assert url.startswith(ISSUER), url
        return self.base + url[len(ISSUER) :]

    def start(self, *extra: str, wait: float = 60) -> None:
        self.launch(*extra)
        self.wait_ready(wait)

    def launch(self, *extra: str) -> None:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [*KEYSTEAD, "serve", "--host", "127.0.0.1", "--port", str(self.port), *extra],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def wait_ready(self, wait: float = 60) -> None:
        assert self.proc is not None
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"{self.name} exited:\n{self.output()}")
            try:
                if httpx.get(self.base + "/readyz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"{self.name} did not become ready:\n{self.output()}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)

    def kill(self) -> None:
        """SIGKILL: no shutdown, no flush — what a power cut or the OOM killer does."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@dataclass
class Cluster:
    """``count`` instances of one keystead on ``database_url`` (None: SQLite, one file in a
    data dir every instance, the CLI and the set-up share)."""

    root: Path
    database_url: str | None
    extra_env: dict[str, str] = field(default_factory=dict)
    count: int = 2
    kek_in_env: bool = True  # False: secret.key in the (then shared) data dir
    instances: list[Instance] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.env = {
            **os.environ,
            "KEYSTEAD_ISSUER": ISSUER,
            "KEYSTEAD_SECRET_KEY": secrets.token_urlsafe(32),  # one KEK for every instance
            "KEYSTEAD_LOG_FORMAT": "json",
            **self.extra_env,
        }
        if not self.kek_in_env:
            del self.env["KEYSTEAD_SECRET_KEY"]
        for name in ("PROMETHEUS_MULTIPROC_DIR", "KEYSTEAD_DATABASE_URL", "KEYSTEAD_REDIS_URL"):
            if name not in self.extra_env:
                self.env.pop(name, None)
        if self.database_url is not None:
            self.env["KEYSTEAD_DATABASE_URL"] = self.database_url
        for i in range(self.count):
            name = "AB"[i] if i < 2 else f"I{i}"
            env = {**self.env, "KEYSTEAD_DATA_DIR": str(self.data_dir(name))}
            self.instances.append(Instance(name, free_port(), env, self.root / f"{name}.log"))

    def data_dir(self, name: str) -> Path:
        """Each process's own data dir on PostgreSQL; the one SQLite data dir otherwise."""
        shared = self.database_url is None or not self.kek_in_env
        return self.root / ("data" if shared else f"data-{name}")

    @property
    def settings(self) -> Settings:
        return Settings(
            issuer=ISSUER,
            database_url=self.database_url,
            secret_key=self.env.get("KEYSTEAD_SECRET_KEY"),
            data_dir=self.data_dir("admin"),
        )

    def start(self, *extra: str) -> None:
        # Start together: they race for the start-up lock and must end up with one key set.
        for instance in self.instances:
            instance.launch(*extra)
        for instance in self.instances:
            instance.wait_ready()

    def stop(self) -> None:
        for instance in self.instances:
            instance.stop()

    # --- set-up through the services (in-process), and the real CLI ---------------------

    def admin(self, work: Any) -> Any:
        """Run ``await work(provider)`` on a provider of this cluster's database."""

        async def run() -> Any:
            provider = await open_provider(self.settings)
            try:
                return await work(provider)
            finally:
                await provider.close()

        coroutine: Coroutine[Any, Any, Any] = run()
        return postgres.run_sync(coroutine)

    def add_client(self, **spec: Any) -> tuple[str, str | None]:
        spec.setdefault("redirect_uris", [REDIRECT_URI])

        async def work(provider: Provider) -> tuple[str, str | None]:
            client, secret = await create_client(
                provider.store, ClientSpec(client_name="Test App", **spec), provider.now()
            )
            return client.client_id, secret

        result: tuple[str, str | None] = self.admin(work)
        return result

    def add_user(self, username: str) -> str:
        async def work(provider: Provider) -> str:
            user = await create_user(
                provider.store,
                PasswordHasher(),
                username,
                PASSWORD,
                now=provider.now(),
                email=f"{username}@example.com",
                name=username.title(),
                profile=None,
            )
            return user.sub

        sub: str = self.admin(work)
        return sub

    def add_api(self, identifier: str, scope: str, token_format: str = "jwt") -> None:  # noqa: S107
        async def work(provider: Provider) -> None:
            spec = ApiSpec(identifier, "API", [(scope, scope)], token_format=token_format)
            await create_api(provider.store, spec, provider.now())

        self.admin(work)

    def cli(self, *args: str, ok: bool = True) -> Any:
        """``keystead ARGS --json`` in its own process, with this cluster's configuration."""
        env = {**self.env, "KEYSTEAD_DATA_DIR": str(self.data_dir("cli"))}
        proc = subprocess.run(
            [*KEYSTEAD, *args, "--json"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if not ok:
            return proc
        assert proc.returncode == 0, proc.stderr
        return json.loads(proc.stdout)


# --- a browser and a relying party, talking to one instance ------------------------------


def authorization_url(client_id: str, scope: str, verifier: str, **extra: str) -> str:
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": REDIRECT_URI,
        "scope": scope,
        "state": secrets.token_urlsafe(8),
        "code_challenge": s256(verifier),
        "code_challenge_method": "S256",
        **extra,
    }
    return str(httpx.URL(ISSUER + "/authorize", params=params))


async def browse_to_code(
    http: httpx.AsyncClient, instance: Instance, url: str, username: str = "alice"
) -> str:
    """Open ``url`` at ``instance``, log in and consent as needed; return the code."""
    page = await http.get(instance.at(url))
    for _ in range(3):
        if page.status_code in (302, 303):
            break
        assert page.status_code == 200, page.text[:500]
        fields = form_fields(page.text)
        if 'name="password"' in page.text:
            fields.update(username=username, password=PASSWORD)
        elif 'name="decision"' in page.text:
            fields["decision"] = "approve"
        page = await http.post(instance.at(form_action(page.text)), data=fields)
    location = page.headers["location"]
    assert location.startswith(REDIRECT_URI), location
    query = parse_qs(urlsplit(location).query)
    assert "code" in query, location
    return query["code"][0]


async def redeem(
    http: httpx.AsyncClient,
    instance: Instance,
    client: tuple[str, str | None],
    code: str,
    verifier: str,
) -> httpx.Response:
    client_id, secret = client
    return await http.post(
        instance.base + "/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "code_verifier": verifier,
        },
        auth=(client_id, secret or ""),
    )


async def refresh(
    http: httpx.AsyncClient, instance: Instance, client: tuple[str, str | None], token: str
) -> httpx.Response:
    client_id, secret = client
    return await http.post(
        instance.base + "/token",
        data={"grant_type": "refresh_token", "refresh_token": token},
        auth=(client_id, secret or ""),
    )


async def client_credentials(
    http: httpx.AsyncClient, instance: Instance, client: tuple[str, str | None], resource: str
) -> httpx.Response:
    client_id, secret = client
    return await http.post(
        instance.base + "/token",
        data={"grant_type": "client_credentials", "resource": resource},
        auth=(client_id, secret or ""),
    )


async def introspect(
    http: httpx.AsyncClient, instance: Instance, client: tuple[str, str | None], token: str
) -> dict[str, Any]:
    client_id, secret = client
    response = await http.post(
        instance.base + "/introspect", data={"token": token}, auth=(client_id, secret or "")
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body
