"""Password reset pages: ask for a link (``/password/forgot``), set a new password from it
(``/password/reset``), then continue to the sign-in that was interrupted, if any."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from keystead.accounts import reset
from keystead.accounts.links import INVITE, RESET, link_state, mail_ready
from keystead.web import render
from keystead.web.forms import FormPage
from keystead.web.parse import read_form

MAX_CONTINUE = 4096


def _continue_query(raw: str) -> str:
    """Only an authorization request's parameters: the reset ends at ``/authorize?`` with
    them, which validates them again (never an open redirect)."""
    if len(raw) > MAX_CONTINUE:
        return ""
    return urlencode(parse_qsl(raw, keep_blank_values=True))


async def forgot(request: Request) -> Response:
    async def run() -> Response:
        page = FormPage(request)
        settings = page.provider.settings
        if not mail_ready(settings):
            return page.render("message.html", _no_mail(), status=503)
        if request.method == "GET":
            query = _continue_query(request.query_params.get("continue", ""))
            return page.render("password_forgot.html", {"continue": query, "error": ""})
        form = dict(await read_form(request))
        page.check(form)
        wait = await reset.wait_for_address(page.provider, page.client_ip)
        if wait:
            context = {
                "continue": _continue_query(form.get("continue", "")),
                "error": f"Too many requests from your network. Try again in {wait} seconds.",
            }
            return page.render(
                "password_forgot.html", context, status=429, headers={"Retry-After": str(wait)}
            )
        response = page.render(
            "message.html",
            {
                "title": "Check your mail",
                "message": "If an account matches what you entered and has an email address, "
                "a link to choose a new password is on its way. It works once, for "
                f"{settings.password_reset_ttl // 60} minutes.",
            },
        )
        # The same answer, at the same speed, whether or not the account exists.
        response.background = BackgroundTask(
            reset.request_reset,
            page.provider,
            form.get("identifier", ""),
            page.client_ip,
            _continue_query(form.get("continue", "")),
        )
        return response

    return await render.guarded(request, run, kind="page", after_post=request.method == "POST")


def _no_mail() -> dict[str, str]:
    return {
        "title": "Password reset is not available",
        "message": "This server cannot send mail, so it cannot send a reset link. Ask its "
        "operator to set your password (`keystead user set-password`), or to configure mail "
        "(KEYSTEAD_SMTP_URL).",
    }


def _problem(page: FormPage, problem: str, purpose: str = RESET) -> Response:
    """Which is wrong with the link, and the way to a new one."""
    if purpose == INVITE:  # only an operator sends invitations
        message = f"{problem} Ask whoever invited you to send a new invitation."
        return page.render(
            "message.html", {"title": "This link does not work", "message": message}, status=400
        )
    return page.render(
        "message.html",
        {
            "title": "This link does not work",
            "message": problem,
            "action_url": page.provider.settings.url("/password/forgot"),
            "action": "Send me a new link",
        },
        status=400,
    )


async def reset_page(request: Request) -> Response:
    """``/password/reset``: a new password from a reset link."""
    return await _password_link(request, RESET, "/password/reset")


async def invitation(request: Request) -> Response:
    """``/invitation``: an invited user's first password."""
    return await _password_link(request, INVITE, "/invitation")


async def _password_link(request: Request, purpose: str, path: str) -> Response:
    async def run() -> Response:
        page = FormPage(request)
        welcome = purpose == INVITE
        context = {"action_url": page.provider.settings.url(path), "welcome": welcome}
        if request.method == "GET":
            # Showing the form does not use the link up (mail scanners open links).
            token = request.query_params.get("token", "")
            _, problem = await link_state(page.provider, token, purpose)
            if problem:
                return _problem(page, problem, purpose)
            return page.render("password_reset.html", {**context, "token": token, "errors": {}})
        form = dict(await read_form(request))
        page.check(form)
        token = form.get("token", "")
        problem, errors, continue_query = await reset.complete_password_link(
            page.provider,
            purpose,
            token,
            form.get("new_password", ""),
            form.get("confirm_password", ""),
        )
        if problem:
            return _problem(page, problem, purpose)
        if errors:
            context |= {"token": token, "errors": errors}
            return page.render("password_reset.html", context, status=400)
        settings = page.provider.settings
        if continue_query:  # on with the sign-in the user had started
            target = settings.url("/authorize") + "?" + continue_query
            return page.finish(RedirectResponse(target, status_code=303))
        return page.render(
            "message.html",
            {
                "title": "Welcome" if welcome else "Your password was changed",
                "message": "Your account is ready. Sign in with your new password."
                if welcome
                else "You were signed out everywhere. Sign in with the new password.",
                "action_url": settings.url("/account"),
                "action": "Sign in",
            },
        )

    return await render.guarded(request, run, kind="page", after_post=request.method == "POST")
