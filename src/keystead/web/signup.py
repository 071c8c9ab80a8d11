"""``/signup``: create an account (``KEYSTEAD_SIGNUP=true``), from the login page's "Create
account" or an authorization request with ``prompt=create`` (Prompt Create 1.0), then on to
that sign-in — after the address is verified, when that is required."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from keystead.accounts import signup
from keystead.accounts.links import mail_ready
from keystead.accounts.sessions import create_session
from keystead.errors import OAuthError
from keystead.web import render
from keystead.web.authorize import _set_cookie, session_cookie_name
from keystead.web.forms import FormPage
from keystead.web.parse import read_form
from keystead.web.reset import _continue_query


def _without_create(query: str) -> str:
    """The request to continue with, its prompt=create answered (Prompt Create 1.0 §4)."""
    from urllib.parse import parse_qsl, urlencode

    pairs = []
    for key, value in parse_qsl(query, keep_blank_values=True):
        if key == "prompt":
            value = " ".join(v for v in value.split() if v != "create")
            if not value:
                continue
        pairs.append((key, value))
    return urlencode(pairs)


async def signup_page(request: Request) -> Response:
    async def run() -> Response:
        page = FormPage(request)
        provider = page.provider
        settings = provider.settings
        if not settings.signup:
            raise OAuthError("signup-disabled", "Sign-up is off on this server.")
        if settings.signup_requires_verified_email and not mail_ready(settings):
            raise OAuthError("signup-disabled", "Sign-up needs mail (KEYSTEAD_SMTP_URL).")
        if request.method == "GET":
            query = _without_create(_continue_query(request.query_params.get("continue", "")))
            return page.render("signup.html", {"continue": query, "errors": {}, "form": {}})
        form = dict(await read_form(request))
        page.check(form)
        query = _without_create(_continue_query(form.get("continue", "")))
        wait = await signup.wait_for_address(provider, page.client_ip)
        if wait:
            errors = {"form": f"Too many accounts from your network. Try again in {wait} s."}
            context = {"continue": query, "errors": errors, "form": form}
            return page.render("signup.html", context, status=429)
        user, errors = await signup.sign_up(
            provider,
            username=form.get("username", "").strip(),
            email=form.get("email", "").strip(),
            password=form.get("new_password", ""),
            confirm=form.get("confirm_password", ""),
            name=" ".join(form.get("name", "").split()) or None,
            client_ip=page.client_ip,
            continue_query=query,
        )
        if errors:
            context = {"continue": query, "errors": errors, "form": form}
            return page.render("signup.html", context, status=400)
        if user is None:  # a mail went out: verification (or, for a known address, a reset)
            return page.render(
                "message.html",
                {
                    "title": "Check your mail",
                    "message": "We sent a link to the address you entered. Open it to "
                    "finish creating your account; then sign in.",
                    "status_role": "status",
                },
            )
        cookie, _ = await create_session(  # no verification required: signed in
            provider,
            user,
            user_agent=request.headers.get("user-agent"),
            ip=page.client_ip,
        )
        target = settings.url("/authorize") + "?" + query if query else settings.url("/account")
        response = RedirectResponse(target, status_code=303)
        _set_cookie(response, provider, session_cookie_name(provider), cookie)
        return page.finish(response)

    return await render.guarded(request, run, kind="page", after_post=request.method == "POST")
