"""The CSRF double submit of pages outside the sign-in flow (password reset, links from
mail): the token is the ``keystead_csrf`` cookie's value, echoed by each form; a page sets the
cookie when the browser has none."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response

from keystead.errors import OAuthError
from keystead.secrets_util import random_token, same_text
from keystead.web import pages
from keystead.web.authorize import _set_cookie, csrf_cookie_name

if TYPE_CHECKING:
    from keystead.provider import Provider


class FormPage:
    def __init__(self, request: Request) -> None:
        self.request = request
        self.provider: Provider = request.app.state.provider
        cookie = request.cookies.get(csrf_cookie_name(self.provider)) or ""
        self.csrf, self.new_csrf = cookie or random_token(24), not cookie

    @property
    def client_ip(self) -> str | None:
        return self.request.client.host if self.request.client else None

    def check(self, form: dict[str, str]) -> None:
        if self.new_csrf or not same_text(form.get("csrf_token", ""), self.csrf):
            raise OAuthError("csrf-invalid", "The CSRF token does not match the cookie.")

    def finish(self, response: Response) -> Response:
        if self.new_csrf:
            _set_cookie(response, self.provider, csrf_cookie_name(self.provider), self.csrf)
        return response

    def render(
        self,
        template: str,
        context: dict[str, Any],
        *,
        status: int = 200,
        headers: dict[str, str] | None = None,
    ) -> Response:
        base = {
            "static_url": self.provider.settings.url("/static"),
            "csrf_token": self.csrf,
            "url": self.provider.settings.url,
        }
        page = pages.render(template, {**base, **context}, status=status, headers=headers)
        return self.finish(page)
