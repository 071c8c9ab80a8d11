"""user create | invite | list | set-password | delete | grant-admin | revoke-admin |
disable | enable"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import typer

from keystead.cli.apps import user_app
from keystead.cli.common import emit, fail, read_password, refuse, with_provider
from keystead.provider import Provider
from keystead.services import invitations
from keystead.services import users as service
from keystead.services.common import CLI, ServiceError
from keystead.services.factors import sub_of
from keystead.services.pagination import CursorError, decode_cursor, encode_cursor
from keystead.services.users import user_view
from keystead.store.base import User

# The flag of each user field: how this channel words a service's refusal.
FLAGS = {
    "username": "USERNAME",
    "sub": "USERNAME",
    "password": "password",
    "profile": "--claim",
    "email": "EMAIL",
}
LIST_LIMIT = 100
MAX_LIST_LIMIT = 1000


@user_app.command("create")
def create(
    username: str,
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the password from standard input."
    ),
    email: str | None = typer.Option(None, "--email"),
    name: str | None = typer.Option(None, "--name"),
    given_name: str | None = typer.Option(None, "--given-name"),
    family_name: str | None = typer.Option(None, "--family-name"),
    email_verified: bool = typer.Option(False, "--email-verified"),
    claim: list[str] = typer.Option(
        [],
        "--claim",
        help="Repeatable NAME=VALUE, e.g. phone_number=+4930123 or "
        'address=\'{"country": "DE"}\' (JSON values are parsed).',
    ),
    admin: bool = typer.Option(
        False, "--admin", help="The admin role: may sign in to the admin console (/admin)."
    ),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Create a user. The password comes from stdin (--password-stdin) or a hidden prompt."""
    password = read_password(password_stdin)

    async def work(provider: Provider) -> dict[str, object]:
        try:
            user = await service.create(
                provider,
                username,
                password,
                CLI,
                email=email,
                email_verified=email_verified,
                name=name,
                given_name=given_name,
                family_name=family_name,
                profile=parse_claims(claim),
                admin=admin,
            )
        except ServiceError as exc:
            refuse(exc, FLAGS)
        return user_view(user)

    data = with_provider(work)
    emit(data, as_json, lambda: typer.echo(f"created user {username} (sub {data['sub']})"))


def parse_claims(values: list[str]) -> dict[str, object]:
    out: dict[str, object] = {}
    for item in values:
        name, sep, raw = item.partition("=")
        if not sep:
            fail(f"--claim {item}: expected NAME=VALUE")
        try:
            out[name] = json.loads(raw)
        except ValueError:
            out[name] = raw
    return out


@user_app.command("list")
def list_(
    limit: int = typer.Option(
        LIST_LIMIT, "--limit", min=1, max=MAX_LIST_LIMIT, help="Users per page."
    ),
    after: str | None = typer.Option(
        None, "--after", help="The cursor the previous page printed: the page after it."
    ),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """List users, oldest first, a page at a time (the database pages: any number of users).
    --json prints {"users": [...], "next": CURSOR or null}."""
    try:
        position = None if after is None else decode_cursor(after)
    except CursorError:
        fail("--after: not a cursor this command printed.")

    async def work(provider: Provider) -> dict[str, Any]:
        found = await service.list_all(provider, position, limit + 1)  # one more: a next page?
        page, cursor = found[:limit], None
        if len(found) > limit:  # the cursor is the position of the last user shown
            cursor = encode_cursor((page[-1].created_at, page[-1].sub))
        return {"users": [user_view(u) for u in page], "next": cursor}

    data = with_provider(work)

    def human() -> None:
        for r in data["users"]:
            typer.echo(f"{r['username']}  {r['sub']}")
        if data["next"]:  # on stderr: stdout stays one user per line
            typer.echo(f"more: keystead user list --after {data['next']}", err=True)

    emit(data, as_json, human)


@user_app.command("set-password")
def set_password_cmd(
    username: str,
    password_stdin: bool = typer.Option(False, "--password-stdin"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Set a user's password."""
    password = read_password(password_stdin)

    async def work(provider: Provider) -> dict[str, object]:
        try:
            user = await service.set_password_of(provider, username, password, CLI)
        except ServiceError as exc:
            refuse(exc, FLAGS)
        return user_view(user)

    data = with_provider(work)
    emit(data, as_json, lambda: typer.echo(f"password updated for {username}"))


@user_app.command("invite")
def invite(
    email: str,
    name: str | None = typer.Option(None, "--name", help="The invitee's full name."),
    username: str | None = typer.Option(None, "--username", help="Default: the email address."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Invite someone by email: the account is created now, without a usable password, and
    the mail with its single-use link (valid KEYSTEAD_INVITATION_TTL) is queued; the running
    server sends it. The invitee chooses a password, which also verifies the address."""

    async def work(provider: Provider) -> dict[str, Any]:
        try:
            user = await invitations.invite(provider, email, CLI, name=name, username=username)
        except ServiceError as exc:
            refuse(exc, {**FLAGS, "username": "--username"})
        return {**user_view(user), "invitation": "queued"}

    data = with_provider(work)
    emit(
        data,
        as_json,
        lambda: typer.echo(
            f"invited {data['email']}: user {data['username']} (sub {data['sub']}); the "
            "invitation mail is queued and the running server sends it"
        ),
    )


GOES_WITH_THE_USER = "their sessions, consents, second factors and recovery codes"


@user_app.command("delete")
def delete(
    username: str,
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Delete a user with their sessions, consents, second factors and recovery codes; their
    grants are revoked, so every token issued to them stops working. Cannot be undone."""

    async def work(provider: Provider) -> dict[str, Any]:
        try:
            user = await service.get(provider, await sub_of(provider, username))
            if not yes:  # the question on stderr: --json output stays one document
                typer.confirm(
                    f"Delete {username} (sub {user.sub}), {GOES_WITH_THE_USER}, and revoke "
                    "their grants?",
                    abort=True,
                    err=True,
                )
            await service.delete(provider, user.sub, CLI)
        except ServiceError as exc:
            refuse(exc, FLAGS)
        return {
            **user_view(user),
            "deleted": True,
            "removed": ["sessions", "consents", "factors", "recovery_codes"],
            "revoked": ["grants"],
        }

    data = with_provider(work)
    emit(
        data,
        as_json,
        lambda: typer.echo(
            f"deleted {username} (sub {data['sub']}) with {GOES_WITH_THE_USER}; their grants "
            "are revoked (their tokens stop working)"
        ),
    )


def _change(
    username: str, change: Callable[[Provider, User], Awaitable[User]], word: str, as_json: bool
) -> None:
    """One change of a user by name (the admin role, disabled), printed as the user view."""

    async def work(provider: Provider) -> dict[str, Any]:
        try:
            user = await change(provider, await service.get_by_username(provider, username))
        except ServiceError as exc:
            refuse(exc, FLAGS)
        return user_view(user)

    data = with_provider(work)
    emit(data, as_json, lambda: typer.echo(f"{username} {word}"))


def _set_admin(username: str, admin: bool, as_json: bool) -> None:
    async def change(provider: Provider, user: User) -> User:
        return await service.set_admin(provider, user.username, admin, CLI)

    _change(username, change, "is an admin now" if admin else "is no longer an admin", as_json)


@user_app.command("grant-admin")
def grant_admin(username: str, as_json: bool = typer.Option(False, "--json")) -> None:
    """Give a user the admin role: they may sign in to the admin console at /admin."""
    _set_admin(username, True, as_json)


@user_app.command("revoke-admin")
def revoke_admin(username: str, as_json: bool = typer.Option(False, "--json")) -> None:
    """Take the admin role away: the console refuses the user from their next request."""
    _set_admin(username, False, as_json)


def _set_disabled(username: str, disabled: bool, as_json: bool) -> None:
    async def change(provider: Provider, user: User) -> User:
        return await service.set_disabled(provider, user, disabled, CLI)

    _change(username, change, "is disabled" if disabled else "is enabled", as_json)


@user_app.command("disable")
def disable(username: str, as_json: bool = typer.Option(False, "--json")) -> None:
    """Disable an account: no sign-in by any method; its sessions end (with back-channel
    logout), its grants and OAuth 1.0a tokens are revoked. `enable` lets it sign in again."""
    _set_disabled(username, True, as_json)


@user_app.command("enable")
def enable(username: str, as_json: bool = typer.Option(False, "--json")) -> None:
    """Enable a disabled account again (its old tokens stay revoked)."""
    _set_disabled(username, False, as_json)
