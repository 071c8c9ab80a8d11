"""``/email/verify``: the link mailed to a new address. Opening it shows a button; only the
button (a POST) uses the link, because mail scanners open links by themselves."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from keystead.accounts import email_change
from keystead.accounts.links import VERIFY_EMAIL, link_state
from keystead.web import render
from keystead.web.forms import FormPage
from keystead.web.parse import read_form


async def verify(request: Request) -> Response:
    async def run() -> Response:
        page = FormPage(request)
        settings = page.provider.settings
        if request.method == "GET":
            token = request.query_params.get("token", "")
            record, problem = await link_state(page.provider, token, VERIFY_EMAIL)
            if problem or record is None:
                return _problem(page, problem)
            return page.render("email_verify.html", {"token": token, "email": record.email})
        form = dict(await read_form(request))
        page.check(form)
        problem, user, data = await email_change.verify(page.provider, form.get("token", ""))
        if problem or user is None:
            return _problem(page, problem)
        continue_query = str(data.get("continue") or "")
        if continue_query:  # a sign-up: on to the sign-in it started from
            target = settings.url("/authorize") + "?" + continue_query
            return page.finish(RedirectResponse(target, status_code=303))
        return page.render(
            "message.html",
            {
                "title": "Your address is verified",
                "message": f"{user.email} is now the verified address of {user.username}.",
                "action_url": settings.url("/account"),
                "action": "Go to your account",
            },
        )

    return await render.guarded(request, run, kind="page", after_post=request.method == "POST")


def _problem(page: FormPage, problem: str) -> Response:
    return page.render(
        "message.html",
        {
            "title": "This link does not work",
            "message": f"{problem} Sign in to your account to have a new one sent.",
            "action_url": page.provider.settings.url("/account"),
            "action": "Go to your account",
        },
        status=400,
    )
