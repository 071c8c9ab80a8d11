"""What every command shares: settings, opening the provider, output, failing, and the
wording of a service's refusal for the command line (it names the flag)."""

from __future__ import annotations

import json
import sys
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, NoReturn, TypeVar

import anyio
import typer

from keystead.bootstrap import open_provider
from keystead.config import Settings
from keystead.provider import Provider
from keystead.services.common import ServiceError

T = TypeVar("T")


def settings() -> Settings:
    try:
        return Settings()
    except ValueError as exc:
        fail(f"invalid configuration: {exc}")


def fail(message: str, code: int = 1) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def refuse(exc: ServiceError, flags: Mapping[str, str]) -> NoReturn:
    """A service's refusal, naming the command's flag for its ``field`` (or the field's
    name where the command has no flag for it)."""
    fail(f"{flags.get(exc.field, exc.field)}: {exc.message}")


def emit(data: Any, as_json: bool, human: Callable[[], None]) -> None:
    if as_json:
        typer.echo(json.dumps(data, indent=2, sort_keys=True))
    else:
        human()


def with_provider(work: Callable[[Provider], Awaitable[T]]) -> T:
    """Open the store (migrating first), run ``work``, close."""

    async def run() -> T:
        provider = await open_provider(settings())
        try:
            return await work(provider)
        finally:
            await provider.close()

    return anyio.run(run)


def read_password(from_stdin: bool) -> str:
    """The new password: one line of stdin (scripts), else a hidden, confirmed prompt."""
    if from_stdin:
        return read_password_stdin()
    password: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return password


def read_password_stdin() -> str:
    password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        fail("--password-stdin given but nothing was read from standard input.")
    return password
