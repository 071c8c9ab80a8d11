"""End-to-end fixtures: the real app on a real SQLite store, driven over HTTP (in-process
ASGI transport), with a tiny form-following browser and the same services the CLI uses."""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from html import unescape
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from starlette.applications import Starlette
from typer.testing import CliRunner

from keystead.app import build_app
from keystead.bootstrap import open_provider
from keystead.cli import app as cli_app
from keystead.config import Settings
from keystead.provider import Provider
from keystead.services.clients import ClientSpec, create_client
from keystead.services.users import create_user
from tests.e2e.sector_server import Documents

ISSUER = "http://127.0.0.1:8000"
REDIRECT_URI = "https://rp.example.com/callback"
PASSWORD = "correct horse battery staple"


class FakeClock:
    def __init__(self, now: int) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now


@dataclass
class Env:
    settings: Settings
    provider: Provider
    app: Starlette
    clock: FakeClock

    def client(self, **kwargs: Any) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app, client=("203.0.113.7", 40000)),
            base_url=self.settings.issuer,
            follow_redirects=False,
            **kwargs,
        )

    async def add_client(self, **overrides: Any) -> tuple[str, str | None]:
        spec = ClientSpec(client_name="Test App", redirect_uris=[REDIRECT_URI])
        for key, value in overrides.items():
            setattr(spec, key, value)
        client, secret = await create_client(
            self.provider.store, spec, self.clock(), kek=self.provider.kek
        )
        return client.client_id, secret

    async def add_user(self, username: str = "alice", **kwargs: Any) -> str:
        kwargs.setdefault("profile", None)
        user = await create_user(
            self.provider.store,
            self.provider.hasher,
            username,
            PASSWORD,
            now=self.clock(),
            email=f"{username}@example.com",
            name=username.title(),
            **kwargs,
        )
        return user.sub


async def make_env(tmp_path: Path, **settings: Any) -> Env:
    s = Settings(issuer=settings.pop("issuer", ISSUER), data_dir=tmp_path, **settings)
    provider = await open_provider(s)
    clock = FakeClock(provider.now())
    provider.clock = clock
    return Env(s, provider, build_app(s, provider), clock)


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[Env]:
    e = await make_env(tmp_path)
    yield e
    await e.provider.close()


_INPUT = re.compile(r'<input[^>]*\bname="([^"]+)"[^>]*\bvalue="([^"]*)"', re.S)
_ACTION = re.compile(r'<form[^>]*\baction="([^"]+)"', re.S)


def form_fields(html: str) -> dict[str, str]:
    return {name: unescape(value) for name, value in _INPUT.findall(html)}


def form_action(html: str) -> str:
    match = _ACTION.search(html)
    assert match, "no form on the page"
    return unescape(match.group(1))


def query_of(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def fragment_of(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).fragment).items()}


class Browser:
    """Follows keystead's pages the way a person with a browser would."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def open(self, url: str) -> httpx.Response:
        return await self.http.get(url)

    async def submit(self, page: httpx.Response, **fields: str) -> httpx.Response:
        data = form_fields(page.text)
        data.pop("username", None)
        data.update(fields)
        return await self.http.post(form_action(page.text), data=data)

    async def login(
        self, page: httpx.Response, username: str = "alice", password: str = PASSWORD
    ) -> httpx.Response:
        assert 'name="password"' in page.text, page.text[:500]
        return await self.submit(page, username=username, password=password)

    async def consent(self, page: httpx.Response, decision: str = "approve") -> httpx.Response:
        assert 'name="decision"' in page.text, page.text[:500]
        return await self.submit(page, decision=decision)


def pkce_pair() -> tuple[str, str]:
    from keystead.protocol.pkce import s256

    verifier = secrets.token_urlsafe(48)
    return verifier, s256(verifier)


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The real command line (Typer's runner) on a temporary data dir: ``run(*args)`` is its
    JSON answer; ``ok=False`` expects a refusal (exit 1) and returns the words. A test module
    may define its own ``run`` (older ones do)."""
    monkeypatch.setenv("KEYSTEAD_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("KEYSTEAD_ISSUER", "http://127.0.0.1:8000")
    runner = CliRunner()

    def invoke(*args: str, ok: bool = True, stdin: str | None = None, as_json: bool = True) -> Any:
        result = runner.invoke(cli_app, [*args, "--json"] if ok and as_json else list(args), stdin)
        if not ok:
            assert result.exit_code == 1, result.output
            return result.output
        assert result.exit_code == 0, result.output
        return json.loads(result.output) if as_json else result.output

    return invoke


@pytest.fixture
def docs() -> Iterator[Documents]:
    """A local HTTP server for documents a client publishes (sector identifiers, JWK Sets)."""
    d = Documents()
    yield d
    d.close()
