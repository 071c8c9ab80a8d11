"""Users in the console: the list (keyset pages from the database, a username lookup),
create, invite, and one user's page: admin role, sessions (end one or all), second factors
(reset), delete after a confirmation. Every change goes through services/ with the
console's Actor, so it is an audit event naming the admin."""

from __future__ import annotations

from starlette.responses import Response

from keystead.services import factors, invitations
from keystead.services import sessions as user_sessions
from keystead.services import users as service
from keystead.services.common import NotFound, ServiceError
from keystead.services.pagination import CursorError, decode_cursor, encode_cursor
from keystead.store.base import User
from keystead.web.console.common import Visit
from keystead.web.console.pages import console_page, when

PAGE_SIZE = 25
USER_FIELDS = ("username", "password", "email", "name", "profile")
INVITE_FIELDS = ("email", "name", "username")


@console_page
async def users(v: Visit) -> Response:
    """``GET /admin/users``: oldest first, a page at a time; ``q``: a username."""
    q = v.request.query_params.get("q", "").strip()[:128]
    next_cursor = None
    if q:
        try:
            page = [await service.get(v.provider, await factors.sub_of(v.provider, q))]
        except NotFound:
            page = []
    else:
        raw = v.request.query_params.get("after")
        try:
            after = decode_cursor(raw) if raw else None
        except CursorError:
            after = None
        listed = await service.list_all(v.provider, after, PAGE_SIZE + 1)
        page = listed[:PAGE_SIZE]
        if len(listed) > PAGE_SIZE:
            next_cursor = encode_cursor((page[-1].created_at, page[-1].sub))
    return v.render(
        "console/users.html",
        {"users": page, "q": q, "next_cursor": next_cursor, "when": when, "nav": "users"},
    )


def _new_page(
    v: Visit, form: dict[str, str], errors: dict[str, str], invite: dict[str, str]
) -> Response:
    values = {k: val for k, val in form.items() if k != "password"}  # never echoed back
    return v.render(
        "console/user_new.html",
        {"values": values, "errors": errors, "invite": invite, "nav": "users"},
        status=400 if errors or invite.get("error") else 200,
    )


@console_page
async def new_user(v: Visit) -> Response:
    """``GET /admin/users/new``: the forms; ``POST``: create the user."""
    if v.request.method == "GET":
        return _new_page(v, {}, {}, {})
    form = await v.form()
    try:
        user = await service.create(
            v.provider,
            form.get("username", "").strip(),
            form.get("password", ""),
            v.actor,
            email=form.get("email", "").strip() or None,
            name=form.get("name", "").strip() or None,
            admin=form.get("admin") == "on",
        )
    except ServiceError as exc:
        return _new_page(v, form, {exc.field: exc.message}, {})
    return v.redirect(f"/admin/users/{user.sub}", done="created")


@console_page
async def invite(v: Visit) -> Response:
    """``POST /admin/users/invite``: create the account and mail the invitation link."""
    form = await v.form()
    try:
        user = await invitations.invite(
            v.provider,
            form.get("invite_email", "").strip(),
            v.actor,
            name=form.get("invite_name", "").strip() or None,
            username=form.get("invite_username", "").strip() or None,
        )
    except ServiceError as exc:
        return _new_page(v, form, {f"invite_{exc.field}": exc.message}, {"error": "1"})
    return v.redirect(f"/admin/users/{user.sub}", done="invited")


async def _user_page(v: Visit, user: User, done: str) -> Response:
    sessions = await user_sessions.list_sessions(v.provider, user.sub)
    mfa = await factors.list_factors(v.provider, user.sub)
    return v.render(
        "console/user.html",
        {
            "user": user,
            "sessions": sessions,
            "mfa": mfa,
            "done": done,
            "when": when,
            "is_self": user.sub == v.user.sub,
            "nav": "users",
        },
    )


@console_page
async def user_item(v: Visit) -> Response:
    """``GET /admin/users/{sub}``."""
    user = await service.get(v.provider, v.request.path_params["sub"])
    return await _user_page(v, user, v.request.query_params.get("done", ""))


@console_page
async def user_action(v: Visit) -> Response:
    """``POST /admin/users/{sub}/{action}``: end-session (``sid``), end-sessions,
    reset-factors, grant-admin, revoke-admin, disable, enable."""
    user = await service.get(v.provider, v.request.path_params["sub"])
    form = await v.form()
    action = v.request.path_params["action"]
    if action == "end-session":
        await user_sessions.end_session(v.provider, user.sub, form.get("sid", ""), v.actor)
        done = "session_ended"
    elif action == "end-sessions":
        await user_sessions.end_all(v.provider, user.sub, v.actor)
        done = "sessions_ended"
    elif action == "reset-factors":
        await factors.reset_factors(v.provider, user.sub, v.actor)
        done = "factors_reset"
    elif action in ("grant-admin", "revoke-admin"):
        await service.set_admin(v.provider, user.username, action == "grant-admin", v.actor)
        done = action.replace("-", "_")
    elif action in ("disable", "enable"):
        await service.set_disabled(v.provider, user, action == "disable", v.actor)
        done = action + "d"
    else:
        return v.redirect(f"/admin/users/{user.sub}")
    return v.redirect(f"/admin/users/{user.sub}", done=done)


@console_page
async def delete_user(v: Visit) -> Response:
    """``GET /admin/users/{sub}/delete``: are you sure; ``POST``: delete."""
    user = await service.get(v.provider, v.request.path_params["sub"])
    if v.request.method == "GET":
        return v.render(
            "console/confirm.html",
            {
                "title": f"Delete {user.username}?",
                "what": f"The user {user.username} (sub {user.sub}) goes with their sessions, "
                "consents, second factors and recovery codes; their grants are revoked, so "
                "every token issued to them stops working. This cannot be undone.",
                "action": v.url(f"/admin/users/{user.sub}/delete"),
                "button": "Delete the user",
                "back": v.url(f"/admin/users/{user.sub}"),
                "nav": "users",
            },
        )
    await v.form()
    await service.delete(v.provider, user.sub, v.actor)
    return v.redirect("/admin/users", done="deleted")
