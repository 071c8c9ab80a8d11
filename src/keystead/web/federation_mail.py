"""Proving an existing account by mail before an upstream identity is linked to it (issue 22):
the link page's "Email me a link instead" (``POST /federation/link/mail``) and the mailed link
(``/federation/link/confirm``). The link carries nothing in its URL but its token; what it
links is stored with it (accounts/federated.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response

from keystead.accounts import federated
from keystead.accounts.links import link_state
from keystead.web import pages, render
from keystead.web.authorize import _Flow, _guard, _resume
from keystead.web.federation import _masked, _pending_link
from keystead.web.forms import FormPage
from keystead.web.parse import read_form

if TYPE_CHECKING:
    pass


async def link_by_mail(request: Request) -> Response:
    """``POST /federation/link/mail``: prove the account by a link to its verified address
    instead of its password (an account made without one, or a forgotten one)."""

    async def run() -> Response:
        flow = _Flow(request, after_post=True)
        form = dict(await read_form(request))
        _, areq = await _resume(flow, form)
        provider = flow.provider
        connection, who, user = await _pending_link(provider, form.get("upstream", ""))
        if federated.can_mail_link(provider, user):
            await federated.mail_link(provider, connection, who, user, urlencode(areq.pairs))
        context = {
            "title": "Check your mail",
            "message": f"We sent a link to {_masked(user.email)}. Open it to link your "
            f"{connection.display_name} sign-in, then continue with "
            f"{connection.display_name} again.",
        }
        return flow.finish(pages.render("message.html", context))

    return await _guard(request, run, after_post=True)


async def confirm_link(request: Request) -> Response:
    """``/federation/link/confirm?token=…``: the mailed link. Opening it shows a button; only
    the button (a POST) uses it, because mail scanners open links by themselves."""

    async def run() -> Response:
        page = FormPage(request)
        provider = page.provider
        if request.method == "GET":
            token = request.query_params.get("token", "")
            record, problem = await link_state(provider, token, federated.LINK_IDENTITY)
            if problem or record is None:
                return _link_problem(page, problem)
            return page.render("federation_link_confirm.html", {"token": token})
        form = dict(await read_form(request))
        page.check(form)
        problem, name, continue_query = await federated.confirm_mail_link(
            provider, form.get("token", "")
        )
        if problem:
            return _link_problem(page, problem)
        context = {
            "title": "Linked",
            "message": f"Your {name} sign-in is linked to your account: "
            f"“Continue with {name}” now signs you in to it.",
        }
        if continue_query:
            context["action_url"] = provider.settings.url("/authorize") + "?" + continue_query
            context["action"] = "Continue signing in"
        return page.render("message.html", context)

    return await render.guarded(request, run, kind="page", after_post=request.method == "POST")


def _link_problem(page: FormPage, problem: str) -> Response:
    return page.render(
        "message.html",
        {
            "title": "This link does not work",
            "message": f"{problem} Sign in again to get a new one.",
        },
        status=400,
    )
