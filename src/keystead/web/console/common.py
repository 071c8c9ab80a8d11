"""What every console page shares: the console session (a sealed cookie scoped to /admin,
``SameSite=Strict``), the admin check, the CSRF token bound to the session, the Actor of the
audit events, and rendering with the login pages' strict CSP and a script nonce.

The session is sealed with the key-encryption key (jose/kek.py): readable by this server
only, unforgeable. Each request re-reads the user (a revoked admin role or a deleted user
ends the console at once) and the SSO session it came from (signed out of keystead: signed
out of the console).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from keystead.accounts.console_app import CONSOLE_CLIENT_ID, CONSOLE_PATH
from keystead.accounts.sessions import live_sessions
from keystead.errors import OAuthError
from keystead.secrets_util import random_token, same_text
from keystead.services.common import Actor
from keystead.store.base import User
from keystead.web import pages
from keystead.web.parse import read_form

if TYPE_CHECKING:
    from keystead.provider import Provider

SESSION_AAD = b"keystead-console-session"


def cookie_name(provider: Provider, name: str = "console") -> str:
    # A __Host- cookie must have Path=/ (RFC 6265bis §4.1.3.2): this one is scoped to
    # /admin, so under https it takes the __Secure- prefix.
    base = f"keystead_{name}"
    return f"__Secure-{base}" if provider.settings.secure_cookies else base


def cookie_path(provider: Provider) -> str:
    return urlsplit(provider.settings.url(CONSOLE_PATH)).path


def set_cookie(
    response: Response,
    provider: Provider,
    name: str,
    value: str,
    *,
    max_age: int | None = None,
    samesite: str = "strict",
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=cookie_path(provider),
        httponly=True,
        samesite=samesite,  # type: ignore[arg-type]
        secure=provider.settings.secure_cookies,
    )


def clear_cookie(response: Response, provider: Provider, name: str) -> None:
    response.delete_cookie(
        name, path=cookie_path(provider), secure=provider.settings.secure_cookies, httponly=True
    )


@dataclass(frozen=True, slots=True)
class ConsoleSession:
    sub: str
    sid: str | None
    acr: str
    expires_at: int
    csrf: str

    def seal(self, provider: Provider) -> str:
        data = {
            "sub": self.sub,
            "sid": self.sid,
            "acr": self.acr,
            "exp": self.expires_at,
            "csrf": self.csrf,
        }
        return provider.kek.encrypt(json.dumps(data).encode(), SESSION_AAD)

    @classmethod
    def open(cls, provider: Provider, sealed: str | None) -> ConsoleSession | None:
        if not sealed:
            return None
        try:
            data = json.loads(provider.kek.decrypt(sealed, SESSION_AAD))
            session = cls(data["sub"], data["sid"], data["acr"], int(data["exp"]), data["csrf"])
        except (ValueError, KeyError, TypeError):
            return None
        return session if session.expires_at > provider.now() else None

    @classmethod
    def new(cls, provider: Provider, sub: str, sid: str | None, acr: str) -> ConsoleSession:
        expires_at = provider.now() + provider.settings.admin_session_ttl
        return cls(sub, sid, acr, expires_at, random_token(24))


@dataclass(slots=True)
class Visit:
    """One request to a console page by a signed-in admin."""

    request: Request
    provider: Provider
    session: ConsoleSession
    user: User

    @property
    def actor(self) -> Actor:
        return Actor("console", client_id=CONSOLE_CLIENT_ID, sub=self.user.sub)

    def url(self, path: str, **query: str) -> str:
        params = {k: v for k, v in query.items() if v}
        return self.provider.settings.url(path) + (f"?{urlencode(params)}" if params else "")

    def render(self, template: str, context: dict[str, Any], *, status: int = 200) -> Response:
        nonce = pages.new_nonce()
        base = {
            "static_url": self.provider.settings.url("/static"),
            "console_url": self.provider.settings.url(CONSOLE_PATH),
            "url": self.url,
            "csrf_token": self.session.csrf,
            "admin": self.user,
            "nonce": nonce,
        }
        return pages.render(template, {**base, **context}, status=status, script_nonce=nonce)

    def redirect(self, path: str, **query: str) -> Response:
        """303 after a POST (the page to see, with what was done)."""
        return RedirectResponse(self.url(path, **query), status_code=303)

    async def form(self) -> dict[str, str]:
        """The POSTed form, once its CSRF token matched the session's."""
        fields = dict(await read_form(self.request))
        if not same_text(fields.get("csrf_token", ""), self.session.csrf):
            raise OAuthError("csrf-invalid", "The CSRF token does not match the cookie.")
        return fields


def refused(provider: Provider, title: str, message: str, *, status: int) -> Response:
    context = {
        "static_url": provider.settings.url("/static"),
        "title": title,
        "message": message,
        "status_role": "alert",
    }
    return pages.render("message.html", context, status=status)


async def visit(request: Request) -> Visit | Response:
    """The visit of a signed-in admin, or the answer for anyone else: a sign-in (no console
    session), a 403 page (not an admin, or no longer)."""
    provider: Provider = request.app.state.provider
    session = ConsoleSession.open(provider, request.cookies.get(cookie_name(provider)))
    if session is None:
        return RedirectResponse(provider.settings.url("/admin/signin"), status_code=303)
    user = await provider.store.users.get(session.sub)
    if session.sid is not None:
        live = {s.sid for s in await live_sessions(provider, session.sub)}
        if session.sid not in live:  # signed out of keystead: out of the console too
            response = RedirectResponse(provider.settings.url("/admin/signin"), status_code=303)
            clear_cookie(response, provider, cookie_name(provider))
            return response
    if user is None or not user.admin:
        response = not_admin(provider)
        clear_cookie(response, provider, cookie_name(provider))
        return response
    return Visit(request, provider, session, user)


def not_admin(provider: Provider) -> Response:
    return refused(
        provider,
        "Not an administrator",
        "You are signed in, but your account does not have the admin role, so the admin "
        "console is closed to you. An administrator can grant it (keystead user grant-admin "
        "USERNAME).",
        status=403,
    )
