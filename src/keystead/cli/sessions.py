"""user sessions | user logout: an operator's view of where a user is signed in, and signing
them out (services/sessions.py, the same operations as the admin API's
/users/{sub}/sessions)."""

from __future__ import annotations

import time
from typing import Any

import typer

from keystead.cli.apps import user_app
from keystead.cli.common import emit, refuse, with_provider
from keystead.provider import Provider
from keystead.services import sessions as service
from keystead.services.common import CLI, ServiceError
from keystead.services.factors import sub_of

FLAGS = {"username": "USERNAME", "sub": "USERNAME", "sid": "--session"}


def _when(timestamp: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.gmtime(timestamp))


@user_app.command("sessions")
def sessions(username: str, as_json: bool = typer.Option(False, "--json")) -> None:
    """List where a user is signed in: each session's sid, when it began and was last seen,
    the device and address it signed in from, and how (amr)."""

    async def work(provider: Provider) -> dict[str, Any]:
        try:
            sub = await sub_of(provider, username)
            return {
                "username": username,
                "sub": sub,
                "sessions": await service.list_sessions(provider, sub),
            }
        except ServiceError as exc:
            refuse(exc, FLAGS)

    data = with_provider(work)

    def human() -> None:
        for s in data["sessions"]:
            typer.echo(
                f"{s['sid']}  created {_when(s['created_at'])}  last seen "
                f"{_when(s['last_active_at'])}  {s['device']}  {s['ip'] or '-'}  "
                f"amr {','.join(s['amr'])}"
            )
        if not data["sessions"]:
            typer.echo(f"{username} is not signed in anywhere")

    emit(data, as_json, human)


@user_app.command("logout")
def logout(
    username: str,
    session: str | None = typer.Option(
        None, "--session", help="The sid of the one session to end (default: all of them)."
    ),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Sign a user out: one session (--session SID) or all of them. The apps they signed in
    to keep their tokens (deleting the user, or their password change, revokes those)."""

    async def work(provider: Provider) -> dict[str, Any]:
        try:
            sub = await sub_of(provider, username)
            if session is not None:
                await service.end_session(provider, sub, session, CLI)
                return {"username": username, "sub": sub, "ended": 1, "sid": session}
            return {
                "username": username,
                "sub": sub,
                "ended": await service.end_all(provider, sub, CLI),
            }
        except ServiceError as exc:
            refuse(exc, FLAGS)

    data = with_provider(work)
    emit(data, as_json, lambda: typer.echo(f"ended {data['ended']} session(s) of {username}"))
