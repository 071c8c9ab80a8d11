"""What every account page shares: the signed-in session (or a trip through the sign-in),
the CSRF double submit, fresh authentication before security changes, and rendering."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from keystead.accounts.account_app import ACCOUNT_PATH, sign_in_url
from keystead.accounts.sessions import load_session
from keystead.errors import OAuthError
from keystead.secrets_util import random_token, same_text
from keystead.store.base import Session, User
from keystead.web import pages
from keystead.web.authorize import _set_cookie, csrf_cookie_name, session_cookie_name

if TYPE_CHECKING:
    from keystead.provider import Provider

# A security change (factors, passkeys) needs a sign-in this recent (seconds); older sessions
# sign in again first (prompt=login), as GitHub's "sudo mode" does.
FRESH_FOR = 900


@dataclass(slots=True)
class Visit:
    """One request to an account page by a signed-in user."""

    request: Request
    provider: Provider
    session: Session
    user: User
    csrf: str
    new_csrf: bool

    @property
    def fresh(self) -> bool:
        return self.provider.now() - self.session.auth_time <= FRESH_FOR

    def url(self, path: str) -> str:
        return self.provider.settings.url(path)

    def finish(self, response: Response) -> Response:
        if self.new_csrf:
            _set_cookie(response, self.provider, csrf_cookie_name(self.provider), self.csrf)
        return response

    def render(
        self, template: str, context: dict[str, Any], *, status: int = 200, nonce: str = ""
    ) -> Response:
        base = {
            "static_url": self.provider.settings.url("/static"),
            "csrf_token": self.csrf,
            "username": self.user.username,
            "account_url": self.url(ACCOUNT_PATH),
            "nonce": nonce,
        }
        page = pages.render(template, {**base, **context}, status=status, script_nonce=nonce)
        return self.finish(page)

    def back(self, done: str = "") -> Response:
        """To the overview (303 after a POST), with a word of what was done."""
        target = self.url(ACCOUNT_PATH) + (f"?done={done}" if done else "")
        return self.finish(RedirectResponse(target, status_code=303))


async def visit(request: Request, *, then: str | None = None) -> Visit | Response:
    """The visit of a signed-in user, or the redirect that signs the browser in first
    (``then``: where that sign-in returns, accounts/account_app.py)."""
    provider: Provider = request.app.state.provider
    session = await load_session(provider, request.cookies.get(session_cookie_name(provider)))
    user = await provider.store.users.get(session.sub) if session is not None else None
    if session is None or user is None:
        return RedirectResponse(sign_in_url(provider.settings, then=then), status_code=303)
    csrf = request.cookies.get(csrf_cookie_name(provider)) or ""
    return Visit(request, provider, session, user, csrf or random_token(24), not csrf)


def check_csrf(visit: Visit, form: dict[str, str]) -> None:
    """Double submit: the form's token equals the cookie's (set by a page of this site)."""
    if visit.new_csrf or not same_text(form.get("csrf_token", ""), visit.csrf):
        raise OAuthError("csrf-invalid", "The CSRF token does not match the cookie.")


def reauthenticate(visit: Visit) -> Response:
    return RedirectResponse(sign_in_url(visit.provider.settings, fresh=True), status_code=303)
